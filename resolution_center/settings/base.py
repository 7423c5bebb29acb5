"""Settings shared by every environment; the environment-specific modules import from here."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF

from resolution_center.storage import evidence_storage

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production")
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_q",
    "csp",
    # django-ninja's own static files (Swagger UI) for the API docs page: no CDN.
    "ninja",
    "axes",
    "payments",
    "cases",
    "notifications",
    # The API's `files` resource (create -> upload -> complete), attached to cases by id.
    "uploads",
    # The developer surface: Whop's API, wire-compatible (issue 13).
    "api",
    # Signed webhooks of case changes, with their outbox and delivery log (issue 13).
    "webhooks",
    # The project itself, the top layer: the page frame's template tags and the commands that wire
    # every app together (demo, setup_schedules, generate_dataset).
    "resolution_center",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # Before anything reads the body (CsrfViewMiddleware reads request.POST).
    "resolution_center.security.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "resolution_center.security.SessionLimitsMiddleware",
    "resolution_center.middleware.UserTimeZoneMiddleware",
    "resolution_center.middleware.SignedInPagesNotStoredMiddleware",
    "resolution_center.middleware.AdminEmptyToFieldMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "resolution_center.urls"
WSGI_APPLICATION = "resolution_center.wsgi.application"

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
                "resolution_center.context_processors.unread_notifications",
                "cases.context_processors.resolution_rules",
            ],
        },
    },
]


def database_from_env(default_sqlite_path: Path) -> dict:
    """PostgreSQL when DATABASE_URL says so; otherwise the embedded SQLite file.

    SQLite gets WAL and IMMEDIATE transactions so that concurrent writers (web + task cluster)
    queue for the write lock instead of failing with "database is locked" mid-transaction.
    """
    url = os.environ.get("DATABASE_URL")
    if url:
        config = dj_database_url.parse(url, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")))
    else:
        config = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(default_sqlite_path)}
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config.setdefault("OPTIONS", {}).update(
            {
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            }
        )
    return config


DATABASES = {"default": database_from_env(BASE_DIR / "db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "cases:home"
LOGOUT_REDIRECT_URL = "login"

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # Evidence lives outside any public URL: MEDIA_URL is deliberately unused and files are
    # served only through the access-checking download view.
    # With AWS_STORAGE_BUCKET_NAME set, a private S3 bucket instead (resolution_center/storage.py).
    "default": evidence_storage(default_root=BASE_DIR / "var" / "evidence"),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Email: an SMTP server when EMAIL_HOST is set; without one (development) every email is written
# as a file under var/mail/ so a person can read what was sent. EMAIL_BACKEND overrides both.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not EMAIL_USE_SSL)
# Below the notification claim (notifications.services, EMAIL_CLAIM_SECONDS), so a hung SMTP
# server cannot outlast a claim and have the email sent twice.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.filebased.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Resolution Center <resolutions@example.com>")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

# The task cluster: the ORM broker on the project's own database unless REDIS_URL is set.
REDIS_URL = os.environ.get("REDIS_URL")
Q_CLUSTER = {
    "name": "resolution_center",
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "timeout": 60,
    "retry": 120,  # must exceed timeout, or a slow task is handed out twice
    "max_attempts": 5,
    "queue_limit": 50,
    "bulk": 10,
    "catch_up": False,
    "poll": 1,
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# "page_counts" holds the Resolution Center's status-tab counts and dispute rate for a few seconds
# (cases.selectors). A dummy here, so development and tests always count afresh;
# production.py gives it a real, short-lived cache.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "page_counts": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
}

# The developer API (api/, docs/api.md): calls a minute per key or personal token, answers kept
# for Idempotency-Key replays (a list's page is at most 100, as Whop's).
API = {
    "RATE_LIMIT_PER_MINUTE": 120,
    "IDEMPOTENCY_HOURS": 24,
}

# Resolution Center rules (DOMAIN.md)
RESOLUTION = {
    "RESPONSE_DAYS": 7,
    "REPLY_DAYS": 7,
    "APPEAL_DAYS": 7,
    "ELIGIBILITY_DAYS": 120,
    "MAX_INFO_REQUESTS": 3,
    # Partial refund offers a merchant may make on one case (the database holds it too).
    "MAX_OFFERS": 2,
    # A case's new messages are emailed to a person at most once per this many minutes (one email
    # listing what arrived); the in-app notice is immediate.
    "MESSAGE_EMAIL_MINUTES": 60,
    "MAX_FILES_PER_MESSAGE": 3,
    "MAX_FILE_BYTES": 10 * 1024 * 1024,
    # Per person, over the last 24 hours (cases.attachments.attachments_quota_check).
    "MAX_UPLOAD_FILES_PER_DAY": int(os.environ.get("MAX_UPLOAD_FILES_PER_DAY", "30")),
    "MAX_UPLOAD_BYTES_PER_DAY": int(os.environ.get("MAX_UPLOAD_BYTES_PER_DAY", str(100 * 1024 * 1024))),
    # Per customer, over the last hour (cases.ratelimit.case_open_rate_check).
    "MAX_CASES_PER_HOUR": int(os.environ.get("MAX_CASES_PER_HOUR", "5")),
}
REFUND_GATEWAY = os.environ.get("REFUND_GATEWAY", "payments.gateways.DatabaseRefundGateway")
# An outside processor reached over HTTP (payments.gateways.HttpRefundGateway), when REFUND_GATEWAY
# names it. TIMEOUT_SECONDS bounds one call; a call with no answer is asked again later with the same
# idempotency key, so a timeout never refunds twice.
REFUND_PROCESSOR = {
    "URL": os.environ.get("REFUND_PROCESSOR_URL", ""),
    "API_KEY": os.environ.get("REFUND_PROCESSOR_API_KEY", ""),
    "TIMEOUT_SECONDS": float(os.environ.get("REFUND_PROCESSOR_TIMEOUT_SECONDS", "10")),
}
# How long a worker holds a refund while it asks the processor (0: the processor's timeout + 30 s).
# A worker that dies mid-call leaves the refund to be asked again once this passes.
REFUND_LEASE_SECONDS = float(os.environ.get("REFUND_LEASE_SECONDS", "0"))

# Webhooks (the webhooks app). In production a URL that resolves to a private, loopback or link-local
# address is refused; development and tests allow them (a receiver on 127.0.0.1).
WEBHOOKS = {
    "ALLOW_PRIVATE_URLS": env_bool("WEBHOOKS_ALLOW_PRIVATE_URLS", False),
    # One attempt's socket timeout; the claim outlasts it, so a slow answer is never sent twice at once.
    "TIMEOUT_SECONDS": float(os.environ.get("WEBHOOKS_TIMEOUT_SECONDS", "10")),
    "CLAIM_SECONDS": 45,
    # Retries: 30 s, 1 min, 2 min … doubling, at most 12 h apart, for 3 days after the event.
    "RETRY_BASE_SECONDS": 30,
    "RETRY_MAX_SECONDS": 12 * 60 * 60,
    "RETRY_WINDOW_SECONDS": 3 * 24 * 60 * 60,
    # An endpoint whose every attempt failed for this long is disabled and its owners emailed.
    "DISABLE_AFTER_SECONDS": 3 * 24 * 60 * 60,
    # After a rotation the previous secret signs too, this long.
    "SECRET_ROTATION_GRACE_SECONDS": 24 * 60 * 60,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Who tried to reach what and when (the record's time): refused access to other people's
        # cases and files, sessions ended, oversized requests, locked-out sign-ins.
        "resolution_center.security": {"level": "INFO"},
        "axes": {"level": "INFO"},
    },
}

# --- Uploads -----------------------------------------------------------------------------------
# A whole request may carry one message's files plus its text; anything larger is refused with
# 413 from its Content-Length, unread (resolution_center.security.RequestBodyLimitMiddleware).
REQUEST_BODY_MAX_BYTES = int(
    os.environ.get(
        "REQUEST_BODY_MAX_BYTES", str(RESOLUTION["MAX_FILES_PER_MESSAGE"] * RESOLUTION["MAX_FILE_BYTES"] + 2**20)
    )
)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2**20  # the non-file part of a request body
FILE_UPLOAD_MAX_MEMORY_SIZE = 2**20  # larger uploads stream to a temporary file, not memory
DATA_UPLOAD_MAX_NUMBER_FILES = 10
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# --- Browser security --------------------------------------------------------------------------
# django-csp 4: scripts only from our own origin or carrying this request's nonce
# (<script nonce="{{ request.csp_nonce }}">); no plugins, no <base>, never framed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Sessions and sign-in ----------------------------------------------------------------------
# Idle: signed out after this long without a request. Absolute: signed out this long after
# signing in, however active. Both enforced server-side by SessionLimitsMiddleware.
SESSION_IDLE_TIMEOUT = int(os.environ.get("SESSION_IDLE_TIMEOUT", str(30 * 60)))
SESSION_ABSOLUTE_TIMEOUT = int(os.environ.get("SESSION_ABSOLUTE_TIMEOUT", str(12 * 60 * 60)))
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

AUTHENTICATION_BACKENDS = [
    # django-axes: refuses sign-ins for a locked-out account or address, then ModelBackend
    # checks the password (and refuses inactive users).
    "resolution_center.security.SignInThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failed sign-ins are counted in the database, so every web process sees the same count; a
# successful sign-in forgives only its own account's failures (resolution_center.security).
AXES_HANDLER = "resolution_center.security.SignInThrottleHandler"
# Each parameter on its own: too many failures for one account, or from one address, locks it.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_COOLOFF_MINUTES", "15")))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "429.html"
AXES_CLIENT_IP_CALLABLE = "resolution_center.security.client_ip"
# How many reverse proxies of ours stand in front of the web process (nginx on the same machine:
# 1). With 0, the connecting address is the client's.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# --- API files (uploads app) -------------------------------------------------------------------
# How long a file's upload URL (presigned S3 PUT, or our own signed local URL) stays valid, and
# how long a ready file's download URL does.
FILE_UPLOAD_URL_SECONDS = int(os.environ.get("FILE_UPLOAD_URL_SECONDS", "3600"))
FILE_DOWNLOAD_URL_SECONDS = int(os.environ.get("FILE_DOWNLOAD_URL_SECONDS", "300"))
# A ready file not attached within this many days is removed (uploads.services.files_purge).
FILE_RETENTION_DAYS = int(os.environ.get("FILE_RETENTION_DAYS", "30"))
