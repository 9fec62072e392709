"""Helpers for the model delivery tests: small real packages and snapshots of a model directory."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
from pathlib import Path

from django.core.management import call_command

from catmodel.delivery.install import LOCK_FILE
from catmodel.inference import load_classifier
from testsupport.tiny_package import tiny_onnx, write_package

NAME = "tiny-colours"  # the name tiny_package gives its manifests
REPO = Path(__file__).resolve().parents[1]


def make_package(root: Path, version: str = "1.0.0", *, labels: int | None = None) -> Path:
    """A small real package (a tiny ONNX network and its manifest) in ``root/<version>``.

    ``labels``: a wider network (1000 labels give a 12 kB model.onnx), for downloads in
    several chunks.
    """
    if labels is None:
        return write_package(root / version, version=version)
    names = [f"class {i}" for i in range(labels)]
    return write_package(root / version, tiny_onnx(labels=labels), version=version, labels=names)


def publish(package: Path, *args, **options) -> str:
    """manage.py publish_model in this process; returns its output."""
    out = io.StringIO()
    call_command("publish_model", str(package), *args, stdout=out, **options)
    return out.getvalue()


def fetch(*args, **options) -> str:
    """manage.py fetch_model in this process; returns its output."""
    out = io.StringIO()
    call_command("fetch_model", *args, stdout=out, **options)
    return out.getvalue()


def snapshot(model_dir: Path) -> dict:
    """Everything under a model directory: file bytes, symlink targets, directories. Two equal
    snapshots mean nothing was added, removed, changed or left behind."""
    state = {}
    if not Path(model_dir).exists():
        return state
    for dirpath, dirnames, filenames in os.walk(model_dir):
        for name in dirnames + filenames:
            if name == LOCK_FILE:
                continue  # created empty by the first fetch, only ever locked afterwards
            path = Path(dirpath) / name
            rel = str(path.relative_to(model_dir))
            if path.is_symlink():
                state[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                state[rel] = ("dir",)
            else:
                state[rel] = ("file", path.read_bytes())
    return state


def current_version(model_dir: Path) -> str | None:
    link = Path(model_dir) / "current"
    return Path(os.readlink(link)).name if link.is_symlink() else None


def assert_serves(model_dir: Path, version: str) -> None:
    """``current`` points at ``version`` and the app's loader accepts what is there."""
    assert os.readlink(Path(model_dir) / "current") == f"versions/{version}"
    classifier = load_classifier(Path(model_dir) / "current", threads=1)
    assert classifier.version == version


def run_manage(*args: str, env: dict, preexec_fn=None) -> subprocess.CompletedProcess:
    """manage.py in a child process, as CI and init containers run it: exit status and the
    exact output, logging included."""
    full_env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "catsite.test_settings",
        "PYTHONDONTWRITEBYTECODE": "1",
        **env,
    }
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *args], check=False, cwd=REPO, env=full_env,
        capture_output=True, text=True, timeout=300, preexec_fn=preexec_fn,
    )


def use_azure_store(settings, connection_string: str, **overrides):
    """Point ``settings`` at a new container (own name per test) reached with
    ``connection_string``; tight timeouts so failures come quickly. ``overrides`` win."""
    settings.MODEL_STORE = "azure"
    settings.MODEL_NAME = NAME
    settings.MODEL_STORE_CONTAINER = f"models-{uuid.uuid4().hex[:12]}"
    settings.MODEL_STORE_PREFIX = "catsite"
    settings.AZURE_STORAGE_CONNECTION_STRING = connection_string
    settings.AZURE_STORAGE_ACCOUNT_URL = ""
    settings.AZURE_STORAGE_SAS_TOKEN = ""
    settings.AZURE_USE_DEFAULT_CREDENTIAL = False
    settings.MODEL_STORE_TIMEOUT_SECONDS = 2
    settings.MODEL_STORE_RETRIES = 1
    for key, value in overrides.items():
        setattr(settings, key, value)
    return settings


def degraded_copy(package: Path, root: Path, version: str) -> Path:
    """The real package with every label replaced by "tabby": the same network, a valid package,
    and a model that calls every photo a cat (a deliberately worse model)."""
    import json
    import shutil

    target = root / version
    shutil.copytree(package, target)
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["labels"] = ["tabby"] * len(manifest["labels"])
    manifest["version"] = version
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return target
