"""System checks for the classifier's settings: a typo in the environment fails `manage.py
check` (and migrate, which the deployment's migration job runs) instead of the first upload."""
from django.conf import settings
from django.core.checks import Error, register

from classifier.throttling import parse_rate


@register()
def rate_limit_setting(app_configs, **kwargs):
    try:
        parse_rate(settings.IDENTIFY_RATE_LIMIT)
    except ValueError as exc:
        return [Error(f"IDENTIFY_RATE_LIMIT: {exc}", hint="Set e.g. 30/minute, or off.",
                      id="classifier.E001")]
    return []


# The smallest budget that still decodes a phone screenshot (about 5 MP at 4 bytes a pixel).
MIN_DECODE_MEMORY_MB = 24


@register()
def decode_limit_settings(app_configs, **kwargs):
    errors = []
    if settings.IDENTIFY_DECODE_MEMORY_MB < MIN_DECODE_MEMORY_MB:
        errors.append(Error(
            f"IDENTIFY_DECODE_MEMORY_MB is {settings.IDENTIFY_DECODE_MEMORY_MB}, below the "
            f"{MIN_DECODE_MEMORY_MB} MB a phone screenshot needs.",
            hint="Leave it unset (144) or raise it.", id="classifier.E002"))
    if settings.IDENTIFY_LARGE_DECODES < 1:
        errors.append(Error(
            f"IDENTIFY_LARGE_DECODES is {settings.IDENTIFY_LARGE_DECODES}: no large photo could "
            "ever be identified.", hint="Set 1 or more.", id="classifier.E003"))
    if settings.IDENTIFY_DECODE_WAIT_SECONDS < 0:
        errors.append(Error("IDENTIFY_DECODE_WAIT_SECONDS is negative.",
                            hint="Set 0 (answer 503 at once) or more.", id="classifier.E004"))
    return errors
