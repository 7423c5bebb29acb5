"""The whole refund path against a real processor over HTTP (tests.support.refund_processor, served
from a thread of this process): a merchant accepts a case, the refund is recorded as requested with
the decision, sent to the processor after commit with the case's key, and the processor's answer
is recorded on our row and in the case's timeline.

Nothing here stands in for the processor: every assertion compares what the processor itself
recorded (``processor.refunds``: the money it moved, by idempotency key) with our rows — the
refund, the payment's refunded total, the timeline the customer and merchant read.
"""

import time
from datetime import timedelta

import pytest

from cases import services
from cases.models import CaseEvent
from payments.models import Refund
from tests.factories import case_in_state
from tests.racing import race
from tests.support.refund_processor import RefundProcessorServer

API_KEY = "sk_test_refunds_end_to_end"
REFUND_ACTIONS = ("refund_requested", "refund_issued", "refund_failed")

pytestmark = pytest.mark.django_db


@pytest.fixture
def processor():
    server = RefundProcessorServer(api_key=API_KEY).start()
    yield server
    server.stop()


@pytest.fixture
def http_refunds(settings, processor):
    """Refunds go to ``processor`` through the HTTP gateway; returns a function to change the timeout."""

    def configure(timeout_seconds: float = 5, url: str | None = None) -> None:
        settings.REFUND_GATEWAY = "payments.gateways.HttpRefundGateway"
        settings.REFUND_PROCESSOR = {
            "URL": processor.url if url is None else url,
            "API_KEY": API_KEY,
            "TIMEOUT_SECONDS": timeout_seconds,
        }

    configure()
    return configure


def wait_for(condition, what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    pytest.fail(f"gave up after {seconds} s waiting for {what}")


def key_of(case) -> str:
    return f"case-{case.pk}-refund"


def refund_timeline(case) -> list[str]:
    """The refund rows of the case's timeline, in the order they were written."""
    return list(
        CaseEvent.objects.filter(case=case, action__in=REFUND_ACTIONS).order_by("pk").values_list("action", flat=True)
    )


def accept(scene, processor, django_capture_on_commit_callbacks):
    """The merchant accepts; the after-commit task (run inline, as the test settings' django-q
    does) sends the refund to the processor."""
    heard_before = processor.requests_received
    with django_capture_on_commit_callbacks(execute=True):
        services.case_accept(case=scene.case, actor=scene.merchant)
        # Recorded with the decision; the processor hears nothing until the transaction commits.
        assert Refund.objects.get(case=scene.case).status == Refund.Status.REQUESTED
        assert processor.requests_received == heard_before
    scene.refresh()
    return Refund.objects.get(case=scene.case)


def assert_retried_in_a_minute(refund: Refund) -> None:
    assert refund.last_attempt_at is not None and refund.next_attempt_at is not None
    wait = refund.next_attempt_at - refund.last_attempt_at
    assert timedelta(minutes=1) <= wait <= timedelta(minutes=1, seconds=10), wait


def a_minute_after(refund: Refund):
    return refund.next_attempt_at + timedelta(seconds=1)


def test_accept_refunds_the_rest_once_at_the_processor_and_records_its_reference(
    http_refunds, processor, django_capture_on_commit_callbacks
):
    """What the customer gets and the merchant sees: one refund of the whole remaining amount at the
    processor, under the case's key; our row says sent, with the processor's refund id; the
    timeline reads "requested" then "sent"."""
    scene = case_in_state("open", amount_cents=4200)
    refund = accept(scene, processor, django_capture_on_commit_callbacks)

    made = processor.refunds
    assert list(made) == [key_of(scene.case)]
    at_processor = made[key_of(scene.case)]
    assert at_processor["id"].startswith("re_")
    assert (at_processor["payment"], at_processor["amount"], at_processor["currency"]) == (
        str(scene.payment.pk),
        4200,
        "USD",
    )
    assert processor.requests_received == 1
    assert (refund.status, refund.amount_cents, refund.processor_reference, refund.attempts) == (
        Refund.Status.SUCCEEDED,
        4200,
        at_processor["id"],
        1,
    )
    assert refund.succeeded_at is not None and refund.next_attempt_at is None
    assert refund.failure_message == ""
    assert scene.payment.refunded_cents == 4200
    assert refund_timeline(scene.case) == ["refund_requested", "refund_issued"]


def test_a_processor_slower_than_the_timeout_leaves_it_requested_and_the_retry_records_the_one_refund(
    http_refunds, processor, django_capture_on_commit_callbacks
):
    """The processor takes longer than we wait: it refunds anyway, we do not know it yet. Our row stays
    requested with the reason and a retry in a minute (nothing told to the customer as sent or
    failed); the retry asks with the same key and gets that refund back: one refund, recorded."""
    http_refunds(timeout_seconds=0.5)
    processor.delay_seconds = 1.5
    scene = case_in_state("open")
    key = key_of(scene.case)
    refund = accept(scene, processor, django_capture_on_commit_callbacks)

    assert refund.status == Refund.Status.REQUESTED
    assert refund.failure_message == (
        "No answer from the payment processor: the refund processor did not answer within 0.5 s"
    )
    assert refund.processor_reference == ""
    assert_retried_in_a_minute(refund)
    assert scene.payment.refunded_cents == 5000  # still reserved: it cannot be refunded twice meanwhile
    assert refund_timeline(scene.case) == ["refund_requested"]
    # Nobody was listening any more, but the processor finished the refund.
    wait_for(lambda: key in processor.refunds, "the processor to finish the slow refund")

    # Not due before its minute is up: the every-minute task leaves it alone.
    assert services.refunds_send_due().sent == 0
    assert processor.requests_received == 1

    processor.delay_seconds = 0
    sent = services.refunds_send_due(now=a_minute_after(refund))
    assert (sent.sent, sent.delayed, sent.skipped) == (1, 0, 0)

    made = processor.refunds
    assert list(made) == [key]
    assert processor.requests_received == 2
    refund.refresh_from_db()
    assert (refund.status, refund.processor_reference, refund.attempts) == (
        Refund.Status.SUCCEEDED,
        made[key]["id"],
        2,
    )
    scene.payment.refresh_from_db()
    assert scene.payment.refunded_cents == 5000
    assert refund_timeline(scene.case) == ["refund_requested", "refund_issued"]


def test_a_refusal_is_kept_in_the_processors_words_and_the_automatic_retry_refunds_once_under_a_new_key(
    http_refunds, processor, django_capture_on_commit_callbacks
):
    """The processor refuses: the customer's timeline says the refund is delayed, the refund keeps the
    processor's reason, and the money stays reserved. A minute later the retry task asks again —
    with a key of its own, since the processor replays a refusal for the refused key — and the
    refund goes through: one refund at the processor, none under the refused key."""
    processor.refuse_next(1, "The card account is closed.")
    scene = case_in_state("open")
    key = key_of(scene.case)
    refund = accept(scene, processor, django_capture_on_commit_callbacks)

    assert (refund.status, refund.failure_message, refund.processor_reference) == (
        Refund.Status.FAILED,
        "The card account is closed.",
        "",
    )
    assert_retried_in_a_minute(refund)
    assert scene.payment.refunded_cents == 5000
    assert processor.refunds == {}
    assert refund_timeline(scene.case) == ["refund_requested", "refund_failed"]

    sent = services.refunds_send_due(now=a_minute_after(refund))
    assert (sent.sent, sent.delayed) == (1, 0)

    made = processor.refunds
    assert list(made) == [f"{key}-retry1"]
    assert key not in made
    assert made[f"{key}-retry1"]["amount"] == 5000
    refund.refresh_from_db()
    assert (refund.status, refund.processor_reference, refund.idempotency_key, refund.attempts) == (
        Refund.Status.SUCCEEDED,
        made[f"{key}-retry1"]["id"],
        key,
        2,
    )
    scene.payment.refresh_from_db()
    assert scene.payment.refunded_cents == 5000
    assert refund_timeline(scene.case) == ["refund_requested", "refund_failed", "refund_issued"]


def test_a_reviewers_retry_after_a_refusal_is_sent_at_once_and_refunds_once(
    http_refunds, processor, django_capture_on_commit_callbacks
):
    """A reviewer does not wait for the minute: "retry" sends the refused refund after commit, under
    the next key, and the processor refunds it once."""
    processor.refuse_next(1, "Your card was declined.")
    scene = case_in_state("open")
    key = key_of(scene.case)
    refund = accept(scene, processor, django_capture_on_commit_callbacks)
    assert refund.status == Refund.Status.FAILED

    with django_capture_on_commit_callbacks(execute=True):
        assert services.refund_retry(refund=refund) is True
    made = processor.refunds
    assert list(made) == [f"{key}-retry1"]
    refund.refresh_from_db()
    assert (refund.status, refund.processor_reference) == (Refund.Status.SUCCEEDED, made[f"{key}-retry1"]["id"])
    assert refund_timeline(scene.case) == ["refund_requested", "refund_failed", "refund_issued"]

    # Settled: another retry sends nothing and is refused.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.refund_retry(refund=refund) is False
    assert processor.requests_received == 2
    assert len(processor.refunds) == 1


def test_a_processor_that_is_down_leaves_it_requested_backing_off_until_it_is_back(
    http_refunds, processor, django_capture_on_commit_callbacks
):
    """The processor is not running: the refund stays requested with the reason an operator can act on,
    is not asked again before its backoff, and once the processor is back (same address) the retry
    refunds it once."""
    port = int(processor.url.rsplit(":", 1)[1])
    processor.stop()
    scene = case_in_state("open")
    refund = accept(scene, processor, django_capture_on_commit_callbacks)

    assert refund.status == Refund.Status.REQUESTED
    assert refund.failure_message == (
        "No answer from the payment processor: the refund processor refused the connection "
        "(is it running at REFUND_PROCESSOR_URL?)"
    )
    assert refund.attempts == 1
    assert_retried_in_a_minute(refund)
    assert scene.payment.refunded_cents == 5000
    assert refund_timeline(scene.case) == ["refund_requested"]
    # Backing off: the every-minute task does not call before the minute is up.
    early = services.refunds_send_due()
    assert (early.sent, early.delayed, early.skipped) == (0, 0, 0)
    refund.refresh_from_db()
    assert refund.attempts == 1

    try:
        back = RefundProcessorServer(api_key=API_KEY, port=port).start()
    except OSError:
        return  # the port was taken meanwhile: the backoff and the reason are what could be shown
    try:
        assert back.url == processor.url
        sent = services.refunds_send_due(now=a_minute_after(refund))
        assert (sent.sent, sent.delayed) == (1, 0)
        made = back.refunds
        assert list(made) == [key_of(scene.case)]
        refund.refresh_from_db()
        assert (refund.status, refund.processor_reference, refund.attempts) == (
            Refund.Status.SUCCEEDED,
            made[key_of(scene.case)]["id"],
            2,
        )
        assert refund_timeline(scene.case) == ["refund_requested", "refund_issued"]
    finally:
        back.stop()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_refund_at_once_make_one_call_and_one_refund(http_refunds, processor):
    """Two workers (the after-commit task and the every-minute one, say) pick up the same refund at the
    same moment while the processor is slow: only one of them calls the processor, the other skips
    it; one refund at the processor, one "refund sent" in the timeline."""
    scene = case_in_state("open")
    # The send right after the decision gets no answer (a processor error), so the refund is
    # requested and free for whichever worker takes it next.
    processor.fail_with_status(503, 1)
    services.case_accept(case=scene.case, actor=scene.merchant)
    refund = Refund.objects.get(case=scene.case)
    assert (refund.status, refund.claim_token, processor.requests_received) == (Refund.Status.REQUESTED, "", 1)

    processor.delay_seconds = 1.0
    later = a_minute_after(refund)
    results = race(
        lambda: services.refunds_send(refund_ids=[refund.pk], now=later),
        lambda: services.refunds_send(refund_ids=[refund.pk], now=later),
    )
    outcomes = sorted((value.sent, value.delayed, value.skipped) for _, value in results)
    assert outcomes == [(0, 0, 1), (1, 0, 0)], outcomes

    assert processor.requests_received == 2  # the 503, then one call from the two workers
    made = processor.refunds
    assert list(made) == [key_of(scene.case)]
    refund.refresh_from_db()
    assert (refund.status, refund.processor_reference, refund.attempts) == (
        Refund.Status.SUCCEEDED,
        made[key_of(scene.case)]["id"],
        2,
    )
    scene.payment.refresh_from_db()
    assert scene.payment.refunded_cents == 5000
    assert refund_timeline(scene.case) == ["refund_requested", "refund_issued"]
