#!/bin/sh
# The image's entry point. Roles:
#   web (default)  gunicorn serving catsite.wsgi with catsite/gunicorn_conf.py, the one place for
#                  its settings and their defaults (PORT, WEB_CONCURRENCY, GUNICORN_THREADS,
#                  GUNICORN_TIMEOUT, ...). MIGRATE_ON_START=1 runs migrations and load_species
#                  first, for a single container on its own database; in Kubernetes the
#                  chart's pre-upgrade Job does that instead.
#   model [ARGS]   the model alone over the Open Inference Protocol v2 (manage.py serve_model)
#                  on $PORT, for web processes started with INFERENCE_URL; ARGS go to
#                  serve_model (the chart passes --port).
#   anything else  run as a command (python manage.py fetch_model, ...).
set -eu
role="${1:-web}"
case "$role" in
    web) ;;
    model) shift; exec python manage.py serve_model --host 0.0.0.0 --port "${PORT:-8080}" "$@" ;;
    *) exec "$@" ;;
esac
if [ "${MIGRATE_ON_START:-0}" = 1 ]; then
    python manage.py migrate --noinput
    python manage.py load_species
fi
exec gunicorn --config python:catsite.gunicorn_conf catsite.wsgi:application
