"""Issue #12 §2, "Refund in full at any stage" (DOMAIN.md, "Settling faster"): until a case is final
the case's merchant may give up and refund what is left of the payment, whatever the state; the case
closes as refunded, decided by the merchant, and leaves the reviewers' queue.

Each allowed move checks what a person would see (state, outcome, who decided, the money, the
timeline, the customer's notice); each refusal checks the policy's words and that nothing changed.
"""

from datetime import timedelta

import pytest
from django.urls import reverse

from cases import services
from cases.models import CaseEvent, CaseOutcome, CaseStatus
from notifications.models import Notification, NotificationKind
from payments.models import ActorKind, Membership, Refund
from payments.services import refund_request
from resolution_center.exceptions import InvalidTransitionError, NotAllowedError
from tests.factories import MembershipFactory, case_in_state

pytestmark = pytest.mark.django_db

# Every state but final, with the path that leads there where several do.
NOT_FINAL = [
    ("open", ""),
    ("info_requested", ""),
    ("escalated", ""),
    ("accepted", ""),
    ("denied", "merchant"),
    ("denied", "reviewer"),
    ("denied", "silence"),
    ("appealed", "customer"),
    ("appealed", "merchant"),
]
FINAL = ["accepted", "withdrawn", "credited", "denied"]


def timeline(case) -> list[tuple[str, str, str]]:
    return list(CaseEvent.objects.filter(case=case).order_by("id").values_list("action", "from_state", "to_state"))


@pytest.mark.parametrize(("status", "via"), NOT_FINAL, ids=lambda v: v or "-")
def test_refund_in_full_from_every_state_closes_as_refunded_by_the_merchant(status, via):
    """From any state but final the merchant's refund closes the case as refunded, decided by the
    merchant, with every clock stopped; one refund of the whole payment is requested (sent after
    commit), one timeline row records the move and the customer is told."""
    scene = case_in_state(status, via=via)
    at = scene.later(hours=1)
    before = timeline(scene.case)

    services.case_refund_in_full(case=scene.case.pk, actor=scene.merchant, note="Sorry for the wait.", now=at)

    case = scene.refresh()
    assert (case.status, case.outcome) == (CaseStatus.FINAL, CaseOutcome.REFUNDED)
    assert (case.decided_by_kind, case.decided_by) == (ActorKind.MERCHANT, scene.merchant)
    assert case.closed_at == at
    assert (case.respond_by, case.reply_by, case.appeal_by, case.next_deadline_at) == (None, None, None, None)
    [refund] = Refund.objects.filter(payment=scene.payment)
    assert (refund.amount_cents, refund.status) == (5000, Refund.Status.REQUESTED)
    assert (refund.initiated_by_kind, refund.initiated_by) == (ActorKind.MERCHANT, scene.merchant)
    added = timeline(case)[len(before) :]
    assert added == [("refunded_in_full", status, "final"), ("refund_requested", "final", "final")]
    event = CaseEvent.objects.get(case=case, action=CaseEvent.Action.REFUNDED_IN_FULL)
    assert (event.actor_kind, event.actor, event.note) == (ActorKind.MERCHANT, scene.merchant, "Sorry for the wait.")
    told = Notification.objects.filter(case=case, kind=NotificationKind.REFUNDED_IN_FULL)
    assert [(n.recipient_id, n.party) for n in told] == [(scene.customer.pk, "customer")]


def test_refund_in_full_of_an_escalated_case_leaves_the_reviewers_queue(client, reviewer_user):
    """The reviewers' queue lists the escalated case until the merchant refunds it, then no longer."""
    scene = case_in_state("escalated")
    client.force_login(reviewer_user)
    queue = reverse("admin:cases_case_changelist")
    assert f">Case #{scene.case.pk}</a>" in client.get(queue).content.decode()

    services.case_refund_in_full(case=scene.case, actor=scene.merchant, now=scene.later(hours=1))

    assert f">Case #{scene.case.pk}</a>" not in client.get(queue).content.decode()


def test_refund_in_full_after_a_partial_refund_refunds_only_what_is_left():
    """A refund never exceeds what is left: $80 paid, $30 already refunded, $50 refunded now."""
    scene = case_in_state("escalated", amount_cents=8000)
    refund_request(
        payment=scene.payment,
        amount_cents=3000,
        currency="USD",
        idempotency_key="manual-1",
        initiated_by_kind=ActorKind.MERCHANT,
        initiated_by=scene.merchant,
    )

    services.case_refund_in_full(case=scene.case, actor=scene.merchant, now=scene.later(hours=1))

    assert Refund.objects.get(case=scene.case).amount_cents == 5000


def test_refund_in_full_sent_after_commit_reaches_the_customer(django_capture_on_commit_callbacks):
    """Once the decision commits the refund goes to the processor: the payment is fully refunded."""
    scene = case_in_state("denied")
    with django_capture_on_commit_callbacks(execute=True):
        services.case_refund_in_full(case=scene.case, actor=scene.merchant, now=scene.later(hours=1))
    scene.refresh()
    assert scene.payment.refunded_cents == 5000
    assert Refund.objects.get(case=scene.case).status == Refund.Status.SUCCEEDED


def test_refund_in_full_after_a_deadline_passed_still_goes_through():
    """No clock stops the merchant: an open case past respond_by, not yet swept, can still be refunded."""
    scene = case_in_state("open")
    late = scene.case.respond_by + timedelta(hours=1)

    services.case_refund_in_full(case=scene.case, actor=scene.merchant, now=late)

    assert scene.refresh().outcome == CaseOutcome.REFUNDED


def _assert_nothing_changed(scene, status: str, events: list, refunds: int) -> None:
    case = scene.refresh()
    assert case.status == status
    assert timeline(case) == events
    assert Refund.objects.filter(payment=scene.payment).count() == refunds


@pytest.mark.parametrize("via", FINAL)
def test_refund_in_full_of_a_final_case_is_refused_in_plain_words(via):
    """A closed case cannot be refunded again: the policy's sentence, and nothing changes."""
    scene = case_in_state("final", via=via)
    events, refunds = timeline(scene.case), Refund.objects.filter(payment=scene.payment).count()

    with pytest.raises(InvalidTransitionError) as refused:
        services.case_refund_in_full(case=scene.case, actor=scene.merchant, now=scene.later(hours=1))

    assert refused.value.message == "This case is closed, so you can no longer refund it in full."
    _assert_nothing_changed(scene, CaseStatus.FINAL, events, refunds)


@pytest.mark.parametrize(
    ("who", "says"),
    [
        ("customer", "Only a member of {company} can refund this case in full."),
        ("other_merchant", "Only a member of {company} can refund this case in full."),
        ("reviewer", "Only a member of {company} can refund this case in full."),
        ("member_customer", "You opened this case yourself, so another member of {company} must answer it."),
    ],
)
@pytest.mark.parametrize("status", ["open", "escalated", "appealed"])
def test_refund_in_full_by_anyone_but_the_cases_merchant_is_refused(status, who, says):
    """The case's own customer (also when a member of the company), another company's merchant and a
    reviewer are refused as the wrong person; the case stays as it was."""
    scene = case_in_state(status)
    if who == "member_customer":
        MembershipFactory(company=scene.case.company, user=scene.customer, role=Membership.Role.SUPPORT)
        actor = scene.customer
    else:
        actor = getattr(scene, who)
    events = timeline(scene.case)

    with pytest.raises(NotAllowedError) as refused:
        services.case_refund_in_full(case=scene.case, actor=actor, now=scene.later(hours=1))

    assert refused.value.message == says.format(company=scene.case.company.name)
    _assert_nothing_changed(scene, status, events, 0)
