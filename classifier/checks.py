"""System checks for the classifier's settings: a typo in the environment fails `manage.py
check` (and migrate, which the deployment's migration job runs) instead of the first upload."""
from django.conf import settings
from django.core.checks import Error, register

from classifier.throttling import parse_rate


@register()
def rate_limit_setting(app_configs, **kwargs):
    errors = []
    for name in ("IDENTIFY_RATE_LIMIT", "FEEDBACK_RATE_LIMIT"):
        try:
            parse_rate(getattr(settings, name))
        except ValueError as exc:
            errors.append(Error(f"{name}: {exc}", hint="Set e.g. 30/minute, or off.",
                                id="classifier.E001"))
    return errors
