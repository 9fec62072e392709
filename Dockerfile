# catsite: the Django site and its ONNX model in one image.
#
# Build from the repository root after fetching the model and building the wheelhouse (what
# deploy/ci/build-image.sh does):
#   docker build --build-arg APP_REVISION=$(git rev-parse HEAD) \
#     --build-arg MODEL_NAME=... --build-arg MODEL_VERSION=... -t catsite .
# BASE_IMAGE is a public slim Python image by default; CI here passes a locally made Debian
# bookworm image (no registry is reachable). Both have Python 3.11, matching the wheelhouse.
ARG BASE_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------------------------
# build: the venv from the wheelhouse (no network), the app code, collected static files
# ---------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS build
# Wheels for requirements.txt (deploy/ci/build-wheelhouse.sh), inside the build context.
ARG WHEELHOUSE=var/build/wheelhouse
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY requirements.txt ./
COPY ${WHEELHOUSE} /wheels
# The installers and the libraries' own test suites are not needed at run time (~40 MB).
RUN python3 -m venv /venv \
    && /venv/bin/pip install --no-index --find-links /wheels -r requirements.txt \
    && /venv/bin/pip uninstall -q -y pip setuptools \
    && find /venv/lib -depth -type d -name tests -path '*/site-packages/*' -exec rm -rf {} +
COPY . .
# Nothing under var/ (model, wheelhouse, local database) belongs in the code; the model is
# copied on its own below. Static files are collected with a throwaway key: collectstatic
# needs settings, not secrets.
RUN rm -rf var \
    && DJANGO_SECRET_KEY=collectstatic-only-not-a-secret STATIC_ROOT=/src/staticfiles \
       CATSITE_VAR_DIR=/tmp/var /venv/bin/python manage.py collectstatic --noinput --verbosity 0 \
    && /venv/bin/python -m compileall -q -j 0 /src >/dev/null

# ---------------------------------------------------------------------------------------------
# runtime: venv + code + model, non-root, read-only friendly
# ---------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS runtime
# Declared again so the label below can name it (an ARG before FROM is outside every stage).
ARG BASE_IMAGE
# The installed model directory (MODEL_DIR layout: current -> versions/<v>), fetched by
# `manage.py fetch_model` before the build.
ARG MODEL_SRC=var/model
ARG APP_VERSION=0.0.0
ARG APP_REVISION=unknown
ARG MODEL_NAME=unknown
ARG MODEL_VERSION=unknown
# What the build asked the model store for (champion, latest or a version); MODEL_VERSION is
# the version it resolved to.
ARG MODEL_REF=unknown
ARG BUILD_DATE=unknown

LABEL org.opencontainers.image.title="catsite" \
      org.opencontainers.image.description="Cat encyclopedia that identifies a cat from a photo (Django + ONNX Runtime)" \
      org.opencontainers.image.version="${APP_VERSION}" \
      org.opencontainers.image.revision="${APP_REVISION}" \
      org.opencontainers.image.created="${BUILD_DATE}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="${BASE_IMAGE}" \
      io.catsite.model.name="${MODEL_NAME}" \
      io.catsite.model.version="${MODEL_VERSION}" \
      io.catsite.model.ref="${MODEL_REF}"

# A fixed, high UID/GID (the Helm chart runs as 10001) with no login shell and no home.
RUN groupadd --gid 10001 catsite \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin catsite

ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=catsite.settings \
    APP_REVISION=${APP_REVISION} \
    STATIC_ROOT=/app/staticfiles \
    MODEL_DIR=/app/var/model \
    MEDIA_ROOT=/app/var/media \
    MODEL_REQUIRED=1 \
    PORT=8000
# gunicorn's other settings (WEB_CONCURRENCY, GUNICORN_THREADS, ...) and their defaults live
# in catsite/gunicorn_conf.py only; deploy/docker/start.sh runs gunicorn with it.

COPY --from=build /venv /venv
COPY --from=build /src /app
COPY ${MODEL_SRC} /app/var/model
# Code and model stay root-owned and read-only for the app user; only media and shared feedback
# photos are writable (and /tmp). In Kubernetes the root file system is read-only and media goes to Azure Blob Storage.
RUN mkdir -p /app/var/media /app/var/feedback-photos \
    && chown catsite:catsite /app/var/media /app/var/feedback-photos
WORKDIR /app
USER 10001:10001
# The site, and its Prometheus metrics (METRICS_PORT, served by gunicorn's master).
EXPOSE 8000 9100

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/app/deploy/docker/healthcheck.py"]

# Roles: `web` (the default), `model` (serve_model), or any command (deploy/docker/start.sh).
ENTRYPOINT ["/app/deploy/docker/start.sh"]
CMD ["web"]
