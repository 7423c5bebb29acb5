"""Partial refund offers racing the other ways a case ends, on PostgreSQL with real threads (each on
its own connection, released together): one refund row, one final state, the payment refunded once.
"""

from datetime import timedelta

import pytest

from cases import services
from cases.models import CaseEvent, CaseOffer, CaseStatus
from cases.sweeps import deadlines_sweep
from payments.models import Refund
from tests.factories import case_in_state
from tests.racing import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
OFFERED = 2000


def _case_with_an_offer():
    scene = case_in_state("open")
    services.case_offer(
        case=scene.case.pk,
        actor=scene.merchant,
        amount_cents=OFFERED,
        message="Would $20 do?",
        now=scene.later(hours=1),
    )
    return scene, scene.refresh().reply_by


def _finals(case) -> int:
    return CaseEvent.objects.filter(case=case, to_state=CaseStatus.FINAL).exclude(from_state=CaseStatus.FINAL).count()


@pytest.mark.parametrize("round_", range(3))
def test_accept_offer_racing_refund_in_full_and_the_sweep_refunds_once(round_):
    """The customer accepts the offer at reply_by, the merchant refunds in full and the sweep finds
    reply_by passed, all at once: whichever order they land in, the case ends final and refunded
    with exactly one refund row, the payment refunded by that one amount, and one move to final."""
    scene, reply_by = _case_with_an_offer()
    case_id, customer, merchant = scene.case.pk, scene.customer, scene.merchant

    accepted, refunded, swept = race(
        lambda: services.case_offer_accept(case=case_id, actor=customer, now=reply_by),
        lambda: services.case_refund_in_full(case=case_id, actor=merchant, now=reply_by),
        lambda: deadlines_sweep(now=reply_by + timedelta(seconds=1)).as_dict(),
    )

    case = scene.refresh()
    assert (case.status, case.outcome, case.offer_pending) == (CaseStatus.FINAL, "refunded", False)
    [refund] = Refund.objects.filter(payment=scene.payment)
    assert scene.payment.refunded_cents == refund.amount_cents
    assert _finals(case) == 1
    offer = CaseOffer.objects.get(case=case)
    if accepted[0] == "ok":
        assert refund.amount_cents == OFFERED
        assert offer.status == CaseOffer.Status.ACCEPTED
        assert refunded[0] == "refused"
    else:
        # The merchant's refund in full came first (perhaps after the sweep denied the case): all of it.
        assert refunded[0] == "ok"
        assert refund.amount_cents == 5000
        assert offer.status == CaseOffer.Status.LAPSED
    assert swept[0] == "ok"


@pytest.mark.parametrize("round_", range(3))
def test_accept_offer_racing_the_sweep_has_one_winner(round_):
    """Accepting at reply_by against the sweep a moment after it: either the offer is accepted (one
    refund of the offered amount) or it lapsed and the case is denied (no refund), never both."""
    scene, reply_by = _case_with_an_offer()
    case_id, customer = scene.case.pk, scene.customer

    accepted, swept = race(
        lambda: services.case_offer_accept(case=case_id, actor=customer, now=reply_by),
        lambda: deadlines_sweep(now=reply_by + timedelta(seconds=1)).as_dict(),
    )

    case = scene.refresh()
    offer = CaseOffer.objects.get(case=case)
    refunds = list(Refund.objects.filter(payment=scene.payment).values_list("amount_cents", flat=True))
    if accepted[0] == "ok":
        assert (case.status, case.outcome, offer.status) == (CaseStatus.FINAL, "refunded", CaseOffer.Status.ACCEPTED)
        assert refunds == [OFFERED] and scene.payment.refunded_cents == OFFERED
        assert swept[1]["denied"] == 0
    else:
        assert (case.status, offer.status) == (CaseStatus.DENIED, CaseOffer.Status.LAPSED)
        assert refunds == [] and scene.payment.refunded_cents == 0
        assert swept[1]["denied"] == 1
    assert not case.offer_pending
