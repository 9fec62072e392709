"""/healthz, /readyz and /version: the endpoints Kubernetes probes and operators read."""
import platform
from importlib import metadata
from unittest import mock

import django
import pytest
from django.db import DatabaseError, connection

from catsite import __version__
from classifier import runtime

pytestmark = pytest.mark.django_db


@pytest.fixture
def model_dir(settings, tmp_path):
    """An empty model folder, with the process-wide model state reset before and after, so
    each test decides whether a package is installed."""
    saved = dict(runtime._state)
    settings.MODEL_DIR = tmp_path / "model"
    settings.MODEL_DIR.mkdir()
    runtime._state.update(attempted=False, classifier=None, error=None)
    yield settings.MODEL_DIR
    runtime._state.clear()
    runtime._state.update(saved)


@pytest.fixture
def installed_tiny_package(model_dir):
    """A tiny but real ONNX model package in MODEL_DIR/current (testsupport/tiny_package);
    not the real model that the ``installed_model`` fixture installs."""
    from testsupport.tiny_package import write_package

    return write_package(model_dir / "current")


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_healthz_does_not_load_the_model(client, model_dir):
    assert client.get("/healthz").status_code == 200
    assert runtime._state["attempted"] is False


def test_health_endpoints_only_answer_reads(client):
    for url in ("/healthz", "/readyz", "/version"):
        assert client.post(url).status_code == 405


def test_readyz_is_ready_with_a_database_and_no_model_required(client, settings, model_dir):
    settings.MODEL_REQUIRED = False
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["ready"] is True
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["model"]["ok"] is True and body["checks"]["model"]["loaded"] is False


def test_readyz_is_not_ready_when_the_database_fails(client, settings, model_dir):
    settings.MODEL_REQUIRED = False
    # The real outage (a stopped database) is outside a unit test's reach; make the cursor fail.
    with mock.patch.object(connection, "cursor", side_effect=DatabaseError("connection refused")):
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False
    assert body["checks"]["database"] == {"ok": False, "error": "DatabaseError"}
    assert "connection refused" not in response.content.decode()  # no internals leak out


def test_readyz_is_not_ready_while_migrations_are_unapplied(client, settings, model_dir):
    from django.db.migrations.recorder import MigrationRecorder

    settings.MODEL_REQUIRED = False
    assert client.get("/readyz").json()["checks"]["migrations"] == {"ok": True}
    # As if the species data migration had not run yet (the test's transaction undoes it).
    MigrationRecorder.Migration.objects.filter(app="species").exclude(name="0001_initial").delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["migrations"]["ok"] is False
    assert body["checks"]["migrations"]["unapplied"] >= 1


def test_readyz_is_not_ready_when_a_required_model_is_missing(client, settings, model_dir):
    settings.MODEL_REQUIRED = True
    response = client.get("/readyz")
    assert response.status_code == 503
    model = response.json()["checks"]["model"]
    assert model["ok"] is False and model["loaded"] is False and model["required"] is True
    assert model["error"] == "no model package is installed"  # no path: see test_doors
    assert response.json()["checks"]["database"]["ok"] is True


def test_readyz_is_not_ready_when_the_required_model_is_broken(client, settings, model_dir):
    from testsupport.tiny_package import write_package

    package = write_package(model_dir / "current")
    (package / "model.onnx").write_bytes(b"corrupted")  # no longer matches its sha256
    settings.MODEL_REQUIRED = True
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["model"]["error"]


def test_readyz_is_ready_when_the_required_model_is_installed(client, settings,
                                                              installed_tiny_package):
    settings.MODEL_REQUIRED = True
    response = client.get("/readyz")
    assert response.status_code == 200
    model = response.json()["checks"]["model"]
    assert model.pop("warm_up_ms") > 0  # the milliseconds of its warm-up inference
    assert model == {"ok": True, "loaded": True, "required": True}


def test_version_reports_the_app_the_runtime_and_no_model(client, settings, model_dir):
    settings.APP_REVISION = "0123abc"
    settings.HEALTH_SHOW_DETAILS = True  # runtime versions are not public by default
    body = client.get("/version").json()
    assert body["app"] == {"version": __version__, "revision": "0123abc"}
    assert body["runtime"] == {
        "python": platform.python_version(),
        "django": django.get_version(),
        "onnxruntime": metadata.version("onnxruntime"),
    }
    assert body["model"] == {"name": None, "version": None, "loaded": False, "service": False}


def test_version_without_a_known_revision(client, settings, model_dir, tmp_path):
    settings.APP_REVISION = ""
    settings.BASE_DIR = tmp_path  # not a checkout: no .git to read
    assert client.get("/version").json()["app"]["revision"] is None


def test_version_names_the_installed_model(client, installed_tiny_package):
    body = client.get("/version").json()
    assert body["model"] == {"name": "tiny-colours", "version": "0.0.1", "loaded": True,
                             "service": False}


def test_version_reports_the_checkouts_git_revision(client, settings):
    import os
    import subprocess

    if os.environ.get("APP_REVISION"):
        pytest.skip("APP_REVISION is set explicitly")
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                          cwd=settings.BASE_DIR, check=False)
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    assert client.get("/version").json()["app"]["revision"] == head.stdout.strip()


# --- warm starts: ready only after the warm-up inferences (classifier/runtime.py) -------------

@pytest.fixture
def challenger(monkeypatch, tmp_path):
    """Set a challenger for shadow scoring (this process's Shadow, restored afterwards); the
    package is written by the test into the returned folder's ``current``."""
    from classifier import shadow

    folder = tmp_path / "challenger"
    the_shadow = shadow.Shadow(folder, 1.0)
    monkeypatch.setattr(shadow, "_shadow", the_shadow)
    return the_shadow


def test_readyz_is_503_warming_up_until_the_model_and_the_challenger_are_warm(
        client, settings, model_dir, challenger):
    import threading
    import time

    from testsupport.tiny_package import write_package

    settings.MODEL_REQUIRED = True
    write_package(model_dir / "current")
    write_package(challenger.challenger_dir / "current", version="0.0.2")
    # The start-up load in a thread of its own, as a worker runs it before it takes traffic,
    # held where the challenger loads (its lock taken here): the champion may have loaded and
    # warmed up, the challenger not yet.
    with challenger._load_lock:
        loader = threading.Thread(target=runtime.load, daemon=True)
        loader.start()
        deadline = time.monotonic() + 30
        while not runtime._state["loading"] and time.monotonic() < deadline:
            time.sleep(0.001)
        warming = client.get("/readyz")  # answers at once: never waits for the load
        assert loader.is_alive()
    loader.join(timeout=60)
    assert warming.status_code == 503
    model = warming.json()["checks"]["model"]
    assert model["ok"] is False and model["warming_up"] is True
    assert model["error"].startswith("warming up")
    assert "challenger" not in warming.json()["checks"]  # said once the load is over

    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.content
    checks = ready.json()["checks"]
    assert checks["model"]["warm_up_ms"] > 0 and "warming_up" not in checks["model"]
    assert checks["challenger"] == {"ok": True, "loaded": True}
    # Both warm-up inferences ran: the networks' own answers on the warm-up photo.
    assert runtime._state["classifier"].warmed_up.top[0].label == "bright"
    assert challenger._challenger.warmed_up.top[0].label == "bright"
    assert challenger._challenger.version == "0.0.2"


def test_a_model_that_fails_its_warm_up_is_not_ready_with_the_error(client, settings, model_dir,
                                                                    caplog):
    from testsupport.tiny_package import tiny_onnx, write_package

    # log(-mean): NaN on the mid-grey warm-up photo.
    write_package(model_dir / "current", model=tiny_onnx(unary_ops=["Neg", "Log"]))
    settings.MODEL_REQUIRED = True
    settings.HEALTH_SHOW_DETAILS = True
    response = client.get("/readyz")
    assert response.status_code == 503
    model = response.json()["checks"]["model"]
    assert model["loaded"] is False and "finite logits" in model["error"]
    assert "failed to load" in caplog.text and "finite logits" in caplog.text


def test_a_challenger_that_fails_its_warm_up_degrades_but_never_makes_the_site_unready(
        client, settings, model_dir, challenger, caplog):
    from testsupport.tiny_package import tiny_onnx, write_package

    write_package(model_dir / "current")
    write_package(challenger.challenger_dir / "current",
                  model=tiny_onnx(unary_ops=["Neg", "Log"]))
    settings.MODEL_REQUIRED = True
    settings.HEALTH_SHOW_DETAILS = True
    response = client.get("/readyz")
    # The champion serves: the broken candidate is reported, off the response path.
    assert response.status_code == 200
    body = response.json()
    assert body["degraded"] is True
    assert body["checks"]["model"]["ok"] is True
    assert body["checks"]["challenger"]["loaded"] is False
    assert "finite logits" in body["checks"]["challenger"]["error"]
    assert "Shadow scoring off" in caplog.text and not challenger.enabled
    # Without details the public answer names no internals.
    settings.HEALTH_SHOW_DETAILS = False
    assert client.get("/readyz").json()["checks"]["challenger"]["error"] == (
        "the challenger failed to load")
