"""WSGI entry point (gunicorn catsite.wsgi)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catsite.settings")
application = get_wsgi_application()

# Load the model now, once per worker process, so the first visitor does not wait for it
# (and /readyz is truthful from the start). Never a download: only the installed package.
from classifier import runtime  # noqa: E402

runtime.load()

# Under gunicorn, keep the drift gauges of the metrics port fresh (one worker at a time
# computes them from the database: classifier/drift.py).
from classifier import drift  # noqa: E402

drift.start_refresher()
