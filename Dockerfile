# catsite: one Dockerfile, a target per image role (the roles of pyproject.toml):
#   web     the site (gunicorn): requirements/web.txt, no PyTorch, KServe or test tools
#   model   the model alone over the Open Inference Protocol v2 (manage.py serve_model):
#           requirements/model.txt, the web role plus KServe
# Both carry the code and the installed model; they differ in their venv and default command.
#
# Build from the repository root after fetching the model and building the role's wheelhouse
# (what deploy/ci/build-image.sh does):
#   docker build --target web --build-arg APP_REVISION=$(git rev-parse HEAD) \
#     --build-arg MODEL_NAME=... --build-arg MODEL_VERSION=... -t catsite .
# BASE_IMAGE is a public slim Python image by default; CI here passes a locally made Debian
# bookworm image (no registry is reachable). Both have Python 3.11, matching the wheelhouse.
ARG BASE_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------------------------
# venv-web, venv-model: each role's venv from its lock and the wheelhouse, without network
# (deploy/docker/install-venv.sh; the locks carry hashes, pip checks every wheel)
# ---------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS venv-web
# Wheels for the image roles' locks (deploy/ci/build-wheelhouse.sh), inside the build context.
ARG WHEELHOUSE=var/build/wheelhouse
COPY deploy/docker/install-venv.sh requirements/web.txt /tmp/
COPY ${WHEELHOUSE} /wheels
RUN /tmp/install-venv.sh /tmp/web.txt

FROM ${BASE_IMAGE} AS venv-model
ARG WHEELHOUSE=var/build/wheelhouse
COPY deploy/docker/install-venv.sh requirements/model.txt /tmp/
COPY ${WHEELHOUSE} /wheels
RUN /tmp/install-venv.sh /tmp/model.txt

# ---------------------------------------------------------------------------------------------
# app-web, app-model: the whole tree (what lives where is the code's business), collected
# static files and bytecode, with each role's venv (deploy/docker/compile-app.sh)
# ---------------------------------------------------------------------------------------------
FROM venv-web AS app-web
WORKDIR /app
COPY . .
RUN deploy/docker/compile-app.sh web

FROM venv-model AS app-model
WORKDIR /app
COPY . .
RUN deploy/docker/compile-app.sh model

# ---------------------------------------------------------------------------------------------
# runtime: what both images share (user, settings, entry point), non-root, read-only friendly;
# then the targets web and model: their venv, the code, the model
# ---------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS runtime
# Declared again so the label below can name it (an ARG before FROM is outside every stage).
ARG BASE_IMAGE
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
      org.opencontainers.image.licenses="Apache-2.0" \
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
    PYTHONPYCACHEPREFIX=/pycache \
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

# Code and model (copied below) stay root-owned and read-only for the app user; only media and
# shared feedback photos are writable (and /tmp). In Kubernetes the root file system is
# read-only and media goes to Azure Blob Storage.
RUN mkdir -p /app/var/media /app/var/feedback-photos \
    && chown catsite:catsite /app/var/media /app/var/feedback-photos
WORKDIR /app
USER 10001:10001
# The site, and its Prometheus metrics (METRICS_PORT, served by gunicorn's master).
EXPOSE 8000 9100

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/app/deploy/docker/healthcheck.py"]

# Roles: `web`, `model` (serve_model), or any command (deploy/docker/start.sh).
ENTRYPOINT ["/app/deploy/docker/start.sh"]

# The venv first: it changes with the lock only, so its layer is reused across code changes.
FROM runtime AS web
# The installed model directory (MODEL_DIR layout: current -> versions/<v>), fetched by
# `manage.py fetch_model` before the build.
ARG MODEL_SRC=var/model
LABEL io.catsite.role="web"
COPY --from=venv-web /venv /venv
COPY --from=app-web /app /app
COPY --from=app-web /pycache /pycache
COPY ${MODEL_SRC} /app/var/model
CMD ["web"]

FROM runtime AS model
ARG MODEL_SRC=var/model
LABEL io.catsite.role="model" \
      org.opencontainers.image.description="catsite's model alone over the Open Inference Protocol v2 (KServe + ONNX Runtime)"
COPY --from=venv-model /venv /venv
COPY --from=app-model /app /app
COPY --from=app-model /pycache /pycache
COPY ${MODEL_SRC} /app/var/model
EXPOSE 8080
CMD ["model"]
