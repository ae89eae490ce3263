"""Primetime settings: one file, every deploy-specific value from the environment.

Local defaults run everything on one machine with no server (SQLite, a
file-system Celery broker, an in-memory cache, e-mail on the console). A
production deploy sets ``DEBUG=false`` and must then provide ``SECRET_KEY``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A local .env is a convenience for developers; production sets real variables.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, *, default: bool) -> bool:
    """Read a boolean; a value that is neither true nor false stops the start-up."""
    raw = env.str(name, default=str(default)).strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use true or false.")


DEBUG = env_bool("DEBUG", default=False)

_DEV_SECRET_KEY = "django-insecure-primetime-local-development-only"  # noqa: S105 - DEBUG only
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set when DEBUG is off. "
        "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "portal",
    "accounts",
    "stacks",
    "events",
    "cloud",
    "readiness",
    "scaling",
    "notifications",
    "status",
    "runbooks",
    "live",
    "reports",
]

MIDDLEWARE = [
    # An address with a NUL character names nothing (and would break a lookup): 404 before anything else.
    "portal.http.RefuseNulMiddleware",
    # Then: public status pages are answered from their snapshot before sessions, users or the database.
    "status.middleware.PublicStatusMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "portal.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "accounts.middleware.OrganizationTimezoneMiddleware",
    # Axes last, so it sees the final authentication result.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.tenancy",
            ],
        },
    },
]

# --- Data -------------------------------------------------------------------

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'primetime.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # Web, worker and beat share the file: WAL lets readers run beside the
    # writer, IMMEDIATE avoids "database is locked" on lock upgrades.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default=env.str("REDIS_URL", default="locmemcache://primetime"))}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"].setdefault("OPTIONS", {}).update({"socket_connect_timeout": 2, "socket_timeout": 2})
# Published status page snapshots: shared by every web and worker process, kept until replaced. Redis
# beside the default cache in production; files under var/ in the embedded default.
_default_cache = CACHES["default"]
if "STATUS_CACHE_URL" in os.environ or _default_cache["BACKEND"].endswith("LocMemCache"):
    CACHES["status"] = env.cache_url(
        "STATUS_CACHE_URL", default=f"filecache://{VAR_DIR / 'status-snapshots'}?max_entries=1000000"
    )
else:
    CACHES["status"] = {**_default_cache, "KEY_PREFIX": "snapshots", "OPTIONS": dict(_default_cache.get("OPTIONS", {}))}
CACHES["status"]["TIMEOUT"] = None
STATUS_SNAPSHOT_CACHE = "status"
# How long a web process trusts what it holds in memory before asking the store for the page's version.
STATUS_SNAPSHOT_RECHECK = env.float("STATUS_SNAPSHOT_RECHECK", default=1.0)
# Changes within this many seconds publish once.
STATUS_PUBLISH_DELAY = env.float("STATUS_PUBLISH_DELAY", default=1.0)
# Status probes: the per-request timeout (at most 20 s), the latency above which a 2xx/3xx counts as slow,
# and how many due components one dispatch hands to the probes queue.
STATUS_PROBE_TIMEOUT = env.float("STATUS_PROBE_TIMEOUT", default=10.0)
STATUS_PROBE_SLOW_MS = env.int("STATUS_PROBE_SLOW_MS", default=2000)
STATUS_PROBE_BATCH = env.int("STATUS_PROBE_BATCH", default=200)
# Cache-Control of public status answers: fresh for max-age, then served stale while revalidating, and
# for a day when the portal errs.
STATUS_MAX_AGE = env.int("STATUS_MAX_AGE", default=15)

# --- Auth -------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2

# Brute-force protection on sign-in: lock a (username, IP) pair out after
# repeated failures, and reset the count on success.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.authentication.lockout_username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# How many proxies (load balancer, nginx) append to X-Forwarded-For in front of the portal.
PROXY_COUNT = env.int("PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "portal.http.client_ip"

INVITATION_MAX_AGE = timedelta(days=env.int("INVITATION_MAX_AGE_DAYS", default=7))
# Traffic stays high after air end: the clock completes an event this long after.
EVENT_TAIL = timedelta(hours=env.int("EVENT_TAIL_HOURS", default=3))

# --- Internationalization ---------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploads (status page logos). Nothing serves them: the public page inlines the logo when it is published.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "/media/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- E-mail -----------------------------------------------------------------

vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Primetime <primetime@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 10

# --- Security ---------------------------------------------------------------

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", default=False) else None
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# --- REST API ---------------------------------------------------------------

REST_FRAMEWORK = {
    # The API speaks JSON. Form and multipart bodies read an empty field as "use the default", which the schema
    # cannot say (found by schemathesis, issue 8 scenario 8); no endpoint takes a file.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # Token first: an anonymous call gets 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "portal.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "portal.filters.FilterBackend",  # django-filter, refusing a parameter given twice
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_ANON_RATE", default="60/min"),
        "user": env.str("API_USER_RATE", default="1200/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Primetime API",
    "DESCRIPTION": "Book media events, follow their readiness and scaling, and run status pages.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI served from our own static files, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "EventStatusEnum": "events.models.MediaEvent.Status",
        "ReadinessRunStatusEnum": "readiness.models.ReadinessRun.Status",
        "CloudAccountStatusEnum": "cloud.models.CloudAccount.Status",
        "ScalingPlanStatusEnum": "scaling.models.ScalingPlan.Status",
    },
    # The shared error answers, documented on every operation (portal/api.py; found by scenario 8).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.api.document_error_responses",
    ],
}

# --- Celery -----------------------------------------------------------------

BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # A broker that needs no server: messages are files under var/broker,
    # shared by the web process, the worker and beat on one machine.
    for folder in ("queue", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than any countdown we use, so Redis does not re-deliver a
        # task that a worker holds and will still run.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=60 * 60),
        "socket_timeout": 5,
        "socket_connect_timeout": 5,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = 5
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "purge-ended-invitations": {"task": "accounts.purge_ended_invitations", "schedule": 60 * 60 * 24},
    "advance-events-by-clock": {"task": "events.advance_by_clock", "schedule": 60},
    "start-due-readiness-runs": {"task": "readiness.start_due_runs", "schedule": 60},
    "reap-stale-readiness-checks": {"task": "readiness.reap_stale", "schedule": 120},
    "verify-scaling-plans": {"task": "aws.verify_scaling_plans", "schedule": 60},
    "reconcile-pending-scaling-changes": {"task": "aws.reconcile_pending_changes", "schedule": 60},
    "check-scaling-reverts": {"task": "aws.check_scaling_reverts", "schedule": 300},
    "resend-stuck-scaling-applies": {"task": "aws.resend_stuck_applies", "schedule": 60},
    # Hands each status component whose probe is due to the probes queue (each component has its interval).
    "dispatch-status-probes": {"task": "probes.dispatch_status_probes", "schedule": 15},
    "advance-status-maintenance": {"task": "status.advance_maintenances", "schedule": 60},
    # The live rooms' observed traffic: one GetMetricData batch per event on air (T-1 h to the tail's end).
    "collect-live-metrics": {"task": "aws.collect_live_metrics", "schedule": 60},
}

# --- Logging ----------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line per probe request is noise; failures are in the findings.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# --- Outbound requests -------------------------------------------------------

# Only tests and local benchmarks may let probes reach 127.0.0.0/8 and ::1; private
# ranges and the metadata address stay refused whatever this says.
NETGUARD_ALLOW_LOOPBACK = env_bool("NETGUARD_ALLOW_LOOPBACK", default=False)

# --- AWS --------------------------------------------------------------------

# Empty means real AWS; the embedded default points it at the simulated account (moto on loopback).
AWS_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL", default="") or None
AWS_DEFAULT_REGION = env.str("AWS_DEFAULT_REGION", default="eu-west-3")
# The local simulator (moto) accepts any external id; with this on (and a loopback
# endpoint only), role verification skips the probe that needs a real trust policy.
AWS_SIMULATED_ACCOUNT = env_bool("AWS_SIMULATED_ACCOUNT", default=False)
if AWS_SIMULATED_ACCOUNT:
    # Demo traffic for the live rooms, put into the simulated account only (the task checks it again: an entry
    # left in the beat database by a demo run does nothing against real AWS).
    CELERY_BEAT_SCHEDULE["simulate-demo-traffic"] = {
        "task": "aws.simulate_demo_traffic",
        "schedule": 60,
        "options": {"expires": 55},
    }
# The account clients' trust policies name; moto's default account in the simulation.
PROVIDER_AWS_ACCOUNT_ID = env.str("PROVIDER_AWS_ACCOUNT_ID", default="123456789012")
