"""Per-client rate limit on identification (the page and the API share one budget).

settings.IDENTIFY_RATE_LIMIT is "N/unit" (unit: second, minute, hour or day, e.g. "30/minute");
empty, "0" or "off" switches it off. Counts are kept in Django's cache, so with Redis
(CACHE_URL) every worker and replica shares them. Every attempt counts, good photo or not:
the limit protects the CPU that decoding and inference cost.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings

from core.clients import client_key
from core.counters import count_hit
from core.errors import AppError

UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600,
         "hour": 3600, "d": 86400, "day": 86400}
RATE_PATTERN = re.compile(r"\s*(\d+)\s*/\s*([a-z]+?)s?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Rate:
    requests: int
    seconds: int


def parse_rate(text: str | None) -> Rate | None:
    """ "30/minute" -> Rate(30, 60); None when off. Raises ValueError on anything else."""
    if text is None or text.strip().lower() in ("", "0", "off", "none"):
        return None
    match = RATE_PATTERN.fullmatch(text)
    unit = match and UNITS.get(match.group(2).lower())
    if not match or not unit or int(match.group(1)) < 1:
        raise ValueError(f"not a rate: {text!r} (expected e.g. '30/minute', or 'off')")
    return Rate(int(match.group(1)), unit)


class RateLimited(AppError):
    """Too many identifications from one client; the answer says when to come back."""

    code = "rate_limited"
    status = 429

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(
            "You have sent many photos in a short time. Please wait "
            f"{retry_after} second{'s' if retry_after != 1 else ''} and try again."
        )

    @property
    def headers(self) -> dict:
        return {"Retry-After": str(self.retry_after)}


def check_identify_rate(request) -> None:
    """Count this identification for the client; raise RateLimited when over the limit."""
    rate = parse_rate(settings.IDENTIFY_RATE_LIMIT)
    if rate is None:
        return
    count, retry_after = count_hit(f"rate:identify:{client_key(request)}", rate.seconds)
    if count > rate.requests:
        raise RateLimited(retry_after)
