"""Settings, all read from the environment in this one place.

Defaults are for a newcomer's laptop (SQLite, eager Celery, DEBUG on only when
asked); production sets DATABASE_URL, REDIS_URL, SECRET_KEY and DEBUG=false.
"""
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str(
    "SECRET_KEY",
    # Only the quickstart runs without a SECRET_KEY; `check --deploy` flags this value.
    default="django-insecure-quickstart-only-change-me",
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_celery_beat",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "crm",
    "students",
    "parents",
    "lifecycle",
    "marketing",
    "dataio",
    "webhooks",
    "timetable",
    "workspace",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "crm.badinput.RejectNulBytesMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "crm.urls"

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
                "workspace.context_processors.nav",
            ],
        },
    },
]

WSGI_APPLICATION = "crm.wsgi.application"
ASGI_APPLICATION = "crm.asgi.application"

# Embedded default: a SQLite file next to manage.py. DATABASE_URL switches to PostgreSQL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Lets the quickstart's runserver and an eager Celery task share the file without
    # "database is locked" under light concurrent use.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Number formats that differ from Django's per language (money grouping): crm/formats.
FORMAT_MODULE_PATH = ["crm.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
# In DEBUG and tests whitenoise serves straight from the finders, no collectstatic needed.
WHITENOISE_USE_FINDERS = DEBUG or env.bool("WHITENOISE_USE_FINDERS", default=False)
MEDIA_ROOT = BASE_DIR / "media"
MEDIA_URL = "media/"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"

# Security: safe by default, relaxed only when DEBUG is on (the quickstart).
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=[])
if "sqlite" in DATABASES["default"]["ENGINE"]:
    # The covering indexes are a PostgreSQL speed-up (the nightly job); on SQLite (the
    # quickstart) their key columns are indexed anyway, which is all it needs.
    SILENCED_SYSTEM_CHECKS.append("models.W040")

# Celery. Without REDIS_URL tasks run eagerly in-process (documented quickstart default);
# production and CI set REDIS_URL and run a real worker.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Not losing work: a task is acknowledged only after it finished, and a chunk whose worker
# died is re-queued instead of silently acked (acks_late alone would lose it).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Longer than the longest chunk, so Redis does not redeliver a chunk still running.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_RESULT_EXPIRES = 86400
# The nightly lifecycle run: accounts per chunk (one transaction each) and how many
# worker tasks share a run (match the worker's --concurrency; lifecycle.pipeline).
LIFECYCLE_CHUNK_SIZE = env.int("LIFECYCLE_CHUNK_SIZE", default=1000)
LIFECYCLE_SCAN_WORKERS = env.int("LIFECYCLE_SCAN_WORKERS", default=1)

# Cache: throttling counters and rate limits (API, enquiry page) must be shared by every
# web process, so production keeps them in Redis; a laptop without Redis uses memory.
# CACHE_URL wins; otherwise the broker's Redis server with another db (REDIS_CACHE_DB,
# default the broker's db + 1): cache.clear() flushes its whole db and must never take
# the Celery queue with it.
def _cache_location() -> str:
    explicit = env.str("CACHE_URL", default="")
    if explicit or not REDIS_URL:
        return explicit
    parts = urlsplit(REDIS_URL)
    broker_db = int(parts.path.lstrip("/") or 0)
    db = env.int("REDIS_CACHE_DB", default=(broker_db + 1) % 16)
    return urlunsplit(parts._replace(path=f"/{db}"))


CACHE_URL = _cache_location()
if CACHE_URL and CACHE_URL.rstrip("/") == (REDIS_URL or "").rstrip("/"):
    raise ImproperlyConfigured("CACHE_URL must not be the Celery broker's Redis db.")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="k12crm"),
    } if CACHE_URL else {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    },
}

REST_FRAMEWORK = {
    # Conventions for every endpoint live in crm/api/ and docs/api.md.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["crm.api.permissions.CapabilityPermission"],
    "DEFAULT_PARSER_CLASSES": [
        "crm.api.parsers.JSONParser",  # a too deeply nested body is a 400
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "crm.api.filters.SearchFilter",
        "crm.api.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "crm.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "crm.api.schema.CrmAutoSchema",
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.NamespaceVersioning",
    "DEFAULT_VERSION": "v1",
    "ALLOWED_VERSIONS": ["v1"],
    "EXCEPTION_HANDLER": "crm.api.errors.exception_handler",
    "NON_FIELD_ERRORS_KEY": "non_field_errors",
    "DEFAULT_THROTTLE_CLASSES": [
        "crm.api.throttling.UserRateThrottle",
        "crm.api.throttling.AnonRateThrottle",
    ],
    # Per token (user) and per IP for anonymous calls (the token endpoint); a sync client
    # paging through a branch stays well under the user rate.
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER", default="600/minute"),
        "anon": env.str("API_THROTTLE_ANON", default="20/minute"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Idempotency-Key answers are kept this long (a nightly beat task deletes older ones):
# a client retrying later than this creates anew.
IDEMPOTENCY_KEY_RETENTION_DAYS = env.int("IDEMPOTENCY_KEY_RETENTION_DAYS", default=7)
SPECTACULAR_SETTINGS = {
    "TITLE": "K12 CRM API",
    "DESCRIPTION": (
        "Students, parents, contracts, attendance, engagement and lifecycle periods of a "
        "K12 tutoring chain. Authenticate with `Authorization: Token <key>` (POST "
        "/api/v1/auth/token/) or a browser session. Every record is scoped to what your role "
        "may see: other branches' records answer 404. Errors always have the body "
        '`{"error": {"code", "message", "fields"}}`. Guide: docs/api.md.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per choice set shared by several fields (drf-spectacular would otherwise
    # invent hashed names such as StatusFd9Enum).
    "ENUM_NAME_OVERRIDES": {
        "PeriodEnum": "lifecycle.periods.Period",
        "CounterpartEnum": "students.models.engagement.Counterpart",
        "ContractStatusEnum": "students.models.Contract.Status",
        "AttendanceStatusEnum": "students.models.Attendance.Status",
        "RefundStatusEnum": "students.models.Refund.Status",
        "ComplaintStatusEnum": "students.models.Complaint.Status",
        "PaymentMethodEnum": "students.models.Payment.Method",
        "ConsentMethodEnum": "parents.models.GuardianConsent.Method",
        "ScanRunStatusEnum": "lifecycle.models.ScanRun.Status",
        "ImportKindEnum": "dataio.models.ImportKind",
        "ContactChannelEnum": "parents.models.ContactConsent.Channel",
        "ProspectTierEnum": "marketing.models.Tier",
        "LedgerKindEnum": "students.models.LedgerEntry.Kind",
        "ExamKindEnum": "students.models.ExamScore.Kind",
        "WebhookEventTypeEnum": "webhooks.models.EventType",
        "WebhookDeliveryStatusEnum": "webhooks.models.WebhookDelivery.Status",
    },
    "SECURITY": [{"tokenAuth": []}, {"cookieAuth": []}],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SORT_OPERATIONS": False,
    "DEFAULT_GENERATOR_CLASS": "crm.api.schema.SchemaGenerator",
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Minors' privacy (PIPL art. 28/31): data of children under this age is sensitive and
# needs a guardian's consent on record before it is stored.
PIPL_CONSENT_AGE = 14
# Phone numbers without a country code are read as mainland China numbers.
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="CN")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Outbound notices to parents (crm/messaging): one backend for all channels, or one per
# channel. Development prints to the console; production sets the gateway adapters.
MESSAGING_BACKEND = env.str("MESSAGING_BACKEND",
                            default="crm.messaging.backends.console.ConsoleBackend")
MESSAGING_CHANNEL_BACKENDS = env.dict("MESSAGING_CHANNEL_BACKENDS", default={})
MESSAGING_SMS_URL = env.str("MESSAGING_SMS_URL", default="")
MESSAGING_SMS_TOKEN = env.str("MESSAGING_SMS_TOKEN", default="")
MESSAGING_WECHAT_URL = env.str("MESSAGING_WECHAT_URL", default="")
MESSAGING_WECHAT_TOKEN = env.str("MESSAGING_WECHAT_TOKEN", default="")
MESSAGING_WECHAT_TEMPLATES = env.dict("MESSAGING_WECHAT_TEMPLATES", default={})
MESSAGING_FILE_PATH = env.str("MESSAGING_FILE_PATH", default="")
MESSAGING_MAX_RETRIES = env.int("MESSAGING_MAX_RETRIES", default=5)
MESSAGING_RETRY_BACKOFF = env.int("MESSAGING_RETRY_BACKOFF", default=30)

# Outbound webhooks (webhooks/): signed POSTs retried by Celery with exponential backoff
# (WEBHOOKS_RETRY_BACKOFF seconds, doubling per attempt, capped). Production refuses plain
# http and internal hosts (a manager must not be able to make the server call the LAN).
WEBHOOKS_MAX_ATTEMPTS = env.int("WEBHOOKS_MAX_ATTEMPTS", default=8)
WEBHOOKS_RETRY_BACKOFF = env.float("WEBHOOKS_RETRY_BACKOFF", default=30.0)
WEBHOOKS_RETRY_BACKOFF_MAX = env.float("WEBHOOKS_RETRY_BACKOFF_MAX", default=6 * 3600.0)
WEBHOOKS_TIMEOUT = env.float("WEBHOOKS_TIMEOUT", default=5.0)
WEBHOOKS_BATCH_SIZE = env.int("WEBHOOKS_BATCH_SIZE", default=200)
WEBHOOKS_REQUIRE_HTTPS = env.bool("WEBHOOKS_REQUIRE_HTTPS", default=not DEBUG)
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", default=DEBUG)

# The institution's name as printed on receipts (收据抬头).
INSTITUTION_NAME = env.str("INSTITUTION_NAME", default="K12 教育培训中心")
