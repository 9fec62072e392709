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
