"""Fixtures for the deployment tests: the CI tools (helm, validators) and chart rendering.

The tools are installed by deploy/ci/install-tools.sh (idempotent, cached outside the clone),
so these tests run on a fresh machine too instead of skipping.
"""
import os
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "deploy" / "ci"
CHART = ROOT / "deploy" / "helm" / "catsite"
DIGEST = "sha256:" + "ab" * 32


@pytest.fixture(scope="session")
def tools_env():
    """An environment whose PATH has helm and the validators first."""
    installed = subprocess.run([str(CI / "install-tools.sh"), "--no-container"],
                               capture_output=True, text=True)
    if installed.returncode != 0:
        pytest.fail("deploy/ci/install-tools.sh failed:\n" + installed.stdout[-2000:]
                    + installed.stderr[-3000:], pytrace=False)
    script = f'source "{CI}/lib.sh"; use_tools; printf %s "$PATH"'
    path = subprocess.run(["bash", "-c", script], check=True, capture_output=True,
                          text=True).stdout
    return {**os.environ, "PATH": path}


@pytest.fixture(scope="session")
def render(tools_env):
    """render(*helm args) -> list of the rendered objects (dicts)."""

    def _render(*args, kube_version="1.34.0"):
        result = subprocess.run(
            ["helm", "template", "catsite", str(CHART), "--namespace", "catsite",
             "--kube-version", kube_version, *args],
            env=tools_env, capture_output=True, text=True,
        )
        if result.returncode != 0:
            raise AssertionError(result.stderr)
        return [doc for doc in yaml.safe_load_all(result.stdout) if doc]

    return _render


def is_hook(obj):
    return "helm.sh/hook" in (obj["metadata"].get("annotations") or {})


def by_kind(objects, kind, hooks=False):
    """The objects of one kind: the release's own, or with hooks=True its hooks."""
    return [obj for obj in objects if obj["kind"] == kind and is_hook(obj) == hooks]


def one(objects, kind, hooks=False):
    found = by_kind(objects, kind, hooks)
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]
