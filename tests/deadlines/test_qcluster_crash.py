"""The real task cluster, killed with SIGKILL in the middle of the deadline sweep and started again.

This runs `manage.py qcluster` as a separate process against a scratch PostgreSQL database of its
own (the test database is inside pytest's transaction, invisible to another process), with the
every-minute schedule registered by `setup_schedules` and emails written to files. The test waits
until the sweep has moved some of the overdue cases but not all, kills the whole cluster (sentinel,
pusher, worker, monitor) with SIGKILL, starts it again and waits for it to finish. Then every
overdue case has moved exactly once, every reviewer refund was paid exactly once, and every
notification's email exists exactly once.

The cluster has one worker, so at the moment of the kill the worker is inside the sweep (the moved
count only changes while it runs): the kill tears down a half-done sweep with queued, unsent
emails and commits whose on-commit delivery tasks never got queued.
"""

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings

from tests.deadlines import qcluster_seed

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
OVERALL_SECONDS = 400
MESSAGE_ID = re.compile(rb"^Message-ID: <notification-(\d+)@", re.MULTILINE)


def _scratch_name() -> str:
    database = settings.DATABASES["default"]
    test_name = database.get("TEST", {}).get("NAME") or f"test_{database['NAME']}"
    return f"{test_name}_qcluster"


def _url(database_name: str) -> str:
    database = settings.DATABASES["default"]
    auth = quote(database.get("USER") or "postgres")
    if database.get("PASSWORD"):
        auth += ":" + quote(database["PASSWORD"])
    host = database.get("HOST") or "127.0.0.1"
    port = database.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{database_name}"


@pytest.fixture
def scratch_database():
    name = _scratch_name()
    with psycopg.connect(_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
        # A throwaway database: commits need not wait for the disk (this is about crashes of the
        # cluster, not of PostgreSQL).
        admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit TO off')
    yield _url(name)
    with psycopg.connect(_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def cluster_env(scratch_database, tmp_path):
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": scratch_database,
        "DJANGO_SETTINGS_MODULE": "tests.deadlines.qcluster_settings",
        "EMAIL_FILE_PATH": str(mail_dir),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("TEST_DATABASE_NAME", None)
    return env, mail_dir


def manage(env, *args, timeout=300):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, timeout=timeout
    )


def start_cluster(env, log_path: Path) -> subprocess.Popen:
    log = log_path.open("ab")
    # A session of its own, so the kill reaches every process of the cluster.
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
    )


def kill_cluster(cluster: subprocess.Popen, sig=signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(cluster.pid, sig)
    cluster.wait(timeout=60)


def stop_cluster(cluster: subprocess.Popen) -> None:
    if cluster.poll() is not None:
        return
    os.killpg(cluster.pid, signal.SIGTERM)
    try:
        cluster.wait(timeout=30)
    except subprocess.TimeoutExpired:
        kill_cluster(cluster)


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as db:
        row = db.execute(
            """
            SELECT
              (SELECT count(*) FROM cases_case WHERE status = 'escalated'),
              (SELECT count(*) FROM cases_case WHERE status = 'denied'),
              (SELECT count(*) FROM cases_case WHERE status = 'final'),
              (SELECT count(*) FROM notifications_notification WHERE email_status IN ('pending', 'sending')),
              (SELECT count(*) FROM notifications_notification WHERE email_status = 'sent')
            """
        ).fetchone()
    return dict(zip(["escalated", "denied", "final", "unsent", "sent"], row, strict=True))


def wait_for(condition, what: str, deadline: float, url: str, poll: float = 0.5) -> dict[str, int]:
    while time.monotonic() < deadline:
        seen = counts(url)
        if condition(seen):
            return seen
        time.sleep(poll)
    pytest.fail(f"gave up waiting for {what}; last seen {counts(url)}")


def test_qcluster_killed_mid_sweep_and_restarted_moves_each_case_once_and_sends_each_email_once(cluster_env, tmp_path):
    """SIGKILL in the middle of the sweep, then a restart: each overdue case moved once, each
    refund paid once, each email sent once (none lost, none doubled)."""
    env, mail_dir = cluster_env
    url = env["DATABASE_URL"]
    manage(env, "migrate", "--noinput")
    manage(env, "setup_schedules")
    subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from tests.deadlines.qcluster_seed import seed; seed()"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    deadline = time.monotonic() + OVERALL_SECONDS
    log_path = tmp_path / "qcluster.log"

    cluster = start_cluster(env, log_path)
    try:
        at_kill = wait_for(
            lambda seen: 0 < seen["escalated"] < qcluster_seed.OPEN * 3 // 4,
            "the sweep to be part-way through",
            deadline,
            url,
            poll=0.02,
        )
        kill_cluster(cluster)
    finally:
        if cluster.poll() is None:
            kill_cluster(cluster)
    after_kill = counts(url)
    assert 0 < after_kill["escalated"] < qcluster_seed.OPEN, (at_kill, after_kill)

    cluster = start_cluster(env, log_path)
    try:
        wait_for(
            lambda seen: (
                seen["escalated"] == qcluster_seed.OPEN
                and seen["denied"] == qcluster_seed.INFO_REQUESTED
                and seen["final"] == qcluster_seed.ACCEPTED
                and seen["unsent"] == 0
            ),
            "the restarted cluster to finish",
            deadline,
            url,
        )
    finally:
        stop_cluster(cluster)

    with psycopg.connect(url) as db:
        moves = db.execute(
            """
            SELECT action, count(*), count(DISTINCT case_id) FROM cases_caseevent
            WHERE action IN ('escalated', 'reply_expired', 'finalized') AND actor_kind = 'system'
              AND created_at > now() - interval '1 hour'
            GROUP BY action ORDER BY action
            """
        ).fetchall()
        refunds = db.execute(
            "SELECT count(*), count(DISTINCT case_id) FROM payments_refund WHERE status = 'succeeded'"
        ).fetchone()
        overpaid = db.execute("SELECT count(*) FROM payments_payment WHERE refunded_cents > amount_cents").fetchone()[0]
        notification_ids = [
            row[0] for row in db.execute("SELECT id FROM notifications_notification WHERE email_status = 'sent'")
        ]
        unsent = db.execute("SELECT count(*) FROM notifications_notification WHERE email_status <> 'sent'").fetchone()[
            0
        ]
        timeline_emails = db.execute("SELECT count(*) FROM cases_caseevent WHERE action = 'notification'").fetchone()[0]

    assert moves == [
        ("escalated", qcluster_seed.OPEN, qcluster_seed.OPEN),
        ("finalized", qcluster_seed.ACCEPTED, qcluster_seed.ACCEPTED),
        ("reply_expired", qcluster_seed.INFO_REQUESTED, qcluster_seed.INFO_REQUESTED),
    ]
    assert refunds == (qcluster_seed.ACCEPTED, qcluster_seed.ACCEPTED)
    assert overpaid == 0
    assert unsent == 0
    sent = Counter(int(match) for path in mail_dir.iterdir() for match in MESSAGE_ID.findall(path.read_bytes()))
    assert set(sent) == set(notification_ids)
    doubled = {notification_id: times for notification_id, times in sent.items() if times != 1}
    assert doubled == {}
    assert timeline_emails == len(notification_ids)
