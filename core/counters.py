"""Counting events per key in fixed time windows, shared by every worker and replica.

Counters live in their own cache alias, ``counters`` (settings.CACHES; COUNTERS_CACHE_URL,
else CACHE_URL): local memory on one process, Redis in production, so every worker and replica
sees the same counts. Their own alias, so that a flood of pages in the page cache cannot evict
them (give them a Redis of their own: eviction is per Redis server).

When that Redis is down (core/shared_cache.py) every counter is counted in this process's
memory instead (the ``counters-fallback`` alias), for every caller alike: a limit then holds per
process rather than for the whole site, so it is looser by the number of processes, but never
off. Failing open (no limit) would hand a password guesser or a flood the whole outage, and an
attacker who can make Redis fail would choose that; failing closed (refuse every login and
identification) would turn a cache outage into a site outage. A warning is logged and
``catsite_cache_unavailable_total{cache="counters"}`` counts each degraded call.
"""
from __future__ import annotations

import math
import time

from django.core.cache import caches

from core.shared_cache import COUNTERS, CacheUnavailable, call

FALLBACK = "counters-fallback"


def _run(operation: str, *args, **kwargs):
    """The operation on the shared counters, or on this process's own while they are down."""
    try:
        return call(COUNTERS, operation, *args, **kwargs)
    except CacheUnavailable:
        return getattr(caches[FALLBACK], operation)(*args, **kwargs)


def count_hit(key: str, seconds: int, now: float | None = None) -> tuple[int, int]:
    """Count one event in the current fixed window of ``seconds``: (events in this window so
    far including this one, whole seconds until the window ends)."""
    now = time.time() if now is None else now
    window = int(now // seconds)
    window_key = f"{key}:{window}"  # give_back() below names the same key
    # add() is atomic (SET NX on Redis): one caller creates the counter, every caller increments.
    _run("add", window_key, 0, timeout=seconds + 1)
    try:
        count = _run("incr", window_key)
    except ValueError:  # the counter expired (or the cache failed) between add() and incr()
        _run("set", window_key, 1, timeout=seconds + 1)
        count = 1
    return count, max(1, math.ceil((window + 1) * seconds - now))


def give_back(key: str, seconds: int, now: float | None = None) -> None:
    """Undo one ``count_hit`` of ``key`` in the current window (e.g. a login that succeeded)."""
    now = time.time() if now is None else now
    try:
        _run("decr", f"{key}:{int(now // seconds)}")
    except ValueError:  # the window ended (its counter expired) meanwhile: nothing to undo
        pass


def remember(key: str, value, seconds: int) -> None:
    """Keep ``value`` under ``key`` for ``seconds`` beside the counters (a lockout's end)."""
    _run("set", key, value, timeout=seconds)


def recall(key: str):
    """What ``remember`` kept under ``key`` (None when nothing, or it expired)."""
    return _run("get", key)
