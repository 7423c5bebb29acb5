"""The real task cluster SIGKILLed in the middle of a delivery, then started again: the event still
arrives, under its one id.

`manage.py qcluster` runs as a separate process on a scratch SQLite file (the test database lives in
pytest's process and transaction, invisible to another process). The receiver holds the first
request open; the moment it arrives the whole cluster is killed, so the worker dies between sending
and hearing the answer (nothing recorded). The restarted cluster finds the event again once the dead
worker's claim has run out (the broker hands the unacknowledged task out again; the every-minute
safety net would too) and delivers it: every request the receiver saw verifies with the SDK's
``unwrap`` and carries the same webhook-id, and there is one event, delivered.
"""

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .receiver import start_receiver

ROOT = Path(__file__).resolve().parents[2]
OVERALL_SECONDS = 240


@pytest.fixture
def receiver():
    receiver = start_receiver()
    yield receiver
    if receiver.hold is not None:
        receiver.hold.set()
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def cluster_env(tmp_path):
    database = tmp_path / "scratch.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SETTINGS_MODULE": "tests.webhooks.qcluster_settings",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("TEST_DATABASE_NAME", None)
    return env, database


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, timeout=300
    )


def start_cluster(env, log_path: Path) -> subprocess.Popen:
    log = log_path.open("ab")
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
    )


def kill_cluster(cluster: subprocess.Popen, sig=signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(cluster.pid, sig)
    cluster.wait(timeout=60)


def events(database: Path) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as db:
        return db.execute("SELECT public_id, status, attempts FROM webhooks_webhookevent").fetchall()


def test_cluster_killed_mid_delivery_and_restarted_delivers_the_event_under_its_one_id(receiver, cluster_env, tmp_path):
    env, database = cluster_env
    manage(env, "migrate", "--noinput")
    seeded = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import django; django.setup(); from tests.webhooks.qcluster_seed import seed; seed({receiver.url!r})",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    receiver.secret = json.loads(seeded.stdout.decode().strip().splitlines()[-1])["secret"]
    [(event_id, status, attempts)] = events(database)
    assert (status, attempts) == ("pending", 0)
    deadline = time.monotonic() + OVERALL_SECONDS
    log_path = tmp_path / "qcluster.log"

    receiver.hold = threading.Event()
    cluster = start_cluster(env, log_path)
    try:
        assert receiver.arrived.wait(120), log_path.read_text(errors="replace")[-3000:]
        kill_cluster(cluster)  # the worker is inside the POST, waiting for the answer
    finally:
        if cluster.poll() is None:
            kill_cluster(cluster)
    assert cluster.returncode == -signal.SIGKILL
    receiver.hold.set()
    receiver.hold = None
    assert events(database) == [(event_id, "pending", 1)]  # claimed, sent, never recorded

    cluster = start_cluster(env, log_path)
    try:
        while time.monotonic() < deadline and events(database)[0][1] != "delivered":
            time.sleep(0.5)
    finally:
        kill_cluster(cluster)

    assert [row[:2] for row in events(database)] == [(event_id, "delivered")], log_path.read_text(errors="replace")[
        -3000:
    ]
    assert len(receiver.received) >= 2
    assert {r.headers["webhook-id"] for r in receiver.received} == {event_id}
    assert all(r.verify_error == "" for r in receiver.received)
    assert {r.event["id"] for r in receiver.received} == {event_id}
    with contextlib.closing(sqlite3.connect(database)) as db:
        log = db.execute("SELECT attempt, response_status, success FROM webhooks_webhookdelivery").fetchall()
    assert log[-1][1:] == (200, 1)
