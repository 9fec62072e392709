"""Fixtures for the deployment tests: the CI tools (helm, validators) and chart rendering.

The tools are installed by deploy/ci/install-tools.sh (idempotent, cached outside the clone),
so these tests run on a fresh machine too instead of skipping.
"""
import os
import subprocess

import pytest
import yaml

from tests.container.chart_support import CHART, CI, ROOT
from testsupport.components import missing_component


@pytest.fixture(scope="session")
def tools_env():
    """An environment whose PATH has helm and the validators first."""
    installed = subprocess.run([str(CI / "install-tools.sh"), "--no-container"],
                               capture_output=True, text=True)
    if installed.returncode != 0:
        missing_component("deploy/ci/install-tools.sh failed:\n" + installed.stdout[-2000:]
                          + installed.stderr[-3000:], "install helm and the validators with it")
    script = f'source "{ROOT}/scripts/lib.sh"; use_tools; printf %s "$PATH"'
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
