"""A missing real component fails the run with how to get it; CATSITE_ALLOW_SKIP=1 (a
developer's explicit partial run) makes it a skip. Checked on the real fixtures, in a child
pytest run on a tiny sample, with each component pointed at a port where nothing listens."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from testsupport.components import ALLOW_SKIP, missing_component

REPO = Path(__file__).resolve().parents[1]
SAMPLE = '''
def test_needs_redis(redis_url):
    pass


def test_needs_azurite(azurite):
    pass
'''


def closed_port() -> int:
    """A local port with nothing listening on it (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_sample(tmp_path, allow_skip: bool | None, **env) -> subprocess.CompletedProcess:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    child_env = {key: value for key, value in os.environ.items()
                 if key not in (ALLOW_SKIP, "DATABASE_URL")}
    child_env.update(PYTHONPATH=str(REPO), TEST_REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0",
                     AZURITE_BLOB=str(tmp_path / "no-azurite-here"), **env)
    if allow_skip is not None:
        child_env[ALLOW_SKIP] = "1" if allow_skip else "0"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-c", os.devnull, "--rootdir", str(tmp_path),
         "-p", "no:cacheprovider", "-p", "no:django", "-p", "testsupport.components",
         "-p", "testsupport.azurite", "-rfEs", str(tmp_path / "test_sample.py")],
        cwd=tmp_path, env=child_env, capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize("allow_skip", [None, False])
def test_by_default_a_missing_redis_or_azurite_fails_with_how_to_get_it(tmp_path, allow_skip):
    result = run_sample(tmp_path, allow_skip)
    assert result.returncode == 1, result.stdout + result.stderr
    # A fixture that fails makes its test an error: the run fails either way.
    assert result.stdout.strip().splitlines()[-1].strip("= ").startswith("2 errors in")
    assert "Redis is not reachable" in result.stdout
    assert "redis-server --daemonize yes" in result.stdout  # the command that starts it
    assert "Azurite is not installed" in result.stdout
    assert "run scripts/install-azurite.sh" in result.stdout
    assert f"set {ALLOW_SKIP}=1" in result.stdout


def test_the_switch_makes_them_skips_with_the_same_message(tmp_path):
    result = run_sample(tmp_path, allow_skip=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].strip("= ").startswith("2 skipped in")
    assert "SKIPPED" in result.stdout and "redis-server --daemonize yes" in result.stdout
    assert "run scripts/install-azurite.sh" in result.stdout
    assert f"{ALLOW_SKIP}=1: tests whose component is missing are skipped" in result.stdout


@pytest.mark.parametrize("allow_skip", [False, True])
def test_an_unreachable_postgresql_stops_the_run_even_with_the_switch(tmp_path, allow_skip):
    url = f"postgres://postgres@127.0.0.1:{closed_port()}/catsite"
    result = run_sample(tmp_path, allow_skip, DATABASE_URL=url)
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "PostgreSQL is not reachable at DATABASE_URL" in output
    assert "pg_ctlcluster --skip-systemctl-redirect" in output
    assert "passed" not in output and "skipped" not in output


def test_missing_component_fails_or_skips_by_the_switch(monkeypatch):
    monkeypatch.delenv(ALLOW_SKIP, raising=False)
    with pytest.raises(pytest.fail.Exception, match="Chromium is missing: install it"):
        missing_component("Chromium is missing", "install it")
    monkeypatch.setenv(ALLOW_SKIP, "1")
    with pytest.raises(pytest.skip.Exception, match="Chromium is missing: install it"):
        missing_component("Chromium is missing", "install it")
    monkeypatch.setenv(ALLOW_SKIP, "yes")  # only "1" switches it on: no guessing
    with pytest.raises(pytest.fail.Exception):
        missing_component("Chromium is missing", "install it")
