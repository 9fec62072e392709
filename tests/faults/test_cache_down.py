"""Redis down, or not answering, under a running site (issue 24, item 6).

Pages are served uncached, the counters (rate limits, the admin login lockout) count in the
process instead of the site, /readyz stays 200 and says "degraded"; when Redis is back the site
uses it again by itself. Against a Redis URL where nothing listens, and against a throwaway
redis-server of the test's own that is stopped, restarted and paused (SIGSTOP: the kernel still
accepts connections, nothing answers) mid-test.
"""
from __future__ import annotations

import json
import logging
import re
import time

import pytest
from django.test import Client
from prometheus_client import REGISTRY

from core import shared_cache
from species.models import Species
from testsupport import images
from testsupport.editors import STAFF_PASSWORD, admin_login
from testsupport.harness import GunicornServer, free_port, multipart, prepare_site, request
from testsupport.redis_server import RedisServer
from testsupport.web_fixtures import cat_jpeg, upload

PAGES = ["/", "/species/", "/species/?q=lion&kind=wild", "/species/lion/",
         "/species/lion/illustration.svg"]
NOWHERE = f"redis://127.0.0.1:{free_port()}/0"  # a free port: nothing listens there


def redis_cache(url: str) -> dict:
    return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}


def use_redis(settings, url: str) -> None:
    settings.CACHES = {**settings.CACHES, "default": redis_cache(url),
                       "counters": redis_cache(url)}
    settings.PAGE_CACHE_SECONDS = 600
    shared_cache.forget_state()


@pytest.fixture
def redis_nowhere(settings):
    use_redis(settings, NOWHERE)
    yield
    shared_cache.forget_state()


def unavailable(cache: str) -> float:
    return sum(sample.value for metric in REGISTRY.collect()
               if metric.name == "catsite_cache_unavailable"
               for sample in metric.samples
               if sample.name.endswith("_total") and sample.labels["cache"] == cache)


# --- a Redis URL where nothing listens -------------------------------------------------------
@pytest.mark.django_db
def test_pages_are_served_uncached_without_redis(client, redis_nowhere, caplog):
    before = unavailable("default")
    with caplog.at_level(logging.WARNING, logger="core.shared_cache"):
        for _ in range(2):
            for path in PAGES:
                response = client.get(path)
                assert response.status_code == 200, path
                assert response["X-Cache"] == "off" and response.content, path
    assert unavailable("default") > before
    # One warning for the outage, not one a request.
    warnings = [record for record in caplog.records if "unreachable" in record.getMessage()]
    assert len(warnings) == 1 and "'default' (page cache)" in warnings[0].getMessage()


@pytest.mark.django_db
def test_readyz_stays_ready_and_says_degraded(client, redis_nowhere):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["ready"] is True and body["degraded"] is True
    assert body["checks"]["cache"]["pages"] == {"ok": False, "error": "ConnectionError"}
    assert body["checks"]["cache"]["counters"]["ok"] is False


@pytest.mark.django_db
def test_the_admin_login_and_its_lockout_still_work(redis_nowhere, staff_user, settings):
    settings.ADMIN_LOGIN_FAILURE_LIMIT = 2
    assert admin_login(Client(), STAFF_PASSWORD, addr="192.0.2.21").status_code == 302
    client = Client()
    for _ in range(2):
        refused = admin_login(client, "wrong", addr="192.0.2.20")
        assert "Please enter the correct" in refused.content.decode()
    # Counted in the process while Redis is down: the lock holds, even the right password.
    locked = admin_login(client, STAFF_PASSWORD, addr="192.0.2.20")
    assert locked.status_code == 200 and "Too many failed logins" in locked.content.decode()
    assert unavailable("counters") > 0


@pytest.mark.django_db
def test_identification_and_feedback_work_and_stay_limited(client, redis_nowhere,
                                                           installed_model, settings):
    settings.IDENTIFY_RATE_LIMIT = "2/minute"
    answers = [client.post("/api/classify/", {"image": upload(cat_jpeg())}) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[2].json()["error"]["code"] == "rate_limited"
    page = client.post("/identify/", {"image": upload(cat_jpeg())})
    assert page.status_code == 429  # the page shares the budget, and is no 500 either
    identification_id = answers[0].json()["id"]
    feedback = client.post(f"/api/identifications/{identification_id}/feedback/",
                           {"correct": "true"})
    assert feedback.status_code == 201, feedback.content


# --- a real Redis that goes away and comes back ----------------------------------------------
@pytest.fixture
def redis_server():
    with RedisServer() as server:
        yield server


@pytest.mark.django_db
def test_a_paused_redis_is_waited_for_briefly_and_edits_reach_it_after(
        client, settings, redis_server):
    import redis

    use_redis(settings, redis_server.url)
    assert client.get("/species/lion/")["X-Cache"] == "miss"
    assert client.get("/species/lion/")["X-Cache"] == "hit"
    observer = redis.Redis.from_url(redis_server.url)
    connections = observer.info("stats")["total_connections_received"]
    with redis_server.paused():
        assert client.get("/species/lion/")["X-Cache"] == "off"  # one timeout, then...
        for _ in range(5):  # ...the cache is left alone: no new connection, no more waiting
            assert client.get("/species/lion/")["X-Cache"] == "off"
        lion = Species.objects.get(slug="lion")
        lion.summary = "Edited while Redis did not answer."
        lion.save()  # its invalidation cannot reach Redis now
    shared_cache.forget_state()  # as RETRY_SECONDS later
    # Redis is back with the page cached before the edit: the edit is sent first.
    response = client.get("/species/lion/")
    assert response["X-Cache"] == "miss"
    assert "Edited while Redis did not answer." in response.content.decode()
    # The kernel queued every connection made during the pause; Redis counts them now. One
    # replaced the connection that timed out; five more would be a request each.
    assert observer.info("stats")["total_connections_received"] - connections <= 1


def wait_for(check, seconds=20.0) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def get(server, path):
    status, headers, body = request("GET", server.url + path)
    return status, headers, body


def readyz(server) -> dict:
    status, _, body = get(server, "/readyz")
    assert status == 200
    return json.loads(body)


def classify(server) -> int:
    body, content_type = multipart("image", "cat.jpg", images.jpeg(images.chelsea()))
    return request("POST", server.url + "/api/classify/", body,
                   {"Content-Type": content_type})[0]


@pytest.mark.slow
def test_redis_stopped_and_started_under_gunicorn(tmp_path, redis_server):
    site = prepare_site(tmp_path / "site")
    env = site.with_env(CACHE_URL=redis_server.url, MODEL_REQUIRED=1)
    with GunicornServer(env, workers=1, threads=2) as server:
        assert readyz(server)["degraded"] is False
        get(server, "/species/lion/")
        assert get(server, "/species/lion/")[1]["X-Cache"] == "hit"

        redis_server.stop()
        for path in PAGES:
            status, headers, body = get(server, path)
            assert status == 200 and headers["X-Cache"] == "off", path
            assert b"Traceback" not in body
        answer = readyz(server)
        assert answer["ready"] is True and answer["degraded"] is True
        assert answer["checks"]["cache"]["pages"]["ok"] is False
        assert classify(server) == 200
        status, _, login = get(server, "/admin/login/")
        assert status == 200 and re.search(rb'name="password"', login)

        redis_server.start()  # the same port, empty, as a restarted Redis pod
        assert wait_for(lambda: readyz(server)["degraded"] is False)
        get(server, "/species/lion/")
        assert get(server, "/species/lion/")[1]["X-Cache"] == "hit"
        assert server.process.poll() is None
