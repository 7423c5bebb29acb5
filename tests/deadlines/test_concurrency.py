"""The sweep under real concurrency on PostgreSQL: threads with their own connections, released
together by a barrier. Several sweeps share the work (SKIP LOCKED) and move each case once; a
party's answer racing the sweep at the deadline has exactly one winner, and the timeline says which."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from cases import services, sweeps
from cases.models import Case, CaseEvent, CaseOutcome, CaseStatus
from notifications import services as notification_services
from notifications.models import EmailStatus, Notification
from notifications.services import recording as notification_recording
from payments.models import Refund
from tests.factories import CompanyFactory, PaymentFactory, UserFactory, merchant_of
from tests.racing import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def overdue_cases(count: int, *, company, merchant) -> list[Case]:
    """``count`` cases in each of open, info_requested and denied, all past their deadline at START."""
    opened_at = START - timedelta(days=20)
    cases = []
    for index in range(count * 3):
        customer = UserFactory()
        payment = PaymentFactory(company=company, customer=customer, paid_at=opened_at - timedelta(days=1))
        case = services.case_open(
            customer=customer, payment=payment, reason="not_received", description="?", now=opened_at
        )
        if index % 3 == 1:
            services.case_request_info(case=case, actor=merchant, message="Which?", now=opened_at + timedelta(days=1))
        elif index % 3 == 2:
            services.case_deny(
                case=case,
                actor=merchant,
                now=opened_at + timedelta(days=1),
                reason="delivered_as_described",
                message="It was delivered.",
            )
        cases.append(case)
    return cases


def test_two_sweeps_at_once_move_each_overdue_case_exactly_once(monkeypatch):
    """Two sweeps (as two clusters would run them) over the same overdue cases: every case moves
    once, with one timeline row and one set of notifications, and together they moved them all."""
    monkeypatch.setattr(notification_recording, "notifications_enqueue_delivery", lambda *, ids: None)
    company = CompanyFactory()
    merchant = merchant_of(company)
    cases = overdue_cases(25, company=company, merchant=merchant)
    before = Notification.objects.count()

    results = race(
        lambda: sweeps.deadlines_sweep(now=START, batch_size=4),
        lambda: sweeps.deadlines_sweep(now=START, batch_size=4),
    )

    totals = [result[1] for result in results]
    assert sum(t.escalated for t in totals) == 25
    assert sum(t.denied for t in totals) == 25
    assert sum(t.finalized for t in totals) == 25
    expected = {0: ("open", "escalated"), 1: ("info_requested", "denied"), 2: ("denied", "final")}
    for index, case in enumerate(cases):
        from_state, to_state = expected[index % 3]
        case.refresh_from_db()
        assert case.status == to_state
        moves = CaseEvent.objects.filter(case=case, from_state=from_state, to_state=to_state)
        assert moves.count() == 1, f"case {case.pk} moved {moves.count()} times"
    # One notice to the customer and one to the merchant per moved case.
    assert Notification.objects.count() - before == 2 * 75


def test_sweep_racing_a_merchants_accept_at_the_deadline_has_one_winner_and_the_timeline_says_which():
    """At the very deadline the merchant may still accept; a sweep a moment later may escalate.
    Run at once, exactly one of them happens: accepted and refunded, or escalated with the merchant
    told it came too late; the timeline holds the winner's row and never both."""
    company = CompanyFactory()
    merchant = merchant_of(company)
    winners = []
    for _ in range(6):
        customer = UserFactory()
        payment = PaymentFactory(company=company, customer=customer, paid_at=START - timedelta(days=9))
        case = services.case_open(
            customer=customer, payment=payment, reason="not_received", description="?", now=START - timedelta(days=7)
        )
        deadline = case.respond_by

        accept, sweep = race(
            lambda case=case, deadline=deadline: services.case_accept(case=case.pk, actor=merchant, now=deadline),
            lambda deadline=deadline: sweeps.deadlines_sweep(now=deadline + timedelta(milliseconds=1)),
        )

        case.refresh_from_db()
        timeline = list(
            CaseEvent.objects.filter(case=case, action__in=["accepted", "escalated"]).values_list("action", flat=True)
        )
        refunds = Refund.objects.filter(case=case).count()
        if case.status == CaseStatus.FINAL:
            assert accept[0] == "ok"
            assert sweep[1].escalated == 0
            assert (case.outcome, timeline, refunds) == (CaseOutcome.REFUNDED, ["accepted"], 1)
        else:
            assert case.status == CaseStatus.ESCALATED
            assert accept[0] == "refused"
            assert "no longer" in accept[1].message or "deadline" in accept[1].message or "reload" in accept[1].message
            assert (timeline, refunds) == (["escalated"], 0)
        winners.append(timeline[0])
    assert len(winners) == 6


class SlowLocmemBackend:
    """Sends like locmem, slowly, so a second deliverer arrives while the first is still sending."""

    def __init__(self, *args, **kwargs):
        from django.core.mail.backends.locmem import EmailBackend

        self._backend = EmailBackend(*args, **kwargs)

    def send_messages(self, messages):
        import time

        time.sleep(0.3)
        return self._backend.send_messages(messages)


def test_two_deliverers_racing_one_notification_send_one_email(monkeypatch, settings):
    """The on-commit task and the sweep's safety net (or a retried task) deliver the same
    notification at once: the compare-and-set claim lets exactly one send it."""
    monkeypatch.setattr(notification_recording, "notifications_enqueue_delivery", lambda *, ids: None)
    company = CompanyFactory()
    merchant_of(company)
    customer = UserFactory()
    payment = PaymentFactory(company=company, customer=customer)
    services.case_open(customer=customer, payment=payment, reason="not_received", description="?")
    notification = Notification.objects.get(recipient=customer)
    settings.EMAIL_BACKEND = "tests.deadlines.test_concurrency.SlowLocmemBackend"
    mail.outbox = []

    results = race(
        lambda: notification_services.notification_deliver(notification_id=notification.pk),
        lambda: notification_services.notification_deliver(notification_id=notification.pk),
    )

    assert sorted(result[1] for result in results) == ["not_claimed", "sent"]
    assert [m.to for m in mail.outbox] == [[customer.email]]
    notification.refresh_from_db()
    assert (notification.email_status, notification.email_attempts) == (EmailStatus.SENT, 1)
