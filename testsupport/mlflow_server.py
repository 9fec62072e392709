"""A real MLflow tracking server for tests (``mlflow server`` from the dev role), with a
local artifact store served through it (--serve-artifacts), on a free local port.

Fixtures (a pytest plugin, see the root conftest.py):
    mlflow_server           one server for the session, SQLite backend (tests use their own
                            registered model names)
    mlflow_server_postgres  one server for the session on a PostgreSQL database of its own
                            (made on TEST_POSTGRES_URL's server, dropped afterwards)
    mlflow_servers          both, as a parameter: the same test on each backend
    private_mlflow_server   a SQLite server of one test's own, for tests that stop it

Ready when /health answers (polled for up to MLFLOW_START_SECONDS, default 120: on a busy
2-core machine it took up to 100 s). Stopped by process group: the server starts uvicorn
workers.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from testsupport.components import (
    POSTGRES_SERVER_URL,
    missing_component,
    postgres_admin_connection,
)
from testsupport.processes import stop_process_group


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MlflowServer:
    def __init__(self, workdir: Path, backend_uri: str | None = None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.artifacts = self.workdir / "artifacts"
        self.backend_uri = backend_uri or f"sqlite:///{self.workdir / 'mlflow.db'}"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.workdir / "server.log"
        binary = Path(sys.executable).parent / "mlflow"
        if not binary.exists():
            missing_component("the MLflow server is not installed in this environment",
                              "pip install -r requirements/dev.txt (scripts/lib.sh ensure_venv)")
        command = [str(binary), "server", "--host", "127.0.0.1",
                   "--port", str(self.port), "--workers", "1",
                   "--backend-store-uri", self.backend_uri,
                   "--artifacts-destination", str(self.artifacts), "--serve-artifacts"]
        # No background job runner (huey consumers): a registry needs none, and it doubles the
        # start-up time on a busy machine.
        env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=env, start_new_session=True)
        self._wait_healthy(float(os.environ.get("MLFLOW_START_SECONDS", "120")))

    def _wait_healthy(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"mlflow server did not answer /health within {seconds:g} s "
                           f"(MLFLOW_START_SECONDS):\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        stop_process_group(self.process)


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    server = MlflowServer(tmp_path_factory.mktemp("mlflow"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mlflow_server_postgres(tmp_path_factory):
    database = f"mlflow_{uuid.uuid4().hex[:10]}"
    with postgres_admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    # SQLAlchemy's driver for psycopg 3 (the one installed), on the same server.
    server_url = POSTGRES_SERVER_URL.rsplit("/", 1)[0].split("://", 1)[1]
    try:
        server = MlflowServer(tmp_path_factory.mktemp("mlflow-pg"),
                              f"postgresql+psycopg://{server_url}/{database}")
        yield server
        server.stop()
    finally:
        with postgres_admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def mlflow_servers(request):
    return request.getfixturevalue(
        "mlflow_server" if request.param == "sqlite" else "mlflow_server_postgres")


@pytest.fixture
def private_mlflow_server(tmp_path_factory):
    server = MlflowServer(tmp_path_factory.mktemp("mlflow-private"))
    yield server
    server.stop()


def use_mlflow_store(settings, server: MlflowServer, name: str, **overrides):
    """Point ``settings`` at ``server`` with a registered model of the test's own; tight
    timeouts so failures come quickly. ``overrides`` win."""
    settings.MODEL_STORE = "mlflow"
    settings.MODEL_NAME = name
    settings.MODEL_STORE_PREFIX = ""
    settings.MLFLOW_TRACKING_URI = server.url
    settings.MLFLOW_REGISTERED_MODEL = f"{name}-{uuid.uuid4().hex[:8]}"
    settings.MODEL_STORE_TIMEOUT_SECONDS = 5
    settings.MODEL_STORE_RETRIES = 1
    for key, value in overrides.items():
        setattr(settings, key, value)
    return settings
