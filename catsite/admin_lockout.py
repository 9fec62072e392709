"""The admin login lockout: ADMIN_LOGIN_FAILURE_LIMIT failures for one username from one client
within ADMIN_LOGIN_LOCKOUT_SECONDS lock that pair out for ADMIN_LOGIN_LOCKOUT_SECONDS, even with
the right password; LOGIN_ATTEMPTS_PER_CLIENT attempts from one client (any usernames) in that
time lock the client out (catsite/urls.py installs the form on the admin site; the admin is the
only login: the API authenticates by that session only).

Every attempt is counted with an atomic increment *before* the password is checked, so parallel
guesses cannot all pass the check before any failure is recorded; a successful login gives its
attempt back. While the counters' Redis is down they are counted per process
(core/counters.py says why)."""
from __future__ import annotations

import hashlib
import math
import time
import unicodedata
from typing import ClassVar

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from core.clients import client_key
from core.counters import count_hit, give_back, recall, remember


def login_name(username: str) -> str:
    """The account a typed username stands for, as the lockout counts it. The login form
    NFKC-normalises what it authenticates (Django's UsernameField), so full-width or other
    compatibility look-alikes ("\uff45ditor") log in as "editor": they must count as "editor"
    too. Casefolded for case variants; NFKC again, as casefolding can undo it (Unicode's
    NFKC_Casefold)."""
    return unicodedata.normalize(
        "NFKC", unicodedata.normalize("NFKC", username.strip()).casefold()).strip()


def _lockout_key(username: str, request) -> str:
    who = hashlib.sha256(login_name(username).encode()).hexdigest()[:32]
    return f"admin-login:{who}:{client_key(request)}"


def lockout_remaining(username: str, request) -> int:
    """Seconds left of a lockout for this username from this client (0: not locked)."""
    until = recall(_lockout_key(username, request) + ":locked-until")
    return max(0, math.ceil(until - time.time())) if until else 0


def count_attempt(username: str, request) -> bool:
    """Count one login attempt (atomically, before authenticating). True when the attempt may
    go ahead; False when it is over a limit, which also starts the lockout."""
    seconds = settings.ADMIN_LOGIN_LOCKOUT_SECONDS
    pair, _ = count_hit(_lockout_key(username, request) + ":attempts", seconds)
    client, _ = count_hit(f"login-client:{client_key(request)}", seconds)
    if pair <= settings.ADMIN_LOGIN_FAILURE_LIMIT and client <= settings.LOGIN_ATTEMPTS_PER_CLIENT:
        return True
    remember(_lockout_key(username, request) + ":locked-until", time.time() + seconds, seconds)
    return False


def give_back_attempt(username: str, request) -> None:
    """A successful login does not count towards the username's limit."""
    give_back(_lockout_key(username, request) + ":attempts", settings.ADMIN_LOGIN_LOCKOUT_SECONDS)


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
        if remaining or not count_attempt(username, self.request):
            remaining = remaining or settings.ADMIN_LOGIN_LOCKOUT_SECONDS
            raise ValidationError(self.error_messages["locked_out"], code="locked_out",
                                  params={"minutes": math.ceil(remaining / 60)})
        cleaned = super().clean()  # a wrong password raises: its attempt stays counted
        give_back_attempt(username, self.request)
        return cleaned
