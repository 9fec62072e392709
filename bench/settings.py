"""Bench-only settings: production settings plus a URLconf with a minimal view (bench/urls.py).

Used only by bench/run.py for the framework's own ceiling; never by the site itself.
"""
from catsite.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.urls"
