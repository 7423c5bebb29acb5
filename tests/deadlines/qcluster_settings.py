"""Settings for the real `qcluster` started by test_qcluster_crash.py against a scratch PostgreSQL
database: one worker (so the test knows what is in flight when it kills it), short claims and
retries (so recovery happens within the test), emails written to files the test counts."""

import os

from resolution_center.settings.dev import *  # noqa: F403
from resolution_center.settings.dev import Q_CLUSTER

DEBUG = False
Q_CLUSTER = {
    **Q_CLUSTER,
    "orm": "default",
    "workers": 1,
    "timeout": 12,
    "retry": 15,
    "poll": 0.2,
    "bulk": 1,
}
# Small batches, so the sweep is still moving cases when the test kills it.
DEADLINE_SWEEP = {"BATCH_SIZE": 2, "TIME_BUDGET_SECONDS": 8, "FAN_OUT": 1}
NOTIFICATIONS = {"EMAIL_CLAIM_SECONDS": 10, "EMAIL_GRACE_SECONDS": 5, "EMAIL_REQUEUE_SECONDS": 15}
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["EMAIL_FILE_PATH"]
EMAIL_TIMEOUT = 5
LOGGING = {"version": 1, "disable_existing_loggers": False}
