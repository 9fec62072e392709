#!/bin/sh
# The image's command: gunicorn serving catsite.wsgi with catsite/gunicorn_conf.py, the one
# place for its settings and their defaults (PORT, WEB_CONCURRENCY, GUNICORN_THREADS,
# GUNICORN_TIMEOUT, ...). MIGRATE_ON_START=1 runs migrations first, for a single container on
# its own database; in Kubernetes the chart's pre-upgrade Job migrates instead.
set -eu
if [ "${MIGRATE_ON_START:-0}" = 1 ]; then
    python manage.py migrate --noinput
fi
exec gunicorn --config python:catsite.gunicorn_conf catsite.wsgi:application
