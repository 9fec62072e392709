"""Settings for the test suite: the real settings with a throwaway secret and plain static files."""
import os

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-not-a-secret")

from catsite.settings import *  # noqa: E402,F401,F403

# Tests render templates without running collectstatic first.
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
# Serve static files from the sources: tests do not run collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
