"""The per-client rate limit on identification: page and API, local memory and real Redis."""
from __future__ import annotations

import pytest
from django.core.cache import caches
from django.urls import reverse

from classifier.throttling import Rate, parse_rate
from testsupport import images
from testsupport.web_fixtures import upload

PAGE = reverse("classifier:identify")
API = reverse("api:classify")


@pytest.fixture
def limit(settings, no_model):
    """Three identifications a minute, counted in a fresh cache. Without a model every upload
    is answered 503 at once: each attempt counts whatever its answer."""
    settings.IDENTIFY_RATE_LIMIT = "3/minute"
    caches["counters"].clear()
    yield
    caches["counters"].clear()


@pytest.fixture
def redis_cache(settings, redis_url):
    """The counters' cache on a real Redis (TEST_REDIS_URL, database 15 by default; emptied
    before and after)."""
    settings.CACHES = {**settings.CACHES, "counters": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}}
    caches["counters"].clear()
    yield
    caches["counters"].clear()


@pytest.mark.parametrize("text, rate", [
    ("30/minute", Rate(30, 60)), ("30/minutes", Rate(30, 60)), ("5/s", Rate(5, 1)),
    ("100 / hour", Rate(100, 3600)), ("1000/day", Rate(1000, 86400)),
    ("", None), ("off", None), ("0", None), (None, None),
])
def test_parse_rate(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["30", "30/fortnight", "-1/minute", "0/minute", "minute"])
def test_parse_rate_refuses_nonsense(text):
    with pytest.raises(ValueError):
        parse_rate(text)


def post_api(client, addr="192.0.2.1", **extra):
    return client.post(API, {"image": upload(images.TEXT)}, REMOTE_ADDR=addr, **extra)


@pytest.mark.django_db
def test_api_answers_429_with_retry_after_past_the_limit(client, limit):
    statuses = [post_api(client).status_code for _ in range(3)]
    assert statuses == [503, 503, 503]  # counted, and still answered
    response = post_api(client)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert response["Retry-After"] in error["message"]


@pytest.mark.django_db
def test_the_limit_is_per_client(client, limit):
    for _ in range(4):
        post_api(client, addr="192.0.2.1")
    assert post_api(client, addr="192.0.2.1").status_code == 429
    assert post_api(client, addr="192.0.2.2").status_code == 503


@pytest.mark.django_db
def test_page_shows_a_friendly_message_with_retry_after(client, limit):
    for _ in range(3):
        assert client.post(PAGE, {"image": upload(images.TEXT)}).status_code == 503
    response = client.post(PAGE, {"image": upload(images.TEXT)})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    html = response.content.decode()
    assert "You have sent many photos in a short time" in html
    assert 'id="identify-form"' in html  # the form is still there for later
    assert client.get(PAGE).status_code == 200  # looking at the page is never limited


@pytest.mark.django_db
def test_page_and_api_share_one_budget(client, limit):
    client.post(PAGE, {"image": upload(images.TEXT)})
    client.post(PAGE, {"image": upload(images.TEXT)})
    post_api(client, addr="127.0.0.1")
    assert post_api(client, addr="127.0.0.1").status_code == 429


@pytest.mark.django_db
def test_off_means_no_limit(client, settings, no_model):
    settings.IDENTIFY_RATE_LIMIT = "off"
    assert {post_api(client).status_code for _ in range(40)} == {503}


@pytest.mark.django_db
def test_rate_limit_on_real_redis(client, settings, redis_cache, redis_url, no_model):
    settings.IDENTIFY_RATE_LIMIT = "3/minute"
    assert [post_api(client).status_code for _ in range(4)] == [503, 503, 503, 429]
    import redis

    keys = redis.Redis.from_url(redis_url).keys("*rate:identify:192.0.2.1:*")
    assert len(keys) == 1  # the counter really lives in Redis, with an expiry
    assert 0 < redis.Redis.from_url(redis_url).ttl(keys[0]) <= 61


def test_a_malformed_rate_limit_fails_the_system_checks(settings):
    from django.core.checks import run_checks

    settings.IDENTIFY_RATE_LIMIT = "30 per minute"
    errors = [e for e in run_checks() if e.id == "classifier.E001"]
    assert len(errors) == 1 and "30 per minute" in errors[0].msg
    settings.IDENTIFY_RATE_LIMIT = "30/minute"
    assert not [e for e in run_checks() if e.id == "classifier.E001"]
