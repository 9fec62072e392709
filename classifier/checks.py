"""System checks for the classifier's settings: a typo in the environment fails `manage.py
check` (and migrate, which the deployment's migration job runs) instead of the first upload."""
from urllib.parse import urlsplit

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


@register()
def inference_settings(app_configs, **kwargs):
    errors = []
    url = settings.INFERENCE_URL
    if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
        errors.append(Error(f"INFERENCE_URL {url!r} is not an http(s) URL",
                            hint="Set the model service's base URL, e.g. http://catsite-model:8080.",
                            id="classifier.E002"))
    if settings.INFERENCE_TIMEOUT <= 0 or settings.INFERENCE_RETRIES < 0:
        errors.append(Error("INFERENCE_TIMEOUT must be positive and INFERENCE_RETRIES at least 0",
                            hint="e.g. INFERENCE_TIMEOUT=10, INFERENCE_RETRIES=1.",
                            id="classifier.E003"))
    return errors
