"""The benchmark's settings (`make bench`): production's settings, served over plain HTTP on
localhost, runnable without any secret.

Everything that shapes a request's cost comes from production.py unchanged: DEBUG off, the same
middleware (CSP, sessions with their limits, CSRF, axes), cached templates, persistent database
connections with health checks, hashed static files. What differs only lets the benchmark talk
plain HTTP to 127.0.0.1: no redirect to HTTPS, no Secure-only cookies. The URL conf adds the
trivial view the benchmark uses as its baseline.
"""

import os
from pathlib import Path

_BASE_DIR = Path(__file__).resolve().parent.parent.parent
# production.py refuses to start without these; the benchmark has no secrets to protect.
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
# Never the development database: SQLite runs get their own file under var/.
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_BASE_DIR / 'var' / 'bench.sqlite3'}")

from .production import *  # noqa: E402,F401,F403

ROOT_URLCONF = "resolution_center.urls_bench"

SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# The __Host- prefix requires Secure cookies; over plain HTTP use the ordinary names.
SESSION_COOKIE_NAME = "sessionid"
CSRF_COOKIE_NAME = "csrftoken"

# Warnings only: a log line per request would measure the terminal, not the application.
LOGGING = {
    **LOGGING,  # noqa: F405
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        **LOGGING["loggers"],  # noqa: F405
        "resolution_center.security": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# The API row drives one key at thousands of calls a minute: its rate limit would answer 429. The
# limit's counting (one UPDATE of the key's row per call) still runs, so its cost is measured.
API = {**API, "RATE_LIMIT_PER_MINUTE": 10**9}  # noqa: F405
