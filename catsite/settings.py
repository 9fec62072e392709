"""
catsite settings, read from environment variables only (https://12factor.net/config).

Every variable is documented in README.md ("Configuration"). The defaults suit a newcomer's
machine (SQLite, local files); production sets DJANGO_DEBUG off, which makes a secret key and
allowed hosts mandatory. https://docs.djangoproject.com/en/stable/ref/settings/
"""
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from catsite import __version__

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

# --------------------------------------------------------------------------------------------
# Core
# https://docs.djangoproject.com/en/stable/ref/settings/#debug
# --------------------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Production (DJANGO_DEBUG off) needs a long random "
            "secret key; for local development set DJANGO_DEBUG=1."
        )
    SECRET_KEY = "django-insecure-local-development-only"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# The kubelet's HTTP probes name the pod's IP as their Host (the chart sets POD_IP).
if env.str("POD_IP", default=""):
    ALLOWED_HOSTS.append(env.str("POD_IP"))

APP_VERSION = __version__
# The image build passes the revision in (an image has no .git); empty: a checkout's own commit,
# read when /version first asks (catsite/revision.py), never at import.
APP_REVISION = env.str("APP_REVISION", default="")

# --------------------------------------------------------------------------------------------
# Applications
# --------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "catsite.apps.AdminConfig",  # django.contrib.admin with catsite/admin_site.py
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files for /api/docs/, served by us (no CDN)
    "simple_history",  # the edit history of the encyclopedia (species/models.py)
    "catsite",
    "core",
    "species",
    "classifier",
    "feedback",
]

MIDDLEWARE = [
    # First: the request id and a log line per answer (core/logs.py), then the metrics of
    # every answer, whoever gives it (core/metrics.py).
    "core.logs.RequestLogMiddleware",
    "core.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "catsite.security_headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "catsite.middleware.UploadSizeLimitMiddleware",
    "catsite.middleware.IdentifyConcurrencyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Names the signed-in user in the edit history of whatever a request saves.
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so it sees the exceptions of views first: an AppError becomes its JSON or page.
    "core.http_errors.AppErrorMiddleware",
]

ROOT_URLCONF = "catsite.urls"
WSGI_APPLICATION = "catsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "catsite.context_processors.site",
            ],
        },
    },
]

# --------------------------------------------------------------------------------------------
# Database: SQLite file by default, PostgreSQL in production through DATABASE_URL.
# https://docs.djangoproject.com/en/stable/ref/settings/#databases
# --------------------------------------------------------------------------------------------
VAR_DIR = Path(env.str("CATSITE_VAR_DIR", default=str(BASE_DIR / "var")))
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # SQLite's default rollback journal syncs the disk several times a commit: every
    # identification (one row) waited 5-16 ms for it, more than the inference. Write-ahead
    # logging with synchronous=NORMAL syncs only at checkpoints (0.6 ms a row; a power cut may
    # lose the last commits, never the database's consistency). PostgreSQL, production's
    # database, is unaffected. https://www.sqlite.org/wal.html
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
# (SQLite's folder is created at start-up, by catsite/apps.py: settings do no I/O.)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --------------------------------------------------------------------------------------------
# Caches: local memory by default, Redis in production. Two aliases, so that pages cannot
# crowd out the counters: "default" holds the page cache (CACHE_URL=redis://host:6379/0),
# "counters" the rate limits and the admin login lockout (COUNTERS_CACHE_URL, else CACHE_URL;
# a Redis of its own gives them their own memory and eviction). Either may be down: pages are
# then served uncached and counters counted per process in "counters-fallback"
# (core/shared_cache.py). A cache call gives up after CACHE_TIMEOUT_SECONDS.
# https://docs.djangoproject.com/en/stable/topics/cache/
# --------------------------------------------------------------------------------------------
CACHE_URL = env.str("CACHE_URL", default="locmem://")
COUNTERS_CACHE_URL = env.str("COUNTERS_CACHE_URL", default="") or CACHE_URL
CACHE_TIMEOUT_SECONDS = env.float("CACHE_TIMEOUT_SECONDS", default=0.5)


def _cache(url: str, name: str) -> dict:
    if url.startswith(("redis://", "rediss://")):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
                # Options of redis-py's connection pool. Its defaults wait for the operating
                # system's TCP timeouts (minutes) on a Redis that does not answer.
                "OPTIONS": {"socket_connect_timeout": CACHE_TIMEOUT_SECONDS,
                            "socket_timeout": CACHE_TIMEOUT_SECONDS}}
    if url and url.split("://", 1)[0] != "locmem":
        raise ImproperlyConfigured(f"{name} is {url!r}: use redis://host:6379/0 (rediss:// "
                                   "for TLS), or locmem:// for this process's memory.")
    return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": name}


CACHES = {
    "default": _cache(CACHE_URL, "CACHE_URL"),
    "counters": _cache(COUNTERS_CACHE_URL, "COUNTERS_CACHE_URL"),
    "counters-fallback": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                          "LOCATION": "counters-fallback"},
}
# Encyclopedia pages and illustrations are kept whole in that cache (core/page_cache.py) for
# at most this long; an edit invalidates what it changed at once, for every process that shares
# the cache. Off by default in development (templates are edited live) and when local memory
# would be one copy among several gunicorn workers (catsite/gunicorn_conf.py says how many):
# an edit could not reach the other workers' copies. 0 turns it off.
_CACHE_SHARED = "LocMemCache" not in CACHES["default"]["BACKEND"]
_ONE_PROCESS = env.int("SERVER_WORKER_PROCESSES", default=1) == 1
PAGE_CACHE_SECONDS = env.int(
    "PAGE_CACHE_SECONDS", default=3600 if not DEBUG and (_CACHE_SHARED or _ONE_PROCESS) else 0)

# --------------------------------------------------------------------------------------------
# Passwords, language, time
# --------------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --------------------------------------------------------------------------------------------
# Static files (served by whitenoise, no CDN) and media (species images uploaded in admin)
# https://whitenoise.readthedocs.io/
# --------------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_URL = env.str("MEDIA_URL", default="/media/")
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed names need collectstatic first; development serves the sources.
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Serve uploaded media from Django itself when no object store is configured (one replica or
# local development); with several replicas an object store is needed (see README).
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)

# --------------------------------------------------------------------------------------------
# Uploads
# https://docs.djangoproject.com/en/stable/ref/settings/#data-upload-max-memory-size
# --------------------------------------------------------------------------------------------
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=20 * 1024 * 1024)
# Phone photos (2-8 MB) stay in memory: writing them to a temp file and reading them back cost
# about 4 ms a 12 MP upload (bench/). Larger uploads go to a private temp file, never to a
# public location. Worst case in memory: 10 MB per thread of every worker.
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = env.str("FILE_UPLOAD_TEMP_DIR", default=None)
# Django's two handlers, parsing in 1 MB chunks instead of 64 KB (catsite/uploads.py).
FILE_UPLOAD_HANDLERS = ["catsite.uploads.MemoryFileUploadHandler1MB",
                        "catsite.uploads.TemporaryFileUploadHandler1MB"]

# --------------------------------------------------------------------------------------------
# Photo identification (classifier app)
# --------------------------------------------------------------------------------------------
MODEL_DIR = Path(env.str("MODEL_DIR", default=str(VAR_DIR / "model")))
MODEL_REQUIRED = env.bool("MODEL_REQUIRED", default=False)
CAT_THRESHOLD = env.float("CAT_THRESHOLD", default=0.5)
CLASSIFIER_TOP_K = env.int("CLASSIFIER_TOP_K", default=5)
# ONNX Runtime intra-op threads per process (0: let ONNX Runtime choose; under gunicorn,
# catsite/gunicorn_conf.py divides the cores between the workers unless this is set).
MODEL_THREADS = env.int("MODEL_THREADS", default=0)
# The model as its own service (manage.py serve_model, the Open Inference Protocol v2): with
# INFERENCE_URL (http://host:port) this process loads no model and identifies through it,
# giving up after INFERENCE_TIMEOUT seconds, and retrying INFERENCE_RETRIES times after a
# refused connection or a 502-504. The model it asks for is MODEL_NAME.
INFERENCE_URL = env.str("INFERENCE_URL", default="")
INFERENCE_TIMEOUT = env.float("INFERENCE_TIMEOUT", default=10.0)
INFERENCE_RETRIES = env.int("INFERENCE_RETRIES", default=1)
# Identifications per client ("30/minute"; "off" switches the limit off), counted in the cache.
IDENTIFY_RATE_LIMIT = env.str("IDENTIFY_RATE_LIMIT", default="30/minute")
# Decoding uploads within a memory budget (catmodel/inference/decode_memory.py): the memory
# one decode may take (larger images of formats without JPEG's reduced-size decoding are refused
# with 413), how many such large decodes a worker process runs at once, and how long an upload
# waits for one before it gets 503 with Retry-After. Worker peak: about 210 MB + slots x budget
# + 8 MB per other thread.
IDENTIFY_DECODE_MEMORY_MB = env.int("IDENTIFY_DECODE_MEMORY_MB", default=144)
IDENTIFY_LARGE_DECODES = env.int("IDENTIFY_LARGE_DECODES", default=1)
IDENTIFY_DECODE_WAIT_SECONDS = env.float("IDENTIFY_DECODE_WAIT_SECONDS", default=5.0)
# Identifications a web process serves at once (catsite/middleware.py); one more is answered
# 503 with Retry-After before its upload is read, so that slow uploads cannot take every thread
# from the pages and probes. Under gunicorn: its threads but one unless set (gunicorn_conf.py).
# 0: no cap.
IDENTIFY_MAX_CONCURRENT = env.int("IDENTIFY_MAX_CONCURRENT", default=2)

# A challenger scored in the shadow (classifier/shadow.py): an installed model directory like
# MODEL_DIR, and the share of identifications (0..1) it also scores, off the response's path.
MODEL_CHALLENGER_DIR = Path(env.str("MODEL_CHALLENGER_DIR")) if env.str(
    "MODEL_CHALLENGER_DIR", default="") else None
MODEL_SHADOW_RATE = env.float("MODEL_SHADOW_RATE", default=0.0)
if not 0 <= MODEL_SHADOW_RATE <= 1:
    raise ImproperlyConfigured(
        f"MODEL_SHADOW_RATE is {MODEL_SHADOW_RATE}: use a share between 0 and 1 (0.1: one "
        "identification in ten is also scored by the challenger).")

# Drift (classifier/drift.py): each model version's answers over the last DRIFT_WINDOW_DAYS days
# of identifications against the reference profile in its package, by the population stability
# index; none below DRIFT_MIN_IDENTIFICATIONS answers (sampling noise alone gives about
# (bins - 1) / n). Under gunicorn one worker recomputes the gauges every DRIFT_REFRESH_SECONDS
# (0: never) for the metrics port.
DRIFT_WINDOW_DAYS = env.int("DRIFT_WINDOW_DAYS", default=7)
DRIFT_MIN_IDENTIFICATIONS = env.int("DRIFT_MIN_IDENTIFICATIONS", default=100)
DRIFT_REFRESH_SECONDS = env.int("DRIFT_REFRESH_SECONDS", default=300)
if DRIFT_WINDOW_DAYS < 1 or DRIFT_MIN_IDENTIFICATIONS < 1 or DRIFT_REFRESH_SECONDS < 0:
    raise ImproperlyConfigured(
        "DRIFT_WINDOW_DAYS and DRIFT_MIN_IDENTIFICATIONS must be at least 1 and "
        "DRIFT_REFRESH_SECONDS at least 0 (0: the drift gauges are not computed).")

# --------------------------------------------------------------------------------------------
# Model store: where publish_model uploads packages and fetch_model downloads them from
# (catmodel/delivery/). MODEL_STORE is "azure" or a local directory (relative paths are under
# the project folder); empty means not configured. Azure credentials, first match wins:
# connection string; account URL + SAS token; account URL + DefaultAzureCredential.
# Secrets come only from the environment and are never printed.
# --------------------------------------------------------------------------------------------
MODEL_STORE = env.str("MODEL_STORE", default="")
MODEL_NAME = env.str("MODEL_NAME", default="efficientnet-lite0-imagenet")
MODEL_STORE_CONTAINER = env.str("MODEL_STORE_CONTAINER", default="models")
MODEL_STORE_PREFIX = env.str("MODEL_STORE_PREFIX", default="")
AZURE_STORAGE_CONNECTION_STRING = env.str("AZURE_STORAGE_CONNECTION_STRING", default="")
AZURE_STORAGE_ACCOUNT_URL = env.str("AZURE_STORAGE_ACCOUNT_URL", default="")
AZURE_STORAGE_SAS_TOKEN = env.str("AZURE_STORAGE_SAS_TOKEN", default="")
AZURE_USE_DEFAULT_CREDENTIAL = env.bool("AZURE_USE_DEFAULT_CREDENTIAL", default=False)
# Per request: connect and read timeouts, and retries after the first attempt. The SDK's own
# defaults take minutes to give up on a dead endpoint.
MODEL_STORE_TIMEOUT_SECONDS = env.float("MODEL_STORE_TIMEOUT_SECONDS", default=10.0)
MODEL_STORE_RETRIES = env.int("MODEL_STORE_RETRIES", default=2)
# MODEL_STORE=mlflow: an MLflow model registry (tracking server or Azure ML workspace); the
# registered model defaults to MODEL_NAME. Its credentials are MLflow's own variables
# (MLFLOW_TRACKING_TOKEN, MLFLOW_TRACKING_USERNAME/PASSWORD), read by the client.
MLFLOW_TRACKING_URI = env.str("MLFLOW_TRACKING_URI", default="")
MLFLOW_REGISTERED_MODEL = env.str("MLFLOW_REGISTERED_MODEL", default="")
# With MLFLOW_TRACKING_URI, train_model and evaluate_model log a run in this experiment
# (catmodel/tracking.py; --no-tracking skips it). MLflow's own variable of the same meaning.
MLFLOW_EXPERIMENT_NAME = env.str("MLFLOW_EXPERIMENT_NAME", default="catsite")
# Installed versions kept besides the current one, for rollback (fetch_model --keep).
MODEL_KEEP_VERSIONS = env.int("MODEL_KEEP_VERSIONS", default=2)
# The lowest version fetch_model installs (empty: no floor); an alias pointing below the
# installed version is refused too. fetch_model --allow-downgrade overrides both
# (catmodel/delivery/rollback.py).
MODEL_MIN_VERSION = env.str("MODEL_MIN_VERSION", default="")

# --------------------------------------------------------------------------------------------
# Model signing and what is trusted (catmodel/inference/signatures.py, docs/model-delivery.md)
# --------------------------------------------------------------------------------------------
# The EC private key (PEM path) that publish_model and build_model sign with, and the public
# keys (comma-separated PEM paths; several during a rotation) whose signature fetch_model, the
# web process and serve_model require. Without trusted keys packages are not checked for a
# signature.
MODEL_SIGNING_KEY = env.str("MODEL_SIGNING_KEY", default="")
MODEL_TRUSTED_KEYS = [path.strip() for path in env.list("MODEL_TRUSTED_KEYS", default=[])
                      if path.strip()]
# With DJANGO_DEBUG off and no trusted keys the web process and serve_model refuse to start,
# unless this says that serving unsigned models is deliberate (classifier/signing_policy.py).
MODEL_ALLOW_UNSIGNED = env.bool("MODEL_ALLOW_UNSIGNED", default=False)
# A manifest that declares a file over this size, or more files than this, is refused before
# anything is downloaded.
MODEL_MAX_FILE_BYTES = env.int("MODEL_MAX_FILE_BYTES", default=1024 ** 3)
MODEL_MAX_FILES = env.int("MODEL_MAX_FILES", default=8)

# --------------------------------------------------------------------------------------------
# Media in Azure Blob Storage (deployment, issue 5): species images uploaded in admin go to one
# blob container that every replica shares. On when AZURE_MEDIA_CONTAINER is set; credentials
# and URL signing are explained in catsite/media_storage.py.
# https://django-storages.readthedocs.io/en/latest/backends/azure.html
# --------------------------------------------------------------------------------------------
AZURE_MEDIA_CONTAINER = env.str("AZURE_MEDIA_CONTAINER", default="")
# The storage account of the media container, and of the feedback photos' container below
# (lower case: not a setting, so it never shows on a debug page with the account key in it).
_azure_media_account = {
    "connection_string": env.str("AZURE_MEDIA_CONNECTION_STRING",
                                 default=AZURE_STORAGE_CONNECTION_STRING),
    "account_name": env.str("AZURE_ACCOUNT_NAME", default=""),
    "account_key": env.str("AZURE_ACCOUNT_KEY", default=""),
    "timeout_seconds": env.float("AZURE_MEDIA_TIMEOUT_SECONDS", default=10.0),
}
if AZURE_MEDIA_CONTAINER:
    from catsite.media_storage import azure_media_storage, media_origin

    STORAGES["default"] = azure_media_storage(
        container=AZURE_MEDIA_CONTAINER, **_azure_media_account,
        url_expiry_seconds=env.int("AZURE_MEDIA_URL_EXPIRY_SECONDS", default=3600),
    )
    # Signed photo URLs point at the storage account: the CSP's img-src allows that origin.
    MEDIA_ORIGIN = media_origin(STORAGES["default"]["OPTIONS"])
    # The blob store serves media; Django must not serve a local folder instead.
    SERVE_MEDIA = False

# --------------------------------------------------------------------------------------------
# Feedback (feedback app): identification ids, the feedback rate limit, and the private storage
# of the photos visitors share. Never under MEDIA_ROOT's public URL: a folder of its own, or a
# private blob container (same account settings as the media container above).
# --------------------------------------------------------------------------------------------
IDENTIFICATION_EXPIRY_HOURS = env.int("IDENTIFICATION_EXPIRY_HOURS", default=24)
FEEDBACK_RATE_LIMIT = env.str("FEEDBACK_RATE_LIMIT", default="20/hour")
FEEDBACK_AZURE_CONTAINER = env.str("FEEDBACK_AZURE_CONTAINER", default="")
if FEEDBACK_AZURE_CONTAINER:
    from catsite.media_storage import azure_media_storage

    STORAGES["feedback"] = azure_media_storage(
        container=FEEDBACK_AZURE_CONTAINER, **_azure_media_account,
        url_expiry_seconds=0,  # no URL is ever made for a kept photo
    )
else:
    STORAGES["feedback"] = {
        "BACKEND": "feedback.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": env.str("FEEDBACK_PHOTO_DIR",
                                        default=str(VAR_DIR / "feedback-photos"))},
    }

# --------------------------------------------------------------------------------------------
# REST framework and OpenAPI
# https://www.django-rest-framework.org/api-guide/settings/
# --------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Session only: DRF's default also checks HTTP Basic credentials, a password-guessing door
    # beside the admin login's lockout (one PBKDF2 hash per guess, no throttle).
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "catsite.api.Pagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "core.http_errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "catsite API",
    "DESCRIPTION": "Cat species and breeds, and identification of a cat from a photo.",
    "VERSION": APP_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    # The browsable UI is served from the sidecar package, so no CDN is needed.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation documents its errors with the one Error component (core/api_schema.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "core.api_schema.document_errors"],
    # Every endpoint is public (AllowAny): no security schemes, so the docs show no
    # "Authorize" button and no locks. SessionAuthentication stays on for the browsable API.
    "AUTHENTICATION_WHITELIST": [],
}

# --------------------------------------------------------------------------------------------
# Security. DJANGO_HTTPS=1 when the site is served over HTTPS (behind an ingress that sets
# X-Forwarded-Proto). https://docs.djangoproject.com/en/stable/howto/deployment/checklist/
# --------------------------------------------------------------------------------------------
HTTPS = env.bool("DJANGO_HTTPS", default=False)
# Reverse proxies in front of the site that append to X-Forwarded-For (1 behind the ingress):
# rate limits and the admin lockout then count the address the nearest proxy saw.
RATE_LIMIT_TRUSTED_PROXIES = env.int("RATE_LIMIT_TRUSTED_PROXIES", default=0)
# Admin login: this many failures for one username from one client lock that pair out for
# ADMIN_LOGIN_LOCKOUT_SECONDS (the failures are counted over the same period).
ADMIN_LOGIN_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=5)
ADMIN_LOGIN_LOCKOUT_SECONDS = env.int("ADMIN_LOGIN_LOCKOUT_SECONDS", default=900)
# Login attempts from one client, whatever the usernames, per ADMIN_LOGIN_LOCKOUT_SECONDS.
LOGIN_ATTEMPTS_PER_CLIENT = env.int("LOGIN_ATTEMPTS_PER_CLIENT", default=20)
# /version and /readyz tell the public no runtime versions or file paths unless this is on.
HEALTH_SHOW_DETAILS = env.bool("HEALTH_SHOW_DETAILS", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Probes reach pods over plain HTTP inside the cluster.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^version$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=True)

# --------------------------------------------------------------------------------------------
# Logging: one line a record on stderr, for the container runtime to collect. LOG_FORMAT=json
# (the chart's default) writes one JSON object a line with the request id, and a line per
# answer (core/logs.py); plain text relies on gunicorn's or runserver's access log instead.
# --------------------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOG_FORMAT = env.str("LOG_FORMAT", default="plain").lower()
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT is {LOG_FORMAT!r}: use plain or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "core.logs.JsonFormatter"},
    },
    "filters": {
        # Libraries log request URLs with their query strings; a SAS signature must not reach
        # logs.
        "redact_secrets": {"()": "catmodel.redaction.RedactSecrets"},
        "request_id": {"()": "core.logs.RequestIdFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler", "formatter": LOG_FORMAT,
            "filters": ["redact_secrets", "request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "catsite.request": {"level": LOG_LEVEL if LOG_FORMAT == "json" else "WARNING"},
        # The Azure SDK logs every HTTP request and response at INFO: fetch_model's output in
        # CI would drown in it. AZURE_LOG_LEVEL=INFO (or DEBUG) shows it when debugging.
        "azure": {"level": env.str("AZURE_LOG_LEVEL", default="WARNING").upper()},
    },
}
