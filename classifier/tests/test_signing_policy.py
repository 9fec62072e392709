"""Issue 24 item 10: with debug off and no MODEL_TRUSTED_KEYS the site does not start (and so
never serves an unsigned model) unless MODEL_ALLOW_UNSIGNED=1 says that is deliberate."""
from __future__ import annotations

import re
import subprocess

import pytest

from classifier import runtime
from classifier.signing_policy import REFUSAL, UnsignedRefused
from testsupport.harness import PYTHON, ROOT, GunicornServer, base_env, request


@pytest.fixture
def production_like(settings):
    settings.DEBUG = False
    settings.MODEL_TRUSTED_KEYS = []
    settings.MODEL_ALLOW_UNSIGNED = False
    settings.INFERENCE_URL = ""
    yield settings
    settings.MODEL_ALLOW_UNSIGNED = True
    runtime.load(force=True)


def test_loading_the_model_is_refused_every_time_until_allowed(production_like, model_package_dir,
                                                              tmp_path):
    model_dir = tmp_path / "model"
    (model_dir / "versions").mkdir(parents=True)
    (model_dir / "versions" / "1.0.0").symlink_to(model_package_dir, target_is_directory=True)
    (model_dir / "current").symlink_to("versions/1.0.0")
    production_like.MODEL_DIR = model_dir
    for _ in range(2):  # a refusal is never remembered as a quiet "no model"
        with pytest.raises(UnsignedRefused, match=f"^{re.escape(REFUSAL)}$"):
            runtime.load(force=True)
        with pytest.raises(UnsignedRefused):
            runtime.load()
    production_like.MODEL_ALLOW_UNSIGNED = True
    assert runtime.load(force=True).version == "1.0.0"


def test_gunicorn_refuses_to_start_with_one_line_saying_what_to_set(tmp_path):
    # No database or static files needed: the refusal comes first, and an unmigrated site
    # that is up answers /readyz with 503, which counts as started.
    env = base_env(tmp_path)
    refused = GunicornServer({**env, "MODEL_ALLOW_UNSIGNED": "0"}, workers=1, threads=1)
    try:
        with pytest.raises(RuntimeError, match="gunicorn exited with") as exited:
            refused.start()
    finally:
        refused.stop()  # had it started after all
    assert REFUSAL in str(exited.value)
    assert "Worker failed to boot" in str(exited.value)  # the master stopped, no restart loop
    with GunicornServer({**env, "MODEL_ALLOW_UNSIGNED": "1"}, workers=1, threads=1) as allowed:
        assert request("GET", allowed.url + "/healthz")[0] == 200


def test_serve_model_refuses_with_one_line(tmp_path):
    env = {**base_env(tmp_path), "MODEL_ALLOW_UNSIGNED": "0"}
    result = subprocess.run([PYTHON, "manage.py", "serve_model", "--port", "1"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == f"UnsignedRefused: {REFUSAL}"
