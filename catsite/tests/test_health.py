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
    assert response.json()["checks"]["model"] == {"ok": True, "loaded": True, "required": True}


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
