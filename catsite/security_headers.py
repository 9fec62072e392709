"""The security headers of every response: a Content-Security-Policy and a Permissions-Policy,
and the one page (the API documentation) that needs a looser policy."""

import functools

from django.conf import settings

# No inline script or style anywhere: every script is a file under 'self'. Photos on the
# identify page are shown as data: URLs (the result) and blob: URLs (the preview before upload);
# species photos in Azure Blob Storage come from the account's origin (settings.MEDIA_ORIGIN).


def content_security_policy(media_origin: str | None = None) -> str:
    return "; ".join([
        "default-src 'self'",
        "img-src 'self' data: blob:" + (f" {media_origin}" if media_origin else ""),
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


CONTENT_SECURITY_POLICY = content_security_policy()
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


# The answers that Django gives as its technical (debug) page when DEBUG is on.
DEBUG_PAGE_STATUSES = frozenset({404, 500})


class SecurityHeadersMiddleware:
    """Adds the Content-Security-Policy and Permissions-Policy headers to every response.

    Django's SecurityMiddleware already sends nosniff, Referrer-Policy, Cross-Origin-Opener-Policy
    and (over HTTPS) HSTS; XFrameOptionsMiddleware sends X-Frame-Options.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = content_security_policy(getattr(settings, "MEDIA_ORIGIN", None))

    def __call__(self, request):
        response = self.get_response(request)
        if settings.DEBUG and response.status_code in DEBUG_PAGE_STATUSES:
            # Django's debug pages (DEBUG on only) style themselves inline; scripts stay refused.
            response.headers.setdefault("Content-Security-Policy", INLINE_STYLES_POLICY)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
