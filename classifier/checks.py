"""System checks for the classifier's settings: a typo in the environment fails `manage.py
check` (and migrate, which the deployment's migration job runs) instead of the first upload."""
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from catmodel.inference import BadModelPackage
from catmodel.inference.signatures import load_trusted_keys
from classifier.signing_policy import REFUSAL, refuses_unsigned
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


# The smallest budget that still decodes a phone screenshot (about 5 MP at 4 bytes a pixel).
MIN_DECODE_MEMORY_MB = 24


@register()
def decode_limit_settings(app_configs, **kwargs):
    errors = []
    if settings.IDENTIFY_DECODE_MEMORY_MB < MIN_DECODE_MEMORY_MB:
        errors.append(Error(
            f"IDENTIFY_DECODE_MEMORY_MB is {settings.IDENTIFY_DECODE_MEMORY_MB}, below the "
            f"{MIN_DECODE_MEMORY_MB} MB a phone screenshot needs.",
            hint="Leave it unset (144) or raise it.", id="classifier.E010"))
    if settings.IDENTIFY_LARGE_DECODES < 1:
        errors.append(Error(
            f"IDENTIFY_LARGE_DECODES is {settings.IDENTIFY_LARGE_DECODES}: no large photo could "
            "ever be identified.", hint="Set 1 or more.", id="classifier.E011"))
    if settings.IDENTIFY_DECODE_WAIT_SECONDS < 0:
        errors.append(Error("IDENTIFY_DECODE_WAIT_SECONDS is negative.",
                            hint="Set 0 (answer 503 at once) or more.", id="classifier.E012"))
    return errors


@register(Tags.security, deploy=True)
def model_signature_settings(app_configs, **kwargs):
    """Without trusted keys a package is served on its manifest's hashes alone, which anyone
    who can write the model store can rewrite: an error with debug off (the web process and
    serve_model refuse to start, signing_policy.py), a warning once MODEL_ALLOW_UNSIGNED=1 says
    it is deliberate (a site may build its model into the image and trust the image)."""
    if settings.MODEL_TRUSTED_KEYS:
        return []  # readable keys: model_trusted_keys_readable
    if refuses_unsigned():
        return [Error(REFUSAL, id="classifier.E014")]
    return [Warning(
        "MODEL_TRUSTED_KEYS is empty: model packages are installed and served without checking "
        "a signature, so anyone who can write the model store can replace the model.",
        hint="Set MODEL_TRUSTED_KEYS to the publishers' public keys (deploy/keys/, README "
             "'Signed model packages').", id="classifier.W001")]


@register(Tags.security, deploy=True)
def model_trusted_keys_readable(app_configs, **kwargs):
    """A trusted key that cannot be read would refuse every package: say so at check time.
    A deploy check: the migration job runs `migrate` without the keys mounted."""
    try:
        load_trusted_keys(settings.MODEL_TRUSTED_KEYS)
    except BadModelPackage as exc:
        return [Error(f"MODEL_TRUSTED_KEYS: {exc.message}",
                      hint="Give the paths of PEM public keys, comma-separated.",
                      id="classifier.E013")]
    return []
