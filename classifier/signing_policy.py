"""Whether this process may serve a model whose signature nobody checks (issue 24, item 10).

Without MODEL_TRUSTED_KEYS a package is served on its manifest's hashes alone, which anyone who
can write the model store (or the model directory) can rewrite. With DJANGO_DEBUG off that is
refused at start-up unless MODEL_ALLOW_UNSIGNED=1 says it is deliberate (a site that builds its
model into the image and trusts the image, CI's locally built models). Debug on (a newcomer's
machine) serves unsigned packages as before.
"""
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError

REFUSAL = ("MODEL_TRUSTED_KEYS is empty and DJANGO_DEBUG is off, so the model's signature would "
           "not be checked: set MODEL_TRUSTED_KEYS to the publishers' public keys (PEM paths, "
           "comma-separated), or MODEL_ALLOW_UNSIGNED=1 to serve unsigned models deliberately")


class UnsignedRefused(ImproperlyConfigured, CommandError):
    """The refusal. A CommandError too, so serve_model (a management command) ends with this one
    line and exit status 1 instead of a traceback; gunicorn's worker fails to boot on it, which
    stops the server."""


def refuses_unsigned() -> bool:
    """True when serving a model now would skip the signature without anyone having agreed."""
    return not (settings.MODEL_TRUSTED_KEYS or settings.MODEL_ALLOW_UNSIGNED or settings.DEBUG)


def require_signature_policy() -> None:
    """UnsignedRefused (one line saying what to set) when ``refuses_unsigned``."""
    if refuses_unsigned():
        raise UnsignedRefused(REFUSAL)
