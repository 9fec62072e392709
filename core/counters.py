"""Counting events per key in fixed time windows, shared by every worker and replica.

Counters live in Django's cache (settings.CACHES): local memory on one process, Redis in
production (CACHE_URL), so every worker and replica sees the same counts.
"""
from __future__ import annotations

import math
import time

from django.core.cache import cache


def count_hit(key: str, seconds: int, now: float | None = None) -> tuple[int, int]:
    """Count one event in the current fixed window of ``seconds``: (events in this window so
    far including this one, whole seconds until the window ends)."""
    now = time.time() if now is None else now
    window = int(now // seconds)
    window_key = f"{key}:{window}"
    # add() is atomic (SET NX on Redis): one caller creates the counter, every caller increments.
    cache.add(window_key, 0, timeout=seconds + 1)
    try:
        count = cache.incr(window_key)
    except ValueError:  # the counter expired between add() and incr()
        cache.set(window_key, 1, timeout=seconds + 1)
        count = 1
    return count, max(1, math.ceil((window + 1) * seconds - now))
