#!/bin/sh
# The image's entry point. Roles:
#   web (default)  gunicorn serving catsite.wsgi on $PORT with $WEB_CONCURRENCY worker processes
#                  of $GUNICORN_THREADS threads each (the model is loaded once per process and
#                  shared by its threads). MIGRATE_ON_START=1 runs migrations first, for a single
#                  container on its own database; in Kubernetes the chart's pre-upgrade Job
#                  migrates instead.
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
fi
# No control socket: it would be written under the (nonexistent, read-only) home directory,
# and Kubernetes manages the processes.
if [ -f catsite/gunicorn_conf.py ]; then
    # The project's tuned settings read the same variables (PORT, WEB_CONCURRENCY, ...).
    exec gunicorn --config python:catsite.gunicorn_conf --no-control-socket catsite.wsgi:application
fi
# The worker heartbeat goes to shared memory: the root file system may be read-only, and a
# disk-backed /tmp can stall heartbeats (gunicorn's documented advice for containers).
exec gunicorn catsite.wsgi:application \
    --bind "0.0.0.0:${PORT:-8000}" \
    --workers "${WEB_CONCURRENCY:-2}" \
    --threads "${GUNICORN_THREADS:-4}" \
    --timeout "${GUNICORN_TIMEOUT:-30}" \
    --graceful-timeout 20 \
    --worker-tmp-dir /dev/shm \
    --no-control-socket \
    --access-logfile - \
    --error-logfile -
