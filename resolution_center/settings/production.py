"""Production: everything from the environment, safe by default, and no start without the essentials.

Refuses to load without SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL; `manage.py check --deploy
--fail-level WARNING` passes with them. Every variable is listed with its meaning in .env.example;
docs/deploy.md shows how to run it.
"""

import os

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import BASE_DIR, DATABASES, env_bool, env_list


def required(name: str, meaning: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set. Production settings need it: {meaning}. See .env.example and docs/deploy.md."
        )
    return value


SECRET_KEY = required("SECRET_KEY", "a long random secret that signs sessions and tokens (50+ characters)")
ALLOWED_HOSTS = [
    host.strip()
    for host in required("ALLOWED_HOSTS", "the comma-separated host names this site answers to").split(",")
    if host.strip()
]
# base.py already built DATABASES from it; without it base.py would quietly fall back to SQLite.
required("DATABASE_URL", "where the database is, e.g. postgres://user:password@host:5432/resolution_center")
DATABASES = {"default": {**DATABASES["default"], "CONN_HEALTH_CHECKS": True}}
# On PostgreSQL the application connects (DATABASE_URL) as a role that does not own the tables, so
# it can read and write rows but never alter a table (nor disable the timeline's append-only
# trigger). `manage.py migrate` connects as the owner instead when MIGRATE_DATABASE_URL is set
# (resolution_center/management/commands/migrate.py; roles and grants in docs/deploy.md).
MIGRATE_DATABASE_URL = os.environ.get("MIGRATE_DATABASE_URL", "").strip()
MIGRATE_DATABASE = dj_database_url.parse(MIGRATE_DATABASE_URL) if MIGRATE_DATABASE_URL else None

DEBUG = False
# The status tabs' counts and the dispute rate, kept a few seconds (a busy company's list is read
# far more often than those numbers change; the merchant's own actions clear them at once). Shared
# by every worker through Redis when there is one, else per worker process.
CACHES = {
    **CACHES,  # noqa: F405
    "page_counts": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "TIMEOUT": 10}  # noqa: F405
        if REDIS_URL  # noqa: F405
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "page-counts", "TIMEOUT": 10}
    ),
}
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# HTTPS only. Behind a reverse proxy, gunicorn trusts its X-Forwarded-Proto (FORWARDED_ALLOW_IPS
# in gunicorn.conf.py), so Django sees https requests as secure without SECURE_PROXY_SSL_HEADER.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# The load balancer's health check may come over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 60 * 60)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# Cookies only over HTTPS; the __Host- prefix makes browsers refuse them unless Secure, for this
# exact host and path "/", so no sibling subdomain can set or overwrite them.
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-session"
CSRF_COOKIE_NAME = "__Host-csrftoken"

STATIC_ROOT = os.environ.get("STATIC_ROOT") or str(BASE_DIR / "staticfiles")
# STORAGES comes from base.py: whitenoise's compressed, hashed static files (run collectstatic)
# and evidence on the local disk or, with AWS_STORAGE_BUCKET_NAME, a private S3 bucket.
