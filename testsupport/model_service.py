"""``manage.py serve_model`` run for real: its own process on a free loopback port.

    with ModelService(model_dir, workdir) as service:   # ready when its model is ready
        service.url, service.address ("127.0.0.1:PORT", what tritonclient takes), service.pid
    photos_input(jpeg, png, ...)   # tritonclient's input of encoded photos
"""
from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Self

import numpy as np
import tritonclient.http as triton

from catmodel.serving.tensors import IMAGES
from testsupport.harness import PYTHON, ROOT, base_env, free_port
from testsupport.processes import stop_process_group


class ModelService:
    def __init__(self, model_dir: Path, workdir: Path, timeout: float = 60.0,
                 port: int | None = None, **env):
        """``port``: a given port (to start a service again where it was), else a free one;
        ``env``: settings for the service (UPLOAD_MAX_BYTES=...)."""
        self.env = {**base_env(Path(workdir)), "MODEL_DIR": str(model_dir),
                    **{key: str(value) for key, value in env.items()}}
        self.log_path = Path(workdir) / f"serve_model-{time.monotonic_ns()}.log"
        self.timeout = timeout
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.address}"
        self.process: subprocess.Popen | None = None
        # Ready when the model is: /v2/models/<name>/ready, what the chart's probe asks (the
        # server's /v2/health/ready says nothing about a model that is not loaded).
        manifest = json.loads((Path(model_dir) / "current" / "manifest.json").read_text())
        self.model_name = manifest["name"]

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self) -> Self:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [PYTHON, "manage.py", "serve_model", "--host", "127.0.0.1",
                 "--port", str(self.port)],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve_model exited with {self.process.returncode}:\n"
                                   + self.logs())
            try:
                with urllib.request.urlopen(
                        f"{self.url}/v2/models/{self.model_name}/ready", timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except (OSError, urllib.error.HTTPError):
                pass
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"serve_model not ready after {self.timeout} s:\n{self.logs()}")

    def stop(self) -> None:
        if self.process is not None:
            stop_process_group(self.process, grace_seconds=10)

    def logs(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError:
            return ""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def photos_input(*encoded: bytes) -> triton.InferInput:
    """Encoded photos as the service's BYTES input, in the binary data extension."""
    tensor = triton.InferInput(IMAGES, [len(encoded)], "BYTES")
    tensor.set_data_from_numpy(np.array(encoded, dtype=object))
    return tensor
