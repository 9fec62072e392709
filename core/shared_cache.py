"""Calls to a shared cache (Redis) that may be down, and what this process knows of its state.

Nothing the site serves depends on Redis being up: the page cache serves pages uncached and
the counters count in this process (core/page_cache.py, core/counters.py). They call the cache
through ``call``, which turns the cache client's errors into ``CacheUnavailable``. After a
failure the cache is not asked again for RETRY_SECONDS: a Redis that does not answer (a
network partition: each attempt waits CACHE_TIMEOUT_SECONDS) would otherwise slow every
request, and log one warning each. The warning is logged once per outage and process, the
recovery too, and ``catsite_cache_unavailable_total`` counts every operation done without the
cache. ``/readyz`` reports the state (catsite/health.py).

Hand-written rather than django-redis's IGNORE_EXCEPTIONS: that makes a failed call look like a
miss, and the counters must know they were not counted (to count elsewhere).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.core.cache import caches
from prometheus_client import Counter

logger = logging.getLogger(__name__)

# How long a cache that failed is left alone before the next request tries it again.
RETRY_SECONDS = 5.0
# What each alias holds (settings.CACHES), for the logs and /readyz.
PAGES = "default"
COUNTERS = "counters"
PURPOSES = {PAGES: "page cache", COUNTERS: "rate limits and login lockout"}

unavailable = Counter(
    "catsite_cache_unavailable", "Cache operations done without the shared cache (Redis down "
    "or failing): pages served uncached, events counted in the process only.",
    ["cache", "operation"])

_down_until: dict[str, float] = {}
_errors: dict[str, str] = {}
_lock = threading.Lock()


class CacheUnavailable(Exception):
    """The shared cache did not answer (now, or within the last RETRY_SECONDS)."""


def _client_errors() -> tuple[type[BaseException], ...]:
    try:
        from redis.exceptions import RedisError
    except ImportError:  # no Redis client installed: only local memory is configured
        return (ConnectionError, TimeoutError)
    return (RedisError, ConnectionError, TimeoutError)


def call(alias: str, operation: str, *args, **kwargs):
    """``caches[alias].<operation>(*args, **kwargs)``; CacheUnavailable when it fails or the
    cache failed less than RETRY_SECONDS ago."""
    if time.monotonic() < _down_until.get(alias, 0.0):
        unavailable.labels(alias, operation).inc()
        raise CacheUnavailable(alias)
    method: Callable = getattr(caches[alias], operation)
    try:
        result = method(*args, **kwargs)
    except _client_errors() as error:
        _failed(alias, operation, error)
        raise CacheUnavailable(alias) from error
    if alias in _errors:
        _recovered(alias)
    return result


def _failed(alias: str, operation: str, error: BaseException) -> None:
    unavailable.labels(alias, operation).inc()
    with _lock:
        first = alias not in _errors
        _errors[alias] = error.__class__.__name__
        _down_until[alias] = time.monotonic() + RETRY_SECONDS
    if first:
        logger.warning("Cache %r (%s) is unreachable (%s: %s): carrying on without it, trying "
                       "again every %.0f s.", alias, PURPOSES.get(alias, alias),
                       error.__class__.__name__, error, RETRY_SECONDS)


def _recovered(alias: str) -> None:
    with _lock:
        was_down = _errors.pop(alias, None) is not None
        _down_until.pop(alias, None)
    if was_down:
        logger.warning("Cache %r (%s) answers again.", alias, PURPOSES.get(alias, alias))


def state(alias: str) -> dict:
    """{"ok": True} when the cache answers a read now; else the error's class name. One round
    trip (none while the cache is left alone after a failure)."""
    try:
        call(alias, "get", "readyz:probe")
    except CacheUnavailable:
        return {"ok": False, "error": _errors.get(alias, "unavailable")}
    return {"ok": True}


def forget_state() -> None:
    """Start again as if no call had failed (tests that stop and start a Redis)."""
    with _lock:
        _errors.clear()
        _down_until.clear()
