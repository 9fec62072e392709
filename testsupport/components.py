"""The real components the suite runs against (PostgreSQL, Redis, Azurite, Chromium, podman),
and the one switch that decides what a missing one does (a pytest plugin, see conftest.py).

A missing component FAILS its tests with the command that installs or starts it: a suite that
skips quietly on a machine without Redis reports green for code it never ran. A developer who
knowingly runs part of the suite without one sets ``CATSITE_ALLOW_SKIP=1``, and those tests are
skipped instead, with the same message. ``./scripts/test`` and ``.ci/run`` never set it.
"""
from __future__ import annotations

import os

import pytest

ALLOW_SKIP = "CATSITE_ALLOW_SKIP"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REDIS_START = ('redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" '
               "--appendonly no (./scripts/test starts it)")
POSTGRES_START = ("pg_ctlcluster --skip-systemctl-redirect VERSION main start "
                  "(./scripts/test starts it)")


def skipping_allowed() -> bool:
    return os.environ.get(ALLOW_SKIP, "") == "1"


def missing_component(problem: str, remedy: str):
    """Stop the current test: ``problem`` (what is missing), ``remedy`` (how to get it).

    Fails, unless CATSITE_ALLOW_SKIP=1 makes it a skip. Never returns."""
    message = f"{problem}: {remedy}"
    if skipping_allowed():
        pytest.skip(message)
    pytest.fail(f"{message} (or set {ALLOW_SKIP}=1 to skip the tests that need it)",
                pytrace=False)


def pytest_report_header(config):
    if skipping_allowed():
        return f"{ALLOW_SKIP}=1: tests whose component is missing are skipped, not failed"
    return None


def pytest_sessionstart(session):
    """A PostgreSQL run against a server that is not there fails once, with how to start it,
    instead of one connection error per test."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import psycopg

    try:
        # The server's own "postgres" database, as Django connects to create the test database.
        psycopg.connect(url.replace("postgres://", "postgresql://", 1), dbname="postgres",
                        connect_timeout=3).close()
    except psycopg.Error as exc:
        pytest.exit(f"PostgreSQL is not reachable at DATABASE_URL ({exc}): start it with "
                    f"{POSTGRES_START}", returncode=1)


@pytest.fixture(scope="session")
def redis_url():
    """TEST_REDIS_URL (default database 15 of the local Redis), once it answers a PING."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        missing_component(f"Redis is not reachable at {REDIS_URL} ({exc})",
                          f"start it with {REDIS_START}, or set TEST_REDIS_URL")
    return REDIS_URL
