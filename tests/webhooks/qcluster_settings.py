"""Settings for the real `qcluster` started by test_worker_killed.py on a scratch SQLite file: one
worker (so the test knows who is sending when it kills it), short broker retries and webhook claims
(so recovery happens within the test), receivers on 127.0.0.1 allowed."""

from resolution_center.settings.dev import *  # noqa: F403
from resolution_center.settings.dev import Q_CLUSTER, WEBHOOKS

DEBUG = False
Q_CLUSTER = {**Q_CLUSTER, "orm": "default", "workers": 1, "timeout": 5, "retry": 7, "poll": 0.2, "bulk": 1}
WEBHOOKS = {**WEBHOOKS, "ALLOW_PRIVATE_URLS": True, "TIMEOUT_SECONDS": 3, "CLAIM_SECONDS": 4}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING = {"version": 1, "disable_existing_loggers": False}
