"""Settings for the test suite: the real settings with a throwaway secret and plain static files."""
import os

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-not-a-secret")

from catsite.settings import *  # noqa: E402,F401,F403

# Tests render templates without running collectstatic first.
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# One local-memory cache lives for the whole test session: the tests that check the rate limit
# turn it on (classifier/tests/test_throttling.py); the others must not trip over it.
IDENTIFY_RATE_LIMIT = "off"
FEEDBACK_RATE_LIMIT = "off"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
# Serve static files from the sources: tests do not run collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# The suite installs unsigned test packages and pytest-django runs with DEBUG off: serving them
# is deliberate here (classifier/signing_policy.py; its own tests switch this off).
MODEL_ALLOW_UNSIGNED = True
