"""Hardening shared by the site: security headers with a Content-Security-Policy, the client's
address, counting events in the cache, and the admin login lockout.

Counters live in Django's cache (settings.CACHES): local memory on one process, Redis in
production (CACHE_URL), so every worker and replica sees the same counts.
"""
from __future__ import annotations

import functools
import hashlib
import ipaddress
import math
import time

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError

# No inline script or style anywhere: every script is a file under 'self'. Photos on the
# identify page are shown as data: URLs (the result) and blob: URLs (the preview before upload).
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "img-src 'self' data: blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
# Browser features the site never uses. (The identify page's camera button is a file input with
# `capture`, which opens the camera app without the camera permission.)
PERMISSIONS_POLICY = "geolocation=(), microphone=(), payment=(), usb=(), interest-cohort=()"


# Swagger UI (the API documentation page) styles its widgets with inline style attributes;
# that page alone allows inline styles. Inline scripts stay refused everywhere.
INLINE_STYLES_POLICY = CONTENT_SECURITY_POLICY + "; style-src 'self' 'unsafe-inline'"


def allow_inline_styles(view):
    """Serve ``view`` with a policy that also allows inline styles (never inline scripts)."""
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.headers["Content-Security-Policy"] = INLINE_STYLES_POLICY
        return response

    return wrapped


class SecurityHeadersMiddleware:
    """Adds the Content-Security-Policy and Permissions-Policy headers to every response.

    Django's SecurityMiddleware already sends nosniff, Referrer-Policy, Cross-Origin-Opener-Policy
    and (over HTTPS) HSTS; XFrameOptionsMiddleware sends X-Frame-Options.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


def client_ip(request) -> str:
    """The client's address. Behind RATE_LIMIT_TRUSTED_PROXIES reverse proxies (the ingress),
    the address the nearest trusted proxy saw, taken from the right of X-Forwarded-For: entries
    further left are whatever the client chose to send."""
    address = request.META.get("REMOTE_ADDR", "") or "unknown"
    trusted = settings.RATE_LIMIT_TRUSTED_PROXIES
    if trusted > 0:
        forwarded = [part.strip() for part in
                     request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= trusted:
            address = forwarded[-trusted]
    return address


def client_key(request) -> str:
    """The client's address as a counter key: an IPv6 client usually owns a whole /64, so it is
    counted as one client rather than 2**64 of them."""
    address = client_ip(request)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return hashlib.sha256(address.encode()).hexdigest()[:32]
    if parsed.version == 6:
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False).network_address) + "/64"
    return str(parsed)


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


# --------------------------------------------------------------------------------------------
# Admin login lockout: ADMIN_LOGIN_FAILURE_LIMIT failures for one username from one client
# within ADMIN_LOGIN_LOCKOUT_SECONDS lock that pair out for ADMIN_LOGIN_LOCKOUT_SECONDS, even
# with the right password.
# --------------------------------------------------------------------------------------------
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

    error_messages = {
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
