"""The every-minute deadline sweep, run through its task entry point with the clock moved by
time-machine: just before each deadline nothing happens, just after it the case moves, once."""

from datetime import timedelta

import pytest
import time_machine

from cases import services, sweeps
from cases.models import CaseEvent, CaseOutcome, CaseStatus
from cases.tasks import deadlines_sweep
from notifications.models import Notification
from payments.gateways import RefundGateway, RefundResult
from payments.models import Refund
from tests.factories import case_in_state

pytestmark = pytest.mark.django_db
SECOND = timedelta(seconds=1)


def sweep_at(moment) -> dict:
    """Run the scheduled task with the wall clock at ``moment``."""
    with time_machine.travel(moment, tick=False):
        return deadlines_sweep()


def moves(case) -> list[tuple[str, str, str]]:
    return [(e.from_state, e.to_state, e.action) for e in case.events.order_by("id") if e.from_state != e.to_state]


# (state the case is in, the deadline that runs, where it goes, the timeline action, the result key)
DEADLINE_PATHS = [
    ("open", "respond_by", CaseStatus.ESCALATED, "escalated", "escalated"),
    ("info_requested", "reply_by", CaseStatus.DENIED, "reply_expired", "denied"),
    ("denied", "appeal_by", CaseStatus.FINAL, "finalized", "finalized"),
    ("accepted", "appeal_by", CaseStatus.FINAL, "finalized", "refunded"),
]


@pytest.mark.parametrize(("status", "deadline_field", "target", "action", "key"), DEADLINE_PATHS)
def test_sweep_just_before_and_at_a_deadline_leaves_the_case_alone(status, deadline_field, target, action, key):
    """One second before its deadline, and at the very deadline (the party may still act then),
    the sweep does not touch the case."""
    scene = case_in_state(status)
    deadline = getattr(scene.case, deadline_field)
    before = moves(scene.case)

    assert sweep_at(deadline - SECOND)[key] == 0
    assert sweep_at(deadline)[key] == 0

    case = scene.refresh()
    assert case.status == status
    assert moves(case) == before


@pytest.mark.parametrize(("status", "deadline_field", "target", "action", "key"), DEADLINE_PATHS)
def test_sweep_just_after_a_deadline_moves_the_case_once(status, deadline_field, target, action, key):
    """One second after its deadline the sweep moves the case, with one timeline row by the system;
    sweeping again changes nothing."""
    scene = case_in_state(status)
    after = getattr(scene.case, deadline_field) + SECOND

    assert sweep_at(after)[key] == 1
    assert sweep_at(after + timedelta(minutes=1))[key] == 0

    case = scene.refresh()
    assert case.status == target
    system_moves = [m for m in moves(case) if m[2] == action]
    assert system_moves == [(status, target, action)]
    assert case.events.get(action=action).actor_kind == "system"
    assert case.updated_at == after


def test_sweep_after_respond_by_hands_the_case_to_reviewers_with_escalated_at():
    """An escalated case shows reviewers since when it waits, and no party deadline runs."""
    scene = case_in_state("open")
    after = scene.case.respond_by + SECOND

    sweep_at(after)

    case = scene.refresh()
    assert (case.escalated_at, case.respond_by, case.next_deadline_at) == (after, None, None)


def test_sweep_after_reply_by_denies_and_starts_the_customers_appeal_window():
    """A customer's silence closes the case for the merchant, appealable for 7 days."""
    scene = case_in_state("info_requested")
    after = scene.case.reply_by + SECOND

    sweep_at(after)

    case = scene.refresh()
    assert case.appeal_by == after + timedelta(days=7)
    assert case.next_deadline_at == case.appeal_by
    assert case.decided_by_kind == "system"


def test_sweep_after_appeal_by_on_a_reviewers_refund_refunds_the_payment_once():
    """A reviewer's refund nobody appealed becomes final and the money moves, exactly once."""
    scene = case_in_state("accepted")
    after = scene.case.appeal_by + SECOND

    sweep_at(after)
    sweep_at(after + timedelta(minutes=1))

    case = scene.refresh()
    assert (case.status, case.outcome) == (CaseStatus.FINAL, CaseOutcome.REFUNDED)
    assert scene.payment.refunded_cents == scene.payment.amount_cents
    assert Refund.objects.filter(case=case).count() == 1


def test_sweep_after_appeal_by_on_a_denial_closes_it_as_denied_without_money():
    """A denial nobody appealed becomes final (denied) at the sweep that finds it overdue: the case
    is closed at that moment and no money moves."""
    scene = case_in_state("denied")
    swept_at = scene.case.appeal_by + SECOND

    sweep_at(swept_at)

    case = scene.refresh()
    assert (case.status, case.outcome) == (CaseStatus.FINAL, CaseOutcome.DENIED)
    assert case.closed_at == swept_at
    assert not Refund.objects.filter(case=case).exists()


@pytest.mark.parametrize("status", ["open", "info_requested", "accepted", "denied"])
def test_reminder_just_before_and_after_24_hours_left(status):
    """The "24 hours left" reminder is not sent a second before the last day starts, is sent once
    after it starts, and never again for that deadline."""
    scene = case_in_state(status)
    deadline = scene.case.next_deadline_at

    assert sweep_at(deadline - timedelta(hours=24) - SECOND)["reminded"] == 0
    assert sweep_at(deadline - timedelta(hours=24) + SECOND)["reminded"] == 1
    assert sweep_at(deadline - timedelta(hours=2))["reminded"] == 0

    case = scene.refresh()
    assert case.reminder_sent_for == deadline
    assert case.events.filter(action=CaseEvent.Action.REMINDER).count() == 1
    assert Notification.objects.filter(case=case, kind="reminder").count() == 1


def test_reminder_is_sent_again_for_a_new_deadline():
    """After the customer replies the merchant's new deadline earns its own reminder."""
    from cases import services

    scene = case_in_state("open")
    sweep_at(scene.case.respond_by - timedelta(hours=2))
    at = scene.case.respond_by - timedelta(hours=1)
    services.case_request_info(case=scene.case, actor=scene.merchant, message="Which one?", now=at)
    services.case_reply(case=scene.case, actor=scene.customer, message="The blue one.", now=at + SECOND)
    new_deadline = scene.refresh().respond_by

    assert sweep_at(new_deadline - timedelta(hours=23))["reminded"] == 1

    assert scene.refresh().reminder_sent_for == new_deadline
    assert Notification.objects.filter(case=scene.case, kind="reminder", recipient=scene.merchant).count() == 2


def test_sweep_never_overrides_an_answer_that_came_first():
    """The merchant denied one minute before respond_by; the sweep after the deadline leaves it denied."""
    from cases import services

    scene = case_in_state("open")
    services.case_deny(
        case=scene.case,
        actor=scene.merchant,
        now=scene.case.respond_by - timedelta(minutes=1),
        reason="delivered_as_described",
        message="It was delivered.",
    )

    result = sweep_at(scene.case.respond_by + SECOND)

    case = scene.refresh()
    assert result["escalated"] == 0
    assert case.status == CaseStatus.DENIED
    assert not case.events.filter(action="escalated").exists()


def test_sweep_works_through_more_cases_than_one_batch():
    """Overdue cases beyond one batch are all moved in the same run."""
    scenes = [case_in_state("open") for _ in range(5)]
    after = max(s.case.respond_by for s in scenes) + SECOND

    result = sweeps.deadlines_sweep(now=after, batch_size=2)

    assert result.escalated == 5
    assert {s.refresh().status for s in scenes} == {CaseStatus.ESCALATED}


class RefusingGateway(RefundGateway):
    def refund(self, order):
        return RefundResult(succeeded=False, failure_message="card expired")


def test_refund_refused_by_the_processor_is_kept_and_sent_by_a_later_retry(settings):
    """The appeal window closing makes the reviewer's refund decision final whatever the processor
    says; a refusal is recorded with its reason (the money stays reserved, the timeline says the
    refund is delayed), does not stop the sweep, and the retry a minute later sends it once the
    processor accepts."""
    scene = case_in_state("accepted")
    other = case_in_state("denied")
    after = max(scene.case.appeal_by, other.case.appeal_by) + SECOND
    settings.REFUND_GATEWAY = "tests.deadlines.test_sweep.RefusingGateway"

    result = sweep_at(after)

    assert (result["refunded"], result["finalized"]) == (1, 1)
    assert scene.refresh().status == CaseStatus.FINAL
    refund = Refund.objects.get(case=scene.case)
    assert (refund.status, refund.failure_message, refund.next_attempt_at) == (
        "failed",
        "card expired",
        after + timedelta(minutes=1),
    )
    assert scene.payment.refunded_cents == refund.amount_cents
    assert list(scene.case.events.filter(action__startswith="refund").values_list("action", flat=True)) == [
        "refund_requested",
        "refund_failed",
    ]
    settings.REFUND_GATEWAY = "payments.gateways.DatabaseRefundGateway"
    assert services.refunds_send_due(now=after + timedelta(minutes=1)).sent == 1
    assert Refund.objects.get(case=scene.case).status == "succeeded"
    assert scene.case.events.filter(action="refund_issued").count() == 1
