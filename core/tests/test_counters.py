"""Counting events in fixed windows through the cache. (On real Redis, through the rate limit:
classifier/tests/test_throttling.py.)"""
import pytest
from django.core.cache import caches

from core.counters import count_hit


@pytest.fixture
def fresh_cache():
    caches["counters"].clear()
    yield
    caches["counters"].clear()


def test_counter_starts_again_in_the_next_window(fresh_cache):
    assert count_hit("k", 60, now=120.0) == (1, 60)
    assert count_hit("k", 60, now=150.5) == (2, 30)
    assert count_hit("k", 60, now=180.0) == (1, 60)


def test_counters_are_per_key(fresh_cache):
    assert count_hit("a", 60, now=120.0) == (1, 60)
    assert count_hit("b", 60, now=121.0) == (1, 59)
    assert count_hit("a", 60, now=122.0) == (2, 58)
