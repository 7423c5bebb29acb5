"""gunicorn settings for the web process: `gunicorn` (no arguments) reads this file from
the working directory. Every value can be changed from the environment (see .env.example)."""

import multiprocessing
import os

wsgi_app = "resolution_center.wsgi:application"
# The web process runs the production settings unless told otherwise; manage.py defaults to dev.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resolution_center.settings.production")

# A port on localhost by default: nginx (or a load balancer) in front terminates TLS.
bind = os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
# Sync workers: each request is short, database-bound, and streams at most a 10 MB evidence file.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so that a slow leak can never grow without bound.
max_requests = 1000
max_requests_jitter = 100
# Which proxies may tell us the client used HTTPS (X-Forwarded-Proto): nginx on this machine.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Header and request-line size limits against oversized-header attacks (gunicorn's defaults, explicit).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
