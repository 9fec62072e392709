"""The database goes away under a running site, then comes back.

A dedicated PostgreSQL database on 127.0.0.1:5432 (TEST_POSTGRES_URL names the server) is made
unavailable with ALTER DATABASE ... ALLOW_CONNECTIONS false plus terminating its connections:
/readyz says not ready, pages answer a friendly 503 page (never a traceback), the API answers
its JSON error, /healthz stays up; when connections are allowed again the site recovers by
itself.
"""
from __future__ import annotations

import os
import time
import uuid

import pytest

from testsupport import images
from testsupport.components import POSTGRES_START, missing_component
from testsupport.harness import GunicornServer, multipart, prepare_site, request

pytestmark = pytest.mark.slow

SERVER_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PAGES = ["/", "/species/", "/species/domestic-tabby/", "/species/?q=tiger"]


def admin_connection():
    import psycopg

    try:
        return psycopg.connect(SERVER_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        missing_component(f"PostgreSQL is not reachable at TEST_POSTGRES_URL={SERVER_URL} ({exc})",
                          f"start it with {POSTGRES_START}")


@pytest.fixture(scope="module")
def database():
    name = f"catsite_faults_{uuid.uuid4().hex[:8]}"
    with admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with admin_connection() as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def set_available(name: str, available: bool) -> None:
    with admin_connection() as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(available).lower()}')
        if not available:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))


@pytest.fixture(scope="module")
def server(tmp_path_factory, database):
    base = SERVER_URL.rsplit("/", 1)[0]
    site = prepare_site(tmp_path_factory.mktemp("db-site"), database_url=f"{base}/{database}")
    env = site.with_env(MODEL_REQUIRED=1, IDENTIFY_RATE_LIMIT="off")
    with GunicornServer(env, workers=2, threads=2) as running:
        running.wait_workers(2)
        yield running


def get(server, path):
    status, headers, body = request("GET", server.url + path)
    return status, headers, body.decode(errors="replace")


def classify(server):
    body, content_type = multipart("image", "cat.jpg", images.jpeg(images.chelsea()))
    status, headers, answer = request("POST", server.url + "/api/classify/", body,
                                      {"Content-Type": content_type})
    return status, headers, answer.decode(errors="replace")


def wait_for(check, seconds=20.0):
    deadline = time.monotonic() + seconds
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def test_database_outage_and_recovery(server, database):
    # Up: everything answers.
    assert get(server, "/readyz")[0] == 200
    for path in PAGES:
        assert get(server, path)[0] == 200, path
    assert classify(server)[0] == 200

    set_available(database, False)
    try:
        # Every worker notices: ask often enough to reach both.
        assert wait_for(lambda: all(get(server, "/readyz")[0] == 503 for _ in range(4)))
        status, _, body = get(server, "/readyz")
        assert '"database": {"ok": false' in body
        for _ in range(2):  # both workers
            for path in PAGES:
                status, headers, html = get(server, path)
                assert status == 503, (path, html[:300])
                assert headers.get("Retry-After") == "30"
                assert "catsite is back in a moment" in html
                assert "Traceback" not in html and "OperationalError" not in html
            status, _, body = get(server, "/api/species/")
            assert status == 503 and '"code":"service_unavailable"' in body.replace(" ", "")
            status, _, body = classify(server)
            assert status == 503 and "service_unavailable" in body
            assert get(server, "/healthz")[0] == 200  # alive: no restart for a database outage
            assert get(server, "/identify/")[0] == 200  # the form itself needs no database
    finally:
        set_available(database, True)

    # Back: no restart needed.
    assert wait_for(lambda: all(get(server, "/readyz")[0] == 200 for _ in range(4)))
    for _ in range(2):
        for path in PAGES:
            assert get(server, path)[0] == 200, path
        assert classify(server)[0] == 200
    assert server.process.poll() is None
