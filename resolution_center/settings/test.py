"""Fast, deterministic settings for the test suite."""

import os

from .base import *  # noqa: F401,F403
from .base import BASE_DIR, DATABASES, Q_CLUSTER, STORAGES

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Manifest storage needs collectstatic; tests render pages without it.
STORAGES = {
    **STORAGES,
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(BASE_DIR / "var" / "test-evidence")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# django-q2 reads this at import time: tasks run inline in tests.
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
# Several suites may share one PostgreSQL server; each can pick its own test database name.
if os.environ.get("TEST_DATABASE_NAME"):
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ["TEST_DATABASE_NAME"]
# Serve static files straight from the finders (no collectstatic in tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Tests run their webhook receivers on 127.0.0.1.
WEBHOOKS = {**WEBHOOKS, "ALLOW_PRIVATE_URLS": True}  # noqa: F405
