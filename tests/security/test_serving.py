"""Item 2: the processes a deployment runs. /healthz in-process, then the real thing: gunicorn
with gunicorn.conf.py and the production settings serving /healthz, whitenoise's hashed and
compressed static files and the 413 path over a real socket, and the qcluster worker starting."""

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pytest
from django.db import OperationalError

ROOT = Path(__file__).resolve().parents[2]
HOST = "resolutions.example.com"


@pytest.mark.django_db
def test_healthz_database_reachable_200_ok(client):
    """/healthz answers 200 and a small JSON body when the database answers."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_database_unreachable_503(client):
    """/healthz answers 503 when the database does not, so a load balancer takes the process out."""
    with mock.patch("resolution_center.views.connection") as broken:
        broken.cursor.side_effect = OperationalError("connection refused")
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def production_env(tmp_path_factory):
    """A production environment on this machine: a migrated database file and collected static."""
    base = tmp_path_factory.mktemp("production")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "resolution_center.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": HOST,
        "DATABASE_URL": f"sqlite:///{base / 'db.sqlite3'}",
        "STATIC_ROOT": str(base / "static"),
        "EVIDENCE_ROOT": str(base / "evidence"),
        "WEB_CONCURRENCY": "1",
        "Q_WORKERS": "1",
    }
    for command in (["migrate", "--noinput", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, timeout=300)
    return env


@pytest.fixture(scope="module")
def gunicorn_server(production_env, tmp_path_factory):
    port = _free_port()
    env = {**production_env, "PORT": str(port)}
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    # No arguments: gunicorn reads ./gunicorn.conf.py, exactly as the Procfile and systemd unit run it.
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "gunicorn"], cwd=ROOT, env=env, stdout=output, stderr=output)
    try:
        for _ in range(300):
            if process.poll() is not None:
                raise AssertionError(log.read_text())
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def _request(port, method, path, *, headers=None, body=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request(method, path, body=body, headers={"Host": HOST, **(headers or {})})
    response = connection.getresponse()
    content = response.read()
    connection.close()
    return response, content


# Behind nginx every request arrives from 127.0.0.1 saying the client used HTTPS.
VIA_TLS_PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.5"}


def test_gunicorn_production_healthz_200(gunicorn_server):
    """gunicorn, started from gunicorn.conf.py with the production settings, answers /healthz."""
    response, content = _request(gunicorn_server, "GET", "/healthz")
    assert response.status == 200
    assert json.loads(content) == {"status": "ok", "database": "ok"}


def test_gunicorn_production_page_via_proxy_has_security_headers(gunicorn_server):
    """A page through the TLS proxy carries HSTS, the CSP and nosniff; plain HTTP is redirected."""
    response, _ = _request(gunicorn_server, "GET", "/accounts/login/", headers=VIA_TLS_PROXY)
    assert response.status == 200
    assert response.getheader("Strict-Transport-Security").startswith("max-age=31536000")
    assert "object-src 'none'" in response.getheader("Content-Security-Policy")
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert "__Host-csrftoken=" in response.getheader("Set-Cookie")

    plain, _ = _request(gunicorn_server, "GET", "/accounts/login/")
    assert plain.status == 301
    assert plain.getheader("Location") == f"https://{HOST}/accounts/login/"


def test_gunicorn_serves_hashed_compressed_static_forever_cacheable(gunicorn_server, production_env):
    """whitenoise serves collectstatic's hashed file names, gzip-compressed on request, with a
    far-future immutable cache lifetime."""
    manifest = json.loads((Path(production_env["STATIC_ROOT"]) / "staticfiles.json").read_text())
    hashed = manifest["paths"]["css/app.css"]
    assert hashed != "css/app.css"

    response, content = _request(
        gunicorn_server, "GET", f"/static/{hashed}", headers={**VIA_TLS_PROXY, "Accept-Encoding": "gzip"}
    )

    assert response.status == 200
    assert response.getheader("Content-Encoding") == "gzip"
    assert "immutable" in response.getheader("Cache-Control")
    assert content[:2] == b"\x1f\x8b"


def test_gunicorn_oversized_body_refused_413_without_sending_it(gunicorn_server):
    """Over a real socket: a request announcing a body above the limit is answered 413 although
    not one byte of the body is ever sent — the server did not wait to read it."""
    connection = http.client.HTTPConnection("127.0.0.1", gunicorn_server, timeout=60)
    connection.putrequest("POST", "/orders/1/refund/", skip_host=True)
    connection.putheader("Host", HOST)
    for name, value in VIA_TLS_PROXY.items():
        connection.putheader(name, value)
    connection.putheader("Content-Type", "multipart/form-data; boundary=x")
    connection.putheader("Content-Length", str(500 * 1024 * 1024))
    connection.endheaders()  # headers only; the 500 MB body never follows
    response = connection.getresponse()
    assert response.status == 413
    assert b"too large" in response.read()
    connection.close()


def test_qcluster_worker_starts_with_production_settings(production_env):
    """The worker process of the Procfile, `manage.py qcluster`, starts on the production settings
    with the ORM broker and stops cleanly when told to."""
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=production_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = []
    try:
        for line in process.stdout:
            seen.append(line)
            if "running" in line.lower() and "cluster" in line.lower():
                break
        else:
            raise AssertionError("".join(seen))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert any("running" in line.lower() for line in seen), "".join(seen)
