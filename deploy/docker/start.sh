#!/bin/sh
# The image's command: gunicorn serving catsite.wsgi on $PORT with $WEB_CONCURRENCY worker
# processes of $GUNICORN_THREADS threads each (the model is loaded once per process and shared
# by its threads). MIGRATE_ON_START=1 runs migrations and load_species first, for a single
# container on its own database; in Kubernetes the chart's pre-upgrade Job does that instead.
set -eu
if [ "${MIGRATE_ON_START:-0}" = 1 ]; then
    python manage.py migrate --noinput
    python manage.py load_species
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
