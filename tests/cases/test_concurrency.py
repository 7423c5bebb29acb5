"""Races on PostgreSQL with real threads, each on its own connection, released together by a barrier.

Whatever runs at once: one case per payment, one winner per case, one timeline event per state
change, at most one refund per case, and a payment's refunds never exceed its amount. Losers get a
clean ApplicationError, never a crash.
"""

from datetime import timedelta

import pytest

from cases import services
from cases.models import Case, CaseEvent, CaseStatus
from payments.models import Refund
from payments.services import refund_request
from resolution_center.exceptions import ApplicationError, NotEligibleError
from tests.factories import PaymentFactory, UserFactory, case_in_state
from tests.racing import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def state_changes(case) -> list[tuple[str, str]]:
    return [(e.from_state, e.to_state) for e in CaseEvent.objects.filter(case=case) if e.from_state != e.to_state]


def test_open_twice_at_once_gives_one_case_and_one_clean_refusal():
    """Two submissions opening a case on the same payment: one case, the other told why not."""
    customer = UserFactory()
    payment = PaymentFactory(customer=customer)

    def submit():
        return services.case_open(customer=customer, payment=payment.pk, reason="not_received", description="Lost")

    results = race(submit, submit)
    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["ok", "refused"]
    refusal = next(value for kind, value in results if kind == "refused")
    assert isinstance(refusal, NotEligibleError)
    assert refusal.message == "A case has already been opened for this payment; a payment can only ever have one case."
    assert Case.objects.filter(payment=payment).count() == 1
    assert CaseEvent.objects.filter(case__payment=payment, action="opened").count() == 1


@pytest.mark.parametrize("round_", range(3))
def test_accept_deny_withdraw_race_has_one_winner_one_event_at_most_one_refund(round_):
    """Eight threads race accept, deny and withdraw on one case: exactly one wins, the seven others
    are refused with a clear error (none crashes), the timeline gets
    exactly one state change, and at most one refund is made (exactly one if accept won)."""
    scene = case_in_state("open")
    case_id, merchant, customer = scene.case.pk, scene.merchant, scene.customer
    at = scene.later(hours=1)
    calls = (
        [lambda: services.case_accept(case=case_id, actor=merchant, now=at)] * 3
        + [
            lambda: services.case_deny(
                case=case_id, actor=merchant, now=at, reason="delivered_as_described", message="It was delivered."
            )
        ]
        * 3
        + [lambda: services.case_withdraw(case=case_id, actor=customer, now=at)] * 2
    )
    results = race(*calls)
    winners = [value for kind, value in results if kind == "ok"]
    assert len(winners) == 1
    assert sorted(kind for kind, _ in results) == ["ok"] + ["refused"] * 7, results
    assert all(isinstance(value, ApplicationError) for kind, value in results if kind == "refused")
    case = scene.refresh()
    assert case.status == winners[0].status
    assert state_changes(case)[1:] == [("open", case.status)]
    refunds = Refund.objects.filter(payment=scene.payment)
    if case.outcome == "refunded":
        assert [r.amount_cents for r in refunds] == [5000]
        assert scene.payment.refunded_cents == 5000
    else:
        assert not refunds.exists()
        assert scene.payment.refunded_cents == 0


def test_waive_and_appeal_deadline_sweep_race_refunds_once():
    """The merchant waiving its appeal and the clock finalising the reviewer's refund, at once: one of
    them closes the case and the money moves exactly once."""
    scene = case_in_state("accepted")
    case_id, merchant, deadline = scene.case.pk, scene.merchant, scene.case.appeal_by
    results = race(
        lambda: services.case_appeal_waive(case=case_id, actor=merchant, now=deadline),
        lambda: services.case_finalize_expired(case=case_id, now=deadline + timedelta(seconds=1)),
    )
    case = scene.refresh()
    assert (case.status, case.outcome) == (CaseStatus.FINAL, "refunded")
    assert state_changes(case)[-1] == ("accepted", "final")
    assert len([s for s in state_changes(case) if s[1] == "final"]) == 1
    assert Refund.objects.filter(payment=scene.payment).count() == 1
    assert scene.payment.refunded_cents == 5000
    # Exactly one of them closed it: the other was refused, or the sweep found nothing left to do.
    waived, swept = results
    assert [waived[0] == "ok", swept == ("ok", True)].count(True) == 1


def test_refunds_racing_on_one_payment_never_exceed_its_amount():
    """Two different refunds of 3000 on a 5000 payment at once: one succeeds, the other is refused."""
    payment = PaymentFactory(amount_cents=5000)

    def refund(key):
        return lambda: refund_request(
            payment=payment, amount_cents=3000, currency="USD", idempotency_key=key, initiated_by_kind="merchant"
        )

    results = race(refund("a"), refund("b"))
    assert sorted(kind for kind, _ in results) == ["ok", "refused"]
    payment.refresh_from_db()
    assert payment.refunded_cents == 3000
    assert Refund.objects.filter(payment=payment).count() == 1


def test_refund_retried_at_once_with_same_key_returns_one_refund_to_both():
    """The same refund submitted twice at once (a double click, a retried worker) is made once and both
    callers get that refund back, not an error."""
    payment = PaymentFactory(amount_cents=5000)

    def refund():
        return refund_request(
            payment=payment, amount_cents=5000, currency="USD", idempotency_key="same", initiated_by_kind="merchant"
        )

    results = race(refund, refund)
    assert [kind for kind, _ in results] == ["ok", "ok"]
    assert results[0][1].pk == results[1][1].pk
    payment.refresh_from_db()
    assert payment.refunded_cents == 5000
    assert Refund.objects.filter(payment=payment).count() == 1
