"""Model delivery through an MLflow model registry, against a real ``mlflow server`` (SQLite and
PostgreSQL backends, local artifact store served through the server). The store contract tests
(test_delivery_stores.py) run on it too; these cover what is MLflow's own: what the registry
shows, MLflow tools loading ``models:/NAME@champion``, a tampered artifact, the server killed
mid-download. Checks on what is in the registry use MLflow's client directly, not our code."""
from __future__ import annotations

import hashlib
import json
import os
import signal

import pytest
from django.core.management import CommandError
from mlflow import MlflowClient

from catmodel.delivery.errors import StoreUnreachable
from catmodel.delivery.fetch import fetch_model
from catmodel.delivery.progress import NoProgress
from catmodel.delivery.store_choice import store_from_settings
from testsupport.delivery import (
    NAME,
    assert_serves,
    fetch,
    make_package,
    publish,
    run_manage,
    snapshot,
)
from testsupport.mlflow_server import use_mlflow_store

pytestmark = pytest.mark.mlflow


@pytest.fixture
def registry(settings, mlflow_servers, tmp_path):
    settings.MODEL_DIR = tmp_path / "model"
    use_mlflow_store(settings, mlflow_servers, NAME)
    return mlflow_servers


def client(settings) -> MlflowClient:
    return MlflowClient(tracking_uri=settings.MLFLOW_TRACKING_URI,
                        registry_uri=settings.MLFLOW_TRACKING_URI)


def test_round_trip_and_what_the_registry_shows(registry, settings, tmp_path):
    package = make_package(tmp_path / "build", "1.0.0")
    output = publish(package, "--alias", "challenger")
    assert f"Published tiny-colours 1.0.0 (unsigned) to MLflow registry at {registry.url}" in output
    assert "latest is now 1.0.0; challenger is now 1.0.0" in output

    model = settings.MLFLOW_REGISTERED_MODEL
    registered = client(settings).get_model_version_by_alias(model, "challenger")
    onnx = (package / "model.onnx").read_bytes()
    assert registered.tags == {"catsite.version": "1.0.0", "catsite.signature": "absent",
                               "catsite.sha256.model.onnx": hashlib.sha256(onnx).hexdigest()}
    assert client(settings).get_model_version_by_alias(model, "latest-published").version == (
        registered.version)

    assert "current: nothing -> 1.0.0" in fetch("--version", "challenger")
    assert_serves(settings.MODEL_DIR, "1.0.0")
    installed = settings.MODEL_DIR / "versions" / "1.0.0"
    assert sorted(p.name for p in installed.iterdir()) == ["manifest.json", "model.onnx"]
    assert (installed / "model.onnx").read_bytes() == onnx


def test_aliases_resolve_for_fetch_model_and_for_mlflow_tools(registry, settings, tmp_path,
                                                              monkeypatch):
    env = {"MODEL_STORE": "mlflow", "MLFLOW_TRACKING_URI": registry.url, "MODEL_NAME": NAME,
           "MLFLOW_REGISTERED_MODEL": settings.MLFLOW_REGISTERED_MODEL,
           "MODEL_DIR": str(settings.MODEL_DIR), "MODEL_STORE_RETRIES": "0"}
    publish(make_package(tmp_path / "build", "1.0.0"))
    missing = run_manage("fetch_model", "--version", "champion", env=env)
    assert missing.returncode == 1
    assert missing.stderr.count("\n") == 1, missing.stderr  # one line
    assert missing.stderr.startswith(f"CommandError: model tiny-colours has no 'champion' in "
                                     f"MLflow registry at {registry.url}: point it at a version")

    publish(make_package(tmp_path / "build", "2.0.0"))
    publish("--promote", "1.0.0", "--alias", "champion", "--force")
    assert "current: nothing -> 1.0.0" in fetch("--version", "champion")
    assert "current: 1.0.0 -> 2.0.0" in fetch()  # latest
    assert "current: 2.0.0 -> 1.0.0" in fetch("--version", "1.0.0")

    # MLflow's own tools, configured as data scientists configure them, see the same alias and
    # the same files.
    import mlflow.artifacts

    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry.url)
    mlflow.artifacts.download_artifacts(
        f"models:/{settings.MLFLOW_REGISTERED_MODEL}@champion", dst_path=str(tmp_path / "tool"))
    assert json.loads((tmp_path / "tool" / "manifest.json").read_text())["version"] == "1.0.0"


def test_a_tampered_artifact_is_refused_and_the_installed_model_stays(registry, settings,
                                                                      tmp_path):
    publish(make_package(tmp_path / "build", "1.0.0"))
    fetch()
    installed = snapshot(settings.MODEL_DIR)
    publish(make_package(tmp_path / "build", "2.0.0"))
    run_id = client(settings).get_model_version_by_alias(
        settings.MLFLOW_REGISTERED_MODEL, "latest-published").run_id
    (stored,) = [p for p in registry.artifacts.rglob("model.onnx") if run_id in p.parts]
    data = bytearray(stored.read_bytes())
    data[100] ^= 0x01  # same size, one bit changed, behind the registry's back
    stored.write_bytes(bytes(data))
    with pytest.raises(CommandError, match=r"model.onnx of tiny-colours 2.0.0 from MLflow "
                                           r"registry .* has sha256 .* tampered with"):
        fetch()
    assert snapshot(settings.MODEL_DIR) == installed
    assert_serves(settings.MODEL_DIR, "1.0.0")


@pytest.mark.slow
def test_server_killed_mid_download(settings, private_mlflow_server, model_package_dir,
                                    tmp_path):
    """The real model (18.5 MB) streams in 1 MB chunks; the server dies after the first."""
    manifest = json.loads((model_package_dir / "manifest.json").read_text())
    settings.MODEL_DIR = tmp_path / "model"
    use_mlflow_store(settings, private_mlflow_server, manifest["name"])
    publish(model_package_dir, "--version", "1.0.0")
    fetch()
    installed = snapshot(settings.MODEL_DIR)
    publish(model_package_dir, "--version", "2.0.0")
    seen = []

    class KillAfterFirstChunk(NoProgress):
        def update(self, done, total):
            seen.append(done)
            if len(seen) == 1:
                # A crash, not a graceful stop: uvicorn would finish the response it is sending.
                os.killpg(private_mlflow_server.process.pid, signal.SIGKILL)
                private_mlflow_server.process.wait()

    with pytest.raises(StoreUnreachable, match=r"^cannot reach MLflow registry at .* when "
                                               r"downloading .*model.onnx") as error:
        fetch_model(store_from_settings(settings), manifest["name"], settings.MODEL_DIR,
                    progress=lambda label: KillAfterFirstChunk())
    assert "\n" not in str(error.value)
    assert seen[0] < manifest["files"]["model.onnx"]["bytes"]  # it did stop in the middle
    assert snapshot(settings.MODEL_DIR) == installed
    assert_serves(settings.MODEL_DIR, "1.0.0")


def test_an_unreachable_registry_fails_in_one_line(settings, tmp_path):
    import socket

    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_manage("fetch_model", env={
        "MODEL_STORE": "mlflow", "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{port}",
        "MODEL_DIR": str(tmp_path / "model"), "MODEL_STORE_RETRIES": "0",
        "MODEL_STORE_TIMEOUT_SECONDS": "2"})
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"CommandError: cannot reach MLflow registry at "
                                    f"http://127.0.0.1:{port} when reading"), result.stderr
    settings.MODEL_STORE, settings.MLFLOW_TRACKING_URI = "mlflow", ""
    with pytest.raises(CommandError, match="MODEL_STORE is 'mlflow' but MLFLOW_TRACKING_URI is "
                                           "not set"):
        fetch()


def test_a_signed_package_round_trips_and_the_registry_says_so(registry, settings, tmp_path):
    """Package signing (issue 11) through the registry: model.sig travels as an artifact, the
    version's tag says a signature is there, and fetch_model checks it with the trusted key."""
    from testsupport.signing import key_pair

    private, public = key_pair(tmp_path, "key")
    output = publish(make_package(tmp_path / "build", "1.0.0"), "--signing-key", str(private),
                     "--alias", "challenger")
    assert "Published tiny-colours 1.0.0 (signed)" in output
    registered = client(settings).get_model_version_by_alias(settings.MLFLOW_REGISTERED_MODEL,
                                                             "challenger")
    assert registered.tags["catsite.signature"] == "present"
    settings.MODEL_TRUSTED_KEYS = [str(public)]
    assert "downloaded 3 files" in fetch("--version", "challenger")
    assert (settings.MODEL_DIR / "versions" / "1.0.0" / "model.sig").is_file()
    assert_serves(settings.MODEL_DIR, "1.0.0")
