"""The security headers of every response: a Content-Security-Policy and a Permissions-Policy,
and the one page (the API documentation) that needs a looser policy."""
import functools

# No inline script or style anywhere: every script is a file under 'self'. Photos on the
# identify page are shown as data: URLs (the result) and blob: URLs (the preview before upload).
CONTENT_SECURITY_POLICY = "; ".join([  # noqa: FLY002 - one directive a line reads best
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
