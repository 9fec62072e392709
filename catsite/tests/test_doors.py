"""The doors an attacker tries (issue 11): the API takes no HTTP Basic credentials, the login
lockout counts before it checks a password (parallel guesses cannot outrun it) and limits each
client across usernames, X-Forwarded-For entries with ports or brackets name one client, the
public health endpoints tell no versions or paths, /readyz fails while migrations are unapplied,
ONNX Runtime's telemetry is off, and the CSP lets signed Azure media URLs through."""
import base64
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import onnxruntime
import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory
from rest_framework.settings import api_settings

from catsite import admin_lockout
from catsite.security_headers import SecurityHeadersMiddleware
from core.clients import client_key, without_port
from testsupport.editors import STAFF_PASSWORD, STAFF_USERNAME

REPO = Path(__file__).resolve().parents[2]


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


# --- the API: session only -------------------------------------------------------------------
def test_the_api_authenticates_by_session_only():
    names = [cls.__name__ for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    assert names == ["SessionAuthentication"]


@pytest.mark.django_db
def test_basic_credentials_are_ignored_by_the_api(client, staff_user):
    # With DRF's defaults a wrong password answered 403 and the right one 200: an oracle.
    wrong = client.get("/api/species/", HTTP_AUTHORIZATION=basic("editor", "wrong"))
    right = client.get("/api/species/",
                       HTTP_AUTHORIZATION=basic(STAFF_USERNAME, STAFF_PASSWORD))
    assert wrong.status_code == right.status_code == 200
    assert "WWW-Authenticate" not in wrong.headers


# --- the login lockout ------------------------------------------------------------------------
@pytest.fixture
def fresh_cache():
    from django.core.cache import caches

    caches["counters"].clear()
    yield
    caches["counters"].clear()


def request_from(remote: str, forwarded: str | None = None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().post("/admin/login/", REMOTE_ADDR=remote, **headers)


def test_parallel_guesses_cannot_outrun_the_limit(settings, fresh_cache):
    settings.ADMIN_LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_ATTEMPTS_PER_CLIENT = 1000
    request = request_from("192.0.2.50")
    allowed, start = [], threading.Barrier(40)

    def guess():
        start.wait()
        if admin_lockout.count_attempt("editor", request):
            allowed.append(1)

    threads = [threading.Thread(target=guess) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Counted before authenticate(): exactly the limit got to check a password.
    assert len(allowed) == 5


@pytest.mark.django_db
def test_one_client_trying_many_usernames_is_throttled(client, settings, fresh_cache):
    settings.ADMIN_LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_ATTEMPTS_PER_CLIENT = 4
    for n in range(4):
        response = client.post("/admin/login/", {"username": f"user{n}", "password": "x"},
                               REMOTE_ADDR="192.0.2.60")
        assert "Please enter the correct" in response.content.decode()
    response = client.post("/admin/login/", {"username": "user9", "password": "x"},
                           REMOTE_ADDR="192.0.2.60")
    assert "Too many failed logins" in response.content.decode()
    # Another client is not affected.
    response = Client().post("/admin/login/", {"username": "user9", "password": "x"},
                             REMOTE_ADDR="192.0.2.61")
    assert "Please enter the correct" in response.content.decode()


# --- client addresses -------------------------------------------------------------------------
@pytest.mark.parametrize("entry, address", [
    ("203.0.113.7:5678", "203.0.113.7"),
    ("203.0.113.7", "203.0.113.7"),
    ("[2001:db8::1]:443", "2001:db8::1"),
    ("[2001:db8::1]", "2001:db8::1"),
    ("2001:db8::1", "2001:db8::1"),
    (" 203.0.113.7:1 ", "203.0.113.7"),
])
def test_forwarded_entries_lose_their_port_and_brackets(entry, address):
    assert without_port(entry) == address


def test_every_source_port_of_a_client_is_one_client(settings):
    settings.RATE_LIMIT_TRUSTED_PROXIES = 1
    keys = {client_key(request_from("10.0.0.5", f"198.51.100.1, 203.0.113.7:{port}"))
            for port in (1000, 2000, 3000)}
    assert keys == {"203.0.113.7"}
    assert client_key(request_from("10.0.0.5", "[2001:db8:1:2::5]:80")) == "2001:db8:1:2::/64"


# --- health endpoints -------------------------------------------------------------------------
@pytest.mark.django_db
def test_version_tells_no_runtime_versions_unless_allowed(client, settings):
    assert "runtime" not in client.get("/version").json()
    assert "onnxruntime" not in client.get("/version").content.decode()
    settings.HEALTH_SHOW_DETAILS = True
    assert client.get("/version").json()["runtime"]["onnxruntime"] == onnxruntime.__version__


@pytest.mark.django_db
def test_readyz_tells_no_file_paths_unless_allowed(client, settings, no_model):
    settings.MODEL_REQUIRED = True
    body = client.get("/readyz").json()
    assert body["checks"]["model"]["error"] == "no model package is installed"
    assert str(settings.MODEL_DIR) not in json.dumps(body)
    settings.HEALTH_SHOW_DETAILS = True
    assert str(settings.MODEL_DIR) in json.dumps(client.get("/readyz").json())


READYZ = ("from django.test import Client; import json; r = Client().get('/readyz'); "
          "print(json.dumps([r.status_code, r.json()['checks'].get('migrations')]))")


def test_readyz_fails_while_migrations_are_unapplied(tmp_path):
    # A database of its own, in a fresh process (settings are read once): as a deploy whose
    # migration job has not run yet, then has.
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MODEL_"))},
           "DJANGO_SETTINGS_MODULE": "catsite.test_settings", "DJANGO_ALLOWED_HOSTS": "testserver",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"}

    def readyz():
        result = subprocess.run([sys.executable, "manage.py", "shell", "-c", READYZ], cwd=REPO,
                                env=env, capture_output=True, text=True, timeout=120, check=True)
        return json.loads(result.stdout.strip().splitlines()[-1])

    status, migrations = readyz()
    assert status == 503 and migrations["ok"] is False and migrations["unapplied"] > 0
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=REPO, env=env,
                   check=True, capture_output=True, timeout=300)
    assert readyz() == [200, {"ok": True}]


# --- ONNX Runtime telemetry, CSP ---------------------------------------------------------------
def test_onnx_runtime_telemetry_is_switched_off_before_a_session(monkeypatch, model_package_dir):
    from catmodel.inference import load_classifier

    calls = []
    real = onnxruntime.disable_telemetry_events
    monkeypatch.setattr(onnxruntime, "disable_telemetry_events",
                        lambda: (calls.append(1), real())[1])
    load_classifier(model_package_dir, threads=1)
    assert calls


def test_the_csp_allows_the_signed_azure_media_origin(settings):
    settings.MEDIA_ORIGIN = "https://catsitemedia.blob.core.windows.net"
    middleware = SecurityHeadersMiddleware(lambda request: HttpResponse())
    policy = middleware(RequestFactory().get("/"))["Content-Security-Policy"]
    assert "img-src 'self' data: blob: https://catsitemedia.blob.core.windows.net" in policy
    assert "default-src 'self'" in policy


def test_the_media_origin_comes_from_the_storage_settings():
    from catsite.media_storage import azure_media_storage, media_origin

    by_name = azure_media_storage(container="media", account_name="catsitemedia",
                                  account_key="a2V5")["OPTIONS"]
    assert media_origin(by_name) == "https://catsitemedia.blob.core.windows.net"
    emulator = azure_media_storage(
        container="media", connection_string="DefaultEndpointsProtocol=http;AccountName=dev;"
        "AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/dev")["OPTIONS"]
    assert media_origin(emulator) == "http://127.0.0.1:10000"
