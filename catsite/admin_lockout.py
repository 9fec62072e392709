"""The admin login lockout: ADMIN_LOGIN_FAILURE_LIMIT failures for one username from one client
within ADMIN_LOGIN_LOCKOUT_SECONDS lock that pair out for ADMIN_LOGIN_LOCKOUT_SECONDS, even with
the right password (catsite/urls.py installs the form on the admin site)."""
from __future__ import annotations

import hashlib
import math
import time
from typing import ClassVar

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError

from core.clients import client_key
from core.counters import count_hit


def _lockout_key(username: str, request) -> str:
    who = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
    return f"admin-login:{who}:{client_key(request)}"


def lockout_remaining(username: str, request) -> int:
    """Seconds left of a lockout for this username from this client (0: not locked)."""
    until = cache.get(_lockout_key(username, request) + ":locked-until")
    return max(0, math.ceil(until - time.time())) if until else 0


def record_login_failure(username: str, request) -> None:
    seconds = settings.ADMIN_LOGIN_LOCKOUT_SECONDS
    failures, _ = count_hit(_lockout_key(username, request) + ":failures", seconds)
    if failures >= settings.ADMIN_LOGIN_FAILURE_LIMIT:
        cache.set(_lockout_key(username, request) + ":locked-until", time.time() + seconds,
                  timeout=seconds)


class LockoutAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin login form, refusing a username+client pair that failed too often."""

    error_messages: ClassVar[dict[str, str]] = {
        **AdminAuthenticationForm.error_messages,
        "locked_out": "Too many failed logins for this account from your address. "
                      "Try again in %(minutes)d minute(s).",
    }

    def clean(self):
        username = self.data.get("username", "") if self.data else ""
        remaining = lockout_remaining(username, self.request)
        if remaining:
            raise ValidationError(self.error_messages["locked_out"], code="locked_out",
                                  params={"minutes": math.ceil(remaining / 60)})
        try:
            return super().clean()
        except ValidationError:
            record_login_failure(username, self.request)
            raise
