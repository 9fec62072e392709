"""WSGI entry point (gunicorn catsite.wsgi)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catsite.settings")
application = get_wsgi_application()

# Load the model now, once per worker process, so the first visitor does not wait for it
# (and /readyz is truthful from the start). Never a download: only the installed package.
from classifier import runtime  # noqa: E402

runtime.load()
