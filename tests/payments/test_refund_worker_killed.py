"""Exactly once, proven with a real kill: a worker SIGKILLed after the processor refunded but before
it heard the answer, then a restarted worker, make one refund — at the processor and in our rows.

How: the test database is committed to for real (``django_db(transaction=True)``), so a child
process can see it. A merchant accepts a case; the send right after the decision gets a processor
error (503), so the refund waits as *requested*. The refund processor
(tests.support.refund_processor) runs in a thread of the test process and is told to hold its
answer after recording a refund. The worker is ``manage.py send_refunds <id>`` in a child process
(the real code path: claim, call over HTTP, record), with a 2-second lease. Once the processor has
recorded the refund — money moved, the worker waiting for the answer — the child is killed with
SIGKILL, so nothing it would have done after the answer happens. Our row is still requested (the
dead worker's claim on it). After the lease ends, ``manage.py send_refunds`` runs again (the
every-minute sweep of a restarted worker): it finds the refund due, asks the processor with the
same key, gets the first refund's answer replayed, and records it.

Then: one refund at the processor, under the case's key; one succeeded refund row with the
processor's id; the payment refunded by the amount once; one "refund sent" in the timeline.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone

from cases import services
from cases.models import CaseEvent
from payments.models import Refund
from tests.factories import case_in_state
from tests.support.refund_processor import RefundProcessorServer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
API_KEY = "sk_test_worker_killed"
LEASE_SECONDS = 2
WAIT_SECONDS = 60  # each wait; a hang fails with what was seen instead of blocking the suite


def database_url() -> str:
    """The test database this test commits to (under pytest-xdist, this worker's own)."""
    database = connection.settings_dict
    auth = quote(database.get("USER") or "postgres")
    if database.get("PASSWORD"):
        auth += ":" + quote(database["PASSWORD"])
    host = database.get("HOST") or "127.0.0.1"
    port = database.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{database['NAME']}"


def worker_env(processor: RefundProcessorServer) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "resolution_center.settings.test",
        "REFUND_GATEWAY": "payments.gateways.HttpRefundGateway",
        "REFUND_PROCESSOR_URL": processor.url,
        "REFUND_PROCESSOR_API_KEY": API_KEY,
        "REFUND_PROCESSOR_TIMEOUT_SECONDS": "30",
        "REFUND_LEASE_SECONDS": str(LEASE_SECONDS),
        "CONN_MAX_AGE": "0",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("TEST_DATABASE_NAME", None)
    return env


def log_of(path: Path) -> str:
    return path.read_text(errors="replace")[-4000:] if path.exists() else "(no output)"


@pytest.fixture
def processor(settings):
    server = RefundProcessorServer(api_key=API_KEY).start()
    # The test process sends through the same processor (the send right after the decision).
    settings.REFUND_GATEWAY = "payments.gateways.HttpRefundGateway"
    settings.REFUND_PROCESSOR = {"URL": server.url, "API_KEY": API_KEY, "TIMEOUT_SECONDS": 5}
    yield server
    server.stop()


def test_a_worker_killed_after_the_processor_refunded_and_a_restarted_worker_refund_exactly_once(processor, tmp_path):
    scene = case_in_state("open")
    key = f"case-{scene.case.pk}-refund"
    processor.fail_with_status(503, 1)
    services.case_accept(case=scene.case, actor=scene.merchant)
    refund = Refund.objects.get(case=scene.case)
    assert (refund.status, refund.claim_token, processor.refunds) == (Refund.Status.REQUESTED, "", {})

    env = worker_env(processor)
    processor.hold_after_recording()
    log_path = tmp_path / "worker.log"
    with log_path.open("ab") as log:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "send_refunds", str(refund.pk)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while not processor.recorded.wait(0.1):
            if worker.poll() is not None:
                pytest.fail(
                    f"the worker exited ({worker.returncode}) before reaching the processor:\n{log_of(log_path)}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"the processor never received the refund within {WAIT_SECONDS} s:\n{log_of(log_path)}")
        # The processor has refunded and holds its answer: the worker is waiting for it.
        assert worker.poll() is None
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=WAIT_SECONDS)
    finally:
        if worker.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=WAIT_SECONDS)
        processor.release()
    assert worker.returncode == -signal.SIGKILL

    # The money moved at the processor; we never heard, so nothing is recorded as sent.
    assert list(processor.refunds) == [key]
    refund.refresh_from_db()
    assert refund.status == Refund.Status.REQUESTED
    assert refund.processor_reference == ""
    assert refund.claim_token != ""  # the dead worker's claim, until its lease ends
    assert refund.attempts == 2
    assert not CaseEvent.objects.filter(case=scene.case, action="refund_issued").exists()

    # A restarted worker's sweep finds it once the dead worker's lease has ended.
    lease_end = refund.next_attempt_at
    deadline = time.monotonic() + WAIT_SECONDS
    while timezone.now() <= lease_end:
        assert time.monotonic() < deadline, f"the lease (until {lease_end}) never ended"
        time.sleep(0.1)
    restarted = subprocess.run(
        [sys.executable, "manage.py", "send_refunds"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT_SECONDS,
    )
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    assert "Refunds sent: 1; delayed (asked again later): 0;" in restarted.stdout, restarted.stdout

    made = processor.refunds
    assert list(made) == [key]
    assert made[key]["amount"] == 5000
    rows = list(Refund.objects.filter(case=scene.case))
    assert len(rows) == 1
    refund = rows[0]
    assert (refund.status, refund.processor_reference, refund.idempotency_key, refund.attempts) == (
        Refund.Status.SUCCEEDED,
        made[key]["id"],
        key,
        3,
    )
    scene.payment.refresh_from_db()
    assert scene.payment.refunded_cents == scene.payment.amount_cents == 5000
    assert CaseEvent.objects.filter(case=scene.case, action="refund_issued").count() == 1
    assert list(
        CaseEvent.objects.filter(case=scene.case, action__startswith="refund")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["refund_requested", "refund_issued"]
