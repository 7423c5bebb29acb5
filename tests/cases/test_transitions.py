"""Every row of DOMAIN.md's transition table, allowed and refused.

Each allowed move checks what a person would see (state, outcome, deadline, timeline, money); each
refusal checks the message and that the case did not move.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group

from cases import services
from cases.models import CaseEvent, CaseOutcome, CaseStatus, Message
from cases.policy import status_words
from payments.models import ActorKind, BalanceCredit, Refund
from resolution_center.exceptions import ApplicationError, InvalidTransitionError, NotAllowedError
from tests.factories import MembershipFactory, PaymentFactory, UserFactory, case_in_state

pytestmark = pytest.mark.django_db
WEEK = timedelta(days=7)


def state_changes(case) -> list[tuple[str, str, str]]:
    """The case's timeline rows that moved it, oldest first, as (from, to, action)."""
    return [
        (e.from_state, e.to_state, e.action)
        for e in CaseEvent.objects.filter(case=case).order_by("created_at", "id")
        if e.from_state != e.to_state
    ]


def assert_refused(call, error=ApplicationError, match=""):
    """The call raises ``error`` whose message contains ``match``; returns the message."""
    with pytest.raises(error) as caught:
        call()
    assert match in caught.value.message
    return caught.value.message


def assert_unchanged(scene, status):
    case = scene.refresh()
    assert case.status == status
    assert Refund.objects.filter(payment=scene.payment).count() == (1 if scene.payment.refunded_cents else 0)


# --- open ----------------------------------------------------------------------------------------


def test_case_open_eligible_payment_starts_open_with_seven_days_for_the_merchant():
    """Opening a case puts it in `open`, gives the merchant 7 days, and starts the timeline."""
    scene = case_in_state("open")
    case = scene.case
    assert case.status == CaseStatus.OPEN
    assert case.respond_by == case.opened_at + WEEK
    assert case.next_deadline_at == case.respond_by
    assert state_changes(case) == [("", "open", "opened")]
    assert Message.objects.get(case=case).body == "Never came"


# --- request more info -----------------------------------------------------------------------


def test_request_info_by_merchant_on_open_waits_on_customer_for_seven_days():
    """The merchant's info request moves the case to `info_requested` and starts the customer's 7 days."""
    scene = case_in_state("open")
    at = scene.later(hours=2)
    case = services.case_request_info(case=scene.case, actor=scene.merchant, message="Which address?", now=at)
    case.refresh_from_db()
    assert case.status == CaseStatus.INFO_REQUESTED
    assert case.reply_by == at + WEEK
    assert case.respond_by is None
    assert case.info_requests_count == 1
    assert state_changes(case)[-1] == ("open", "info_requested", "info_requested")
    assert Message.objects.filter(case=case, author=scene.merchant, body="Which address?").exists()


@pytest.mark.parametrize("who", ["customer", "other_merchant", "reviewer"])
def test_request_info_by_anyone_but_the_merchant_is_refused(who):
    """Only a member of the case's company may ask for more information."""
    scene = case_in_state("open")
    assert_refused(
        lambda: services.case_request_info(
            case=scene.case, actor=getattr(scene, who), message="?", now=scene.later(hours=1)
        ),
        NotAllowedError,
        f"Only a member of {scene.case.company.name}",
    )
    assert_unchanged(scene, CaseStatus.OPEN)


@pytest.mark.parametrize("status", ["info_requested", "escalated", "denied", "final"])
def test_request_info_outside_open_is_refused(status):
    """More information can only be requested while the case is open; while the customer owes a
    reply the merchant is told to wait for it."""
    scene = case_in_state(status)
    message = assert_refused(
        lambda: services.case_request_info(
            case=scene.case, actor=scene.merchant, message="?", now=scene.later(hours=1)
        ),
        InvalidTransitionError,
    )
    if status == "info_requested":
        assert message == "You are waiting for the customer's reply; you can ask again once they have answered."
    else:
        assert message == f"This case is {status_words(status)}, so you can no longer request more information."
    assert_unchanged(scene, status)


def test_request_info_fourth_time_is_refused_with_accept_or_deny_hint():
    """Three info requests are allowed; the fourth is refused and the merchant is told to decide."""
    scene = case_in_state("open")
    at = scene.now
    for _ in range(3):
        at += timedelta(hours=1)
        services.case_request_info(case=scene.case, actor=scene.merchant, message="More?", now=at)
        at += timedelta(hours=1)
        services.case_reply(case=scene.case, actor=scene.customer, message="Here.", now=at)
    assert_refused(
        lambda: services.case_request_info(
            case=scene.case, actor=scene.merchant, message="More?", now=at + timedelta(hours=1)
        ),
        InvalidTransitionError,
        "already asked for more information 3 times; please accept or deny",
    )
    case = scene.refresh()
    assert case.status == CaseStatus.OPEN
    assert case.info_requests_count == 3
    assert case.info_requests_left == 0


def test_request_info_after_respond_by_passed_is_refused():
    """Once the merchant's 7 days are over the case belongs to the reviewers, even before the sweep runs."""
    scene = case_in_state("open")
    late = scene.case.respond_by + timedelta(seconds=1)
    assert_refused(
        lambda: services.case_request_info(case=scene.case, actor=scene.merchant, message="?", now=late),
        InvalidTransitionError,
        "The deadline to answer passed",
    )
    assert_unchanged(scene, CaseStatus.OPEN)


# --- reply -----------------------------------------------------------------------------------


def test_reply_by_customer_reopens_case_and_restarts_merchant_clock():
    """The customer's reply moves the case back to `open` with a fresh 7 days for the merchant."""
    scene = case_in_state("info_requested")
    at = scene.later(days=2)
    services.case_reply(case=scene.case, actor=scene.customer, message="Here is the address.", now=at)
    case = scene.refresh()
    assert case.status == CaseStatus.OPEN
    assert case.respond_by == at + WEEK
    assert case.reply_by is None
    assert state_changes(case)[-1] == ("info_requested", "open", "replied")
    assert Message.objects.filter(case=case, author=scene.customer, body="Here is the address.").exists()


@pytest.mark.parametrize("who", ["merchant", "other_merchant", "reviewer", "stranger"])
def test_reply_by_anyone_but_the_customer_is_refused(who):
    """Only the customer who opened the case may reply to an info request."""
    scene = case_in_state("info_requested")
    actor = UserFactory() if who == "stranger" else getattr(scene, who)
    assert_refused(
        lambda: services.case_reply(case=scene.case, actor=actor, message="Hi", now=scene.later(hours=1)),
        NotAllowedError,
        "Only the customer who opened this case can reply",
    )
    assert_unchanged(scene, CaseStatus.INFO_REQUESTED)


@pytest.mark.parametrize("status", ["open", "escalated", "denied", "final"])
def test_reply_outside_info_requested_is_refused(status):
    """A reply only answers an open information request."""
    scene = case_in_state(status)
    assert_refused(
        lambda: services.case_reply(case=scene.case, actor=scene.customer, message="Hi", now=scene.later(hours=1)),
        InvalidTransitionError,
        "so you can no longer reply to an information request",
    )
    assert_unchanged(scene, status)


def test_reply_after_reply_by_passed_is_refused():
    """After the customer's 7 days the reply comes too late, even before the sweep runs."""
    scene = case_in_state("info_requested")
    late = scene.case.reply_by + timedelta(minutes=1)
    assert_refused(
        lambda: services.case_reply(case=scene.case, actor=scene.customer, message="Sorry", now=late),
        InvalidTransitionError,
        "The deadline to reply passed",
    )
    assert_unchanged(scene, CaseStatus.INFO_REQUESTED)


# --- messages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "who"),
    [
        (status, who)
        for status in ["open", "info_requested", "escalated", "accepted", "denied", "appealed"]
        for who in ["customer", "merchant", "reviewer"]
        # The customer answers an information request with Reply (the test after this one).
        if (status, who) != ("info_requested", "customer")
    ],
)
def test_message_by_a_party_on_an_unclosed_case_keeps_state(status, who):
    """Customer, merchant and reviewer may post a message in every state but `final` (the customer
    answers an information request with Reply instead); nothing moves."""
    scene = case_in_state(status)
    before = (scene.case.status, scene.case.next_deadline_at, len(state_changes(scene.case)))
    services.case_message_post(case=scene.case, actor=getattr(scene, who), body="A note", now=scene.later(hours=1))
    case = scene.refresh()
    assert (case.status, case.next_deadline_at, len(state_changes(case))) == before
    event = CaseEvent.objects.filter(case=case).order_by("-id").first()
    assert (event.action, event.actor_kind) == ("message", who)


def test_message_by_the_customer_while_info_is_requested_points_to_reply():
    """While the merchant waits for the customer's answer, a plain message from the customer is
    refused with a pointer to Reply (which answers the request and restarts the merchant's clock);
    nothing is written."""
    scene = case_in_state("info_requested")
    messages_before = scene.case.messages.count()
    assert_refused(
        lambda: services.case_message_post(case=scene.case, actor=scene.customer, body="Here", now=scene.later()),
        InvalidTransitionError,
        "please send it as your reply",
    )
    assert scene.case.messages.count() == messages_before
    assert_unchanged(scene, "info_requested")


def test_message_by_another_companys_merchant_is_refused():
    """A merchant of another company is no party to the case and cannot write on it."""
    scene = case_in_state("open")
    assert_refused(
        lambda: services.case_message_post(case=scene.case, actor=scene.other_merchant, body="Hi"),
        NotAllowedError,
        "You are not a party to this case.",
    )
    assert not Message.objects.filter(author=scene.other_merchant).exists()


def test_message_on_final_case_is_refused():
    """A closed case takes no more messages."""
    scene = case_in_state("final")
    assert_refused(
        lambda: services.case_message_post(case=scene.case, actor=scene.customer, body="Thanks"),
        InvalidTransitionError,
        "This case is closed",
    )


def test_message_from_merchant_does_not_stop_the_clock():
    """Only Accept, Deny and Request info answer a case: after a message, respond_by still escalates it."""
    scene = case_in_state("open")
    services.case_message_post(case=scene.case, actor=scene.merchant, body="Looking into it", now=scene.later(hours=1))
    assert services.case_escalate_overdue(case=scene.case, now=scene.case.respond_by + timedelta(seconds=1))
    assert scene.refresh().status == CaseStatus.ESCALATED


# --- accept ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["open", "info_requested"])
def test_accept_by_merchant_refunds_what_is_left_now_and_closes(status, django_capture_on_commit_callbacks):
    """Accepting closes the case as refunded and refunds the whole remaining amount, once: requested
    with the decision, sent to the processor as soon as it commits."""
    scene = case_in_state(status)
    at = scene.later(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.case_accept(case=scene.case, actor=scene.merchant, note="Sorry!", now=at)
    case = scene.refresh()
    assert (case.status, case.outcome) == (CaseStatus.FINAL, CaseOutcome.REFUNDED)
    assert (case.decided_by_kind, case.decided_by) == (ActorKind.MERCHANT, scene.merchant)
    assert case.closed_at == at
    assert case.next_deadline_at is None
    refund = Refund.objects.get(case=case)
    assert (refund.amount_cents, refund.status, refund.initiated_by) == (5000, "succeeded", scene.merchant)
    assert scene.payment.refunded_cents == 5000
    assert state_changes(case)[-1] == (status, "final", "accepted")
    # In the order they were written (the scene's clock is not the processor's).
    assert [e.action for e in case.events.order_by("id") if e.action.startswith("refund")] == [
        "refund_requested",
        "refund_issued",
    ]


def test_accept_after_partial_refund_refunds_only_the_rest():
    """A refund never exceeds what is left of the payment."""
    from payments.services import refund_request

    scene = case_in_state("open", amount_cents=8000)
    refund_request(
        payment=scene.payment,
        amount_cents=3000,
        currency="USD",
        idempotency_key="manual-1",
        initiated_by_kind="merchant",
        initiated_by=scene.merchant,
    )
    services.case_accept(case=scene.case, actor=scene.merchant, now=scene.later(hours=1))
    scene.refresh()
    assert Refund.objects.get(case=scene.case).amount_cents == 5000
    assert scene.payment.refunded_cents == 8000


def test_accept_on_euro_payment_refunds_in_euro():
    """Money goes back in the payment's own currency."""
    scene = case_in_state("open")
    type(scene.payment).objects.filter(pk=scene.payment.pk).update(currency="EUR")
    services.case_accept(case=scene.case, actor=scene.merchant, now=scene.later(hours=1))
    assert Refund.objects.values_list("amount_cents", "currency").get(case=scene.case) == (5000, "EUR")


@pytest.mark.parametrize("who", ["customer", "other_merchant", "reviewer"])
def test_accept_by_anyone_but_the_merchant_is_refused(who):
    """Only the company's members may accept, and no money moves when someone else tries."""
    scene = case_in_state("open")
    assert_refused(
        lambda: services.case_accept(case=scene.case, actor=getattr(scene, who), now=scene.later(hours=1)),
        NotAllowedError,
        "can accept this case",
    )
    assert_unchanged(scene, CaseStatus.OPEN)
    assert scene.payment.refunded_cents == 0


@pytest.mark.parametrize("action", ["accept", "deny", "request_info"])
def test_merchant_answering_their_own_case_as_customer_is_refused(action, company):
    """A company member who bought from their own company and opened a case is the customer on it:
    they cannot also answer it for the company (a support agent must not refund themselves)."""
    insider = MembershipFactory(company=company, role="support").user
    payment = PaymentFactory(company=company, customer=insider)
    case = services.case_open(customer=insider, payment=payment, reason="not_received", description="x")
    call = {
        "accept": lambda: services.case_accept(case=case, actor=insider),
        "deny": lambda: services.case_deny(
            case=case, actor=insider, reason="delivered_as_described", message="It was delivered."
        ),
        "request_info": lambda: services.case_request_info(case=case, actor=insider, message="?"),
    }[action]
    assert_refused(call, NotAllowedError, "another member of")
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert not Refund.objects.filter(payment=payment).exists()


@pytest.mark.parametrize("status", ["escalated", "accepted", "denied", "appealed", "final"])
def test_accept_outside_open_or_info_requested_is_refused(status):
    """Once escalated, decided or closed, the merchant can no longer accept."""
    scene = case_in_state(status)
    refunded_before = scene.payment.refunded_cents
    assert_refused(
        lambda: services.case_accept(case=scene.case, actor=scene.merchant, now=scene.later(hours=1)),
        InvalidTransitionError,
        "so you can no longer accept it",
    )
    assert_unchanged(scene, status)
    assert scene.payment.refunded_cents == refunded_before


def test_accept_after_respond_by_passed_is_refused():
    """After the merchant's 7 days the case goes to the reviewers; a late accept is refused."""
    scene = case_in_state("open")
    assert_refused(
        lambda: services.case_accept(
            case=scene.case, actor=scene.merchant, now=scene.case.respond_by + timedelta(seconds=1)
        ),
        InvalidTransitionError,
        "The deadline to answer passed",
    )
    assert_unchanged(scene, CaseStatus.OPEN)


# --- deny ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["open", "info_requested"])
def test_deny_by_merchant_gives_customer_seven_days_to_appeal(status):
    """Denying moves the case to `denied`; the customer has 7 days to appeal; no money moves."""
    scene = case_in_state(status)
    at = scene.later(hours=1)
    services.case_deny(
        case=scene.case, actor=scene.merchant, reason="delivered_as_described", message="Delivered.", now=at
    )
    case = scene.refresh()
    assert case.status == CaseStatus.DENIED
    assert case.appeal_by == at + WEEK == case.next_deadline_at
    assert case.outcome == ""
    assert (case.decided_by_kind, case.decided_by) == (ActorKind.MERCHANT, scene.merchant)
    assert state_changes(case)[-1] == (status, "denied", "denied")
    assert not Refund.objects.filter(payment=scene.payment).exists()


@pytest.mark.parametrize("who", ["customer", "other_merchant", "reviewer"])
def test_deny_by_anyone_but_the_merchant_is_refused(who):
    """Only the company's members may deny."""
    scene = case_in_state("info_requested")
    assert_refused(
        lambda: services.case_deny(
            case=scene.case,
            actor=getattr(scene, who),
            now=scene.later(hours=1),
            reason="delivered_as_described",
            message="It was delivered.",
        ),
        NotAllowedError,
        "can deny this case",
    )
    assert_unchanged(scene, CaseStatus.INFO_REQUESTED)


@pytest.mark.parametrize("status", ["escalated", "accepted", "denied", "appealed", "final"])
def test_deny_outside_open_or_info_requested_is_refused(status):
    """Once escalated, decided or closed, the merchant can no longer deny."""
    scene = case_in_state(status)
    assert_refused(
        lambda: services.case_deny(
            case=scene.case,
            actor=scene.merchant,
            now=scene.later(hours=1),
            reason="delivered_as_described",
            message="It was delivered.",
        ),
        InvalidTransitionError,
        "so you can no longer deny it",
    )
    assert_unchanged(scene, status)


# --- withdraw --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["open", "info_requested"])
def test_withdraw_by_customer_closes_without_money(status):
    """Withdrawing closes the case as `withdrawn`; nothing is refunded."""
    scene = case_in_state(status)
    services.case_withdraw(case=scene.case, actor=scene.customer, now=scene.later(hours=1))
    case = scene.refresh()
    assert (case.status, case.outcome) == (CaseStatus.FINAL, CaseOutcome.WITHDRAWN)
    assert state_changes(case)[-1] == (status, "final", "withdrawn")
    assert not Refund.objects.filter(payment=scene.payment).exists()


@pytest.mark.parametrize("who", ["merchant", "other_merchant", "reviewer"])
def test_withdraw_by_anyone_but_the_customer_is_refused(who):
    """Only the customer who opened the case may withdraw it."""
    scene = case_in_state("open")
    assert_refused(
        lambda: services.case_withdraw(case=scene.case, actor=getattr(scene, who), now=scene.later(hours=1)),
        NotAllowedError,
        "Only the customer who opened this case can withdraw it.",
    )
    assert_unchanged(scene, CaseStatus.OPEN)


@pytest.mark.parametrize("status", ["escalated", "accepted", "denied", "appealed", "final"])
def test_withdraw_outside_open_or_info_requested_is_refused(status):
    """A case with the reviewers, decided or closed cannot be withdrawn."""
    scene = case_in_state(status)
    assert_refused(
        lambda: services.case_withdraw(case=scene.case, actor=scene.customer, now=scene.later(hours=1)),
        InvalidTransitionError,
        "so you can no longer withdraw it",
    )
    assert_unchanged(scene, status)


# --- respond_by passes (system) --------------------------------------------------------------


def test_escalate_overdue_before_and_at_respond_by_changes_nothing():
    """Up to and including the deadline the merchant may still answer: the sweep leaves the case alone."""
    scene = case_in_state("open")
    assert services.case_escalate_overdue(case=scene.case, now=scene.case.respond_by - timedelta(minutes=1)) is False
    assert services.case_escalate_overdue(case=scene.case, now=scene.case.respond_by) is False
    assert_unchanged(scene, CaseStatus.OPEN)
    assert len(state_changes(scene.case)) == 1


def test_escalate_overdue_after_respond_by_hands_case_to_reviewers():
    """When respond_by passes the system escalates the case; reviewers see since when it waits."""
    scene = case_in_state("open")
    at = scene.case.respond_by + timedelta(seconds=1)
    assert services.case_escalate_overdue(case=scene.case, now=at) is True
    case = scene.refresh()
    assert case.status == CaseStatus.ESCALATED
    assert case.escalated_at == at
    assert case.next_deadline_at is None
    event = CaseEvent.objects.filter(case=case).order_by("-id").first()
    assert (event.from_state, event.to_state, event.actor_kind, event.actor) == ("open", "escalated", "system", None)


def test_escalate_overdue_twice_escalates_once():
    """Running the sweep again (a retry) adds no second event."""
    scene = case_in_state("open")
    at = scene.case.respond_by + timedelta(seconds=1)
    assert services.case_escalate_overdue(case=scene.case, now=at) is True
    assert services.case_escalate_overdue(case=scene.case, now=at + timedelta(hours=1)) is False
    assert [s[2] for s in state_changes(scene.case)] == ["opened", "escalated"]


@pytest.mark.parametrize("status", ["info_requested", "denied", "final"])
def test_escalate_overdue_outside_open_changes_nothing(status):
    """Only an open case waits on the merchant's deadline."""
    scene = case_in_state(status)
    assert services.case_escalate_overdue(case=scene.case, now=scene.later(days=30)) is False
    assert_unchanged(scene, status)


# --- reply_by passes (system) ----------------------------------------------------------------


def test_deny_unanswered_before_and_at_reply_by_changes_nothing():
    """The customer may reply until the deadline itself."""
    scene = case_in_state("info_requested")
    assert services.case_deny_unanswered(case=scene.case, now=scene.case.reply_by - timedelta(minutes=1)) is False
    assert services.case_deny_unanswered(case=scene.case, now=scene.case.reply_by) is False
    assert_unchanged(scene, CaseStatus.INFO_REQUESTED)


def test_deny_unanswered_after_reply_by_denies_and_lets_customer_appeal():
    """The customer's silence denies the case (closed for the merchant), still appealable for 7 days."""
    scene = case_in_state("info_requested")
    at = scene.case.reply_by + timedelta(seconds=1)
    assert services.case_deny_unanswered(case=scene.case, now=at) is True
    case = scene.refresh()
    assert case.status == CaseStatus.DENIED
    assert case.appeal_by == at + WEEK
    assert case.decided_by_kind == ActorKind.SYSTEM
    assert state_changes(case)[-1] == ("info_requested", "denied", "reply_expired")
    services.case_appeal(case=case, actor=scene.customer, statement="I was in hospital.", now=at + timedelta(days=1))
    assert scene.refresh().status == CaseStatus.APPEALED


@pytest.mark.parametrize("status", ["open", "escalated", "final"])
def test_deny_unanswered_outside_info_requested_changes_nothing(status):
    """Only a case waiting on the customer can be closed for their silence."""
    scene = case_in_state(status)
    assert services.case_deny_unanswered(case=scene.case, now=scene.later(days=30)) is False
    assert scene.refresh().status == status


# --- reviewer decisions on escalated cases -----------------------------------------------------


def test_decide_refund_accepts_and_waits_for_merchant_appeal_before_money_moves():
    """A reviewer's refund is `accepted` with 7 days for the merchant to appeal; no money moves yet."""
    scene = case_in_state("escalated")
    at = scene.later(hours=1)
    services.case_decide(case=scene.case, actor=scene.reviewer, decision="refund", note="Not delivered.", now=at)
    case = scene.refresh()
    assert case.status == CaseStatus.ACCEPTED
    assert case.appeal_by == at + WEEK
    assert (case.decided_by_kind, case.decided_by) == (ActorKind.REVIEWER, scene.reviewer)
    assert not Refund.objects.filter(payment=scene.payment).exists()
    assert scene.payment.refunded_cents == 0


def test_decide_credit_is_final_at_once_with_a_balance_credit_and_no_refund():
    """A credit costs the merchant nothing: the case is final at once, a BalanceCredit is made, no Refund."""
    scene = case_in_state("escalated")
    services.case_decide(case=scene.case, actor=scene.reviewer, decision="credit", note="Goodwill.", now=scene.later())
    case = scene.refresh()
    assert (case.status, case.outcome) == (CaseStatus.FINAL, CaseOutcome.CREDITED)
    credit = BalanceCredit.objects.get(case=case)
    assert (credit.customer, credit.amount_cents, credit.currency) == (scene.customer, 5000, "USD")
    assert not Refund.objects.filter(payment=scene.payment).exists()
    assert scene.payment.refunded_cents == 0


def test_decide_merchant_wins_denies_and_lets_customer_appeal():
    """A reviewer deciding for the merchant denies the case; the customer may appeal for 7 days."""
    scene = case_in_state("escalated")
    at = scene.later(hours=1)
    services.case_decide(case=scene.case, actor=scene.reviewer, decision="merchant_wins", note="Delivered.", now=at)
    case = scene.refresh()
    assert case.status == CaseStatus.DENIED
    assert case.appeal_by == at + WEEK
    assert not Refund.objects.filter(payment=scene.payment).exists()


@pytest.mark.parametrize("who", ["customer", "merchant", "other_merchant", "staff_without_permission"])
def test_decide_by_non_reviewer_is_refused(who):
    """Only platform reviewers decide; staff outside the Reviewers group are refused too."""
    scene = case_in_state("escalated")
    actor = UserFactory(is_staff=True) if who == "staff_without_permission" else getattr(scene, who)
    assert_refused(
        lambda: services.case_decide(case=scene.case, actor=actor, decision="refund", note="x", now=scene.later()),
        NotAllowedError,
        "Only a platform reviewer can decide a case.",
    )
    assert_unchanged(scene, CaseStatus.ESCALATED)


@pytest.mark.parametrize(("status", "party"), [("escalated", "customer"), ("appealed", "merchant")])
def test_decide_by_reviewer_who_is_a_party_is_refused(status, party):
    """A reviewer who is the case's customer or a member of its company cannot decide it."""
    scene = case_in_state(status)
    insider = getattr(scene, party)
    insider.is_staff = True
    insider.save()
    insider.groups.add(Group.objects.get(name="Reviewers"))
    decide = services.case_decide if status == "escalated" else services.case_decide_appeal
    assert_refused(
        lambda: decide(case=scene.case, actor=insider, decision="refund", note="Mine.", now=scene.later()),
        NotAllowedError,
        "another reviewer must decide it",
    )
    assert_unchanged(scene, status)


@pytest.mark.parametrize("status", ["open", "info_requested", "accepted", "denied", "appealed", "final"])
def test_decide_outside_escalated_is_refused(status):
    """case_decide is for escalated cases only (appeals go through case_decide_appeal)."""
    scene = case_in_state(status)
    assert_refused(
        lambda: services.case_decide(
            case=scene.case, actor=scene.reviewer, decision="credit", note="x", now=scene.later()
        ),
        InvalidTransitionError,
        "so you can no longer decide it as an escalated case",
    )
    assert_unchanged(scene, status)
    assert not BalanceCredit.objects.filter(case=scene.case).exists()


# --- appeal ------------------------------------------------------------------------------------


@pytest.mark.parametrize("via", ["merchant", "reviewer", "silence"])
def test_appeal_by_customer_on_denied_goes_to_reviewers(via):
    """Whoever denied the case (merchant, reviewer, the customer's silence), the customer may appeal once."""
    scene = case_in_state("denied", via=via)
    at = scene.later(hours=1)
    services.case_appeal(case=scene.case, actor=scene.customer, statement="Please look again.", now=at)
    case = scene.refresh()
    assert case.status == CaseStatus.APPEALED
    assert (case.appealed, case.appealed_by_kind) == (True, ActorKind.CUSTOMER)
    assert case.escalated_at == at
    assert case.next_deadline_at is None
    assert state_changes(case)[-1] == ("denied", "appealed", "appealed")


def test_appeal_by_merchant_on_reviewer_refund_goes_to_reviewers_without_money():
    """The merchant may appeal a reviewer's refund; no money moves while the appeal waits."""
    scene = case_in_state("accepted")
    services.case_appeal(case=scene.case, actor=scene.merchant, statement="It arrived.", now=scene.later())
    case = scene.refresh()
    assert case.status == CaseStatus.APPEALED
    assert case.appealed_by_kind == ActorKind.MERCHANT
    assert not Refund.objects.filter(payment=scene.payment).exists()


@pytest.mark.parametrize(
    ("status", "who", "match"),
    [
        ("denied", "merchant", "Only the customer who opened this case can appeal."),
        ("denied", "other_merchant", "Only the customer who opened this case can appeal."),
        ("denied", "reviewer", "Only the customer who opened this case can appeal."),
        ("accepted", "customer", "can appeal"),
        ("accepted", "other_merchant", "can appeal"),
        ("accepted", "reviewer", "can appeal"),
    ],
)
def test_appeal_by_the_wrong_party_is_refused(status, who, match):
    """A denial is the customer's to appeal, a reviewer's refund the merchant's; nobody else's."""
    scene = case_in_state(status)
    assert_refused(
        lambda: services.case_appeal(case=scene.case, actor=getattr(scene, who), statement="x", now=scene.later()),
        NotAllowedError,
        match,
    )
    assert_unchanged(scene, status)


@pytest.mark.parametrize("status", ["open", "info_requested", "escalated", "final"])
def test_appeal_outside_accepted_or_denied_is_refused(status):
    """Only a decision can be appealed."""
    scene = case_in_state(status)
    assert_refused(
        lambda: services.case_appeal(case=scene.case, actor=scene.customer, statement="x", now=scene.later()),
        InvalidTransitionError,
        "so you cannot appeal",
    )
    assert_unchanged(scene, status)


@pytest.mark.parametrize("who", ["customer", "merchant"])
def test_appeal_a_second_time_is_refused(who):
    """A case is appealed at most once: after the reviewer's final decision, another appeal is refused."""
    scene = case_in_state("appealed", via=who)
    services.case_decide_appeal(
        case=scene.case, actor=scene.reviewer, decision="merchant_wins", note="Upheld.", now=scene.later()
    )
    assert_refused(
        lambda: services.case_appeal(
            case=scene.case, actor=getattr(scene, who), statement="Again!", now=scene.later(hours=2)
        ),
        InvalidTransitionError,
        "already been appealed once",
    )
    assert scene.refresh().status == CaseStatus.FINAL
    assert [s[2] for s in state_changes(scene.case)].count("appealed") == 1


def test_appeal_after_appeal_by_passed_is_refused():
    """After the 7 days the decision stands, even if the sweep has not run yet."""
    scene = case_in_state("denied")
    assert_refused(
        lambda: services.case_appeal(
            case=scene.case, actor=scene.customer, statement="x", now=scene.case.appeal_by + timedelta(seconds=1)
        ),
        InvalidTransitionError,
        "The deadline to appeal passed",
    )
    assert_unchanged(scene, CaseStatus.DENIED)


# --- waive the appeal --------------------------------------------------------------------------


def test_waive_by_customer_on_denied_makes_denial_final():
    """The customer may accept a denial at once: the case is final, denied, and no money moves."""
    scene = case_in_state("denied")
    services.case_appeal_waive(case=scene.case, actor=scene.customer, now=scene.later())
    case = scene.refresh()
    assert (case.status, case.outcome) == (CaseStatus.FINAL, CaseOutcome.DENIED)
    assert state_changes(case)[-1] == ("denied", "final", "appeal_waived")
    assert not Refund.objects.filter(payment=scene.payment).exists()


def test_waive_by_merchant_on_reviewer_refund_refunds_now():
    """When the merchant waives its appeal the reviewer's refund becomes final and the money moves once."""
    scene = case_in_state("accepted")
    services.case_appeal_waive(case=scene.case, actor=scene.merchant, now=scene.later())
    case = scene.refresh()
    assert (case.status, case.outcome) == (CaseStatus.FINAL, CaseOutcome.REFUNDED)
    refund = Refund.objects.get(case=case)
    assert (refund.amount_cents, refund.initiated_by_kind, refund.initiated_by) == (5000, "reviewer", scene.reviewer)
    assert scene.payment.refunded_cents == 5000


@pytest.mark.parametrize(
    ("status", "who"),
    [("denied", "merchant"), ("denied", "other_merchant"), ("accepted", "customer"), ("accepted", "other_merchant")],
)
def test_waive_by_the_party_that_may_not_appeal_is_refused(status, who):
    """Only the party that may appeal can waive the appeal."""
    scene = case_in_state(status)
    assert_refused(
        lambda: services.case_appeal_waive(case=scene.case, actor=getattr(scene, who), now=scene.later()),
        NotAllowedError,
    )
    assert_unchanged(scene, status)


@pytest.mark.parametrize("status", ["open", "escalated", "appealed", "final"])
def test_waive_outside_accepted_or_denied_is_refused(status):
    """There is nothing to waive before a decision or after an appeal."""
    scene = case_in_state(status)
    assert_refused(
        lambda: services.case_appeal_waive(case=scene.case, actor=scene.customer, now=scene.later()),
        InvalidTransitionError,
    )
    assert_unchanged(scene, status)


# --- appeal_by passes (system) -----------------------------------------------------------------


def test_finalize_expired_before_appeal_by_changes_nothing():
    """Until appeal_by passes, a decision can still be appealed and stays as it is."""
    scene = case_in_state("accepted")
    assert services.case_finalize_expired(case=scene.case, now=scene.case.appeal_by) is False
    assert_unchanged(scene, CaseStatus.ACCEPTED)
    assert scene.payment.refunded_cents == 0


def test_finalize_expired_after_appeal_by_on_accepted_refunds_once():
    """When the merchant lets appeal_by pass, the reviewer's refund is final and the money moves once."""
    scene = case_in_state("accepted")
    at = scene.case.appeal_by + timedelta(seconds=1)
    assert services.case_finalize_expired(case=scene.case, now=at) is True
    assert services.case_finalize_expired(case=scene.case, now=at + timedelta(hours=1)) is False
    case = scene.refresh()
    assert (case.status, case.outcome, case.closed_at) == (CaseStatus.FINAL, CaseOutcome.REFUNDED, at)
    assert Refund.objects.filter(payment=scene.payment).count() == 1
    assert scene.payment.refunded_cents == 5000
    assert state_changes(case)[-1] == ("accepted", "final", "finalized")


def test_finalize_expired_after_appeal_by_on_denied_closes_as_denied():
    """When the customer lets appeal_by pass, the denial is final and nothing is refunded."""
    scene = case_in_state("denied")
    assert services.case_finalize_expired(case=scene.case, now=scene.case.appeal_by + timedelta(seconds=1)) is True
    case = scene.refresh()
    assert (case.status, case.outcome) == (CaseStatus.FINAL, CaseOutcome.DENIED)
    assert not Refund.objects.filter(payment=scene.payment).exists()


@pytest.mark.parametrize("status", ["open", "info_requested", "escalated", "appealed", "final"])
def test_finalize_expired_outside_accepted_or_denied_changes_nothing(status):
    """Only a decision waiting out its appeal window becomes final by the clock."""
    scene = case_in_state(status)
    assert services.case_finalize_expired(case=scene.case, now=scene.later(days=60)) is False
    assert scene.refresh().status == status


# --- final decision on an appeal -------------------------------------------------------------


@pytest.mark.parametrize("appellant", ["customer", "merchant"])
def test_decide_appeal_refund_is_final_and_refunds_once(appellant):
    """The reviewer's decision on an appeal is final; a refund moves the money now."""
    scene = case_in_state("appealed", via=appellant)
    services.case_decide_appeal(case=scene.case, actor=scene.reviewer, decision="refund", note="x", now=scene.later())
    case = scene.refresh()
    assert (case.status, case.outcome) == (CaseStatus.FINAL, CaseOutcome.REFUNDED)
    assert Refund.objects.get(case=case).amount_cents == 5000
    assert scene.payment.refunded_cents == 5000
    assert not BalanceCredit.objects.filter(case=case).exists()


def test_decide_appeal_credit_creates_balance_credit_and_no_refund():
    """A credit on appeal is a BalanceCredit row; the merchant pays nothing."""
    scene = case_in_state("appealed")
    services.case_decide_appeal(case=scene.case, actor=scene.reviewer, decision="credit", note="x", now=scene.later())
    case = scene.refresh()
    assert (case.status, case.outcome) == (CaseStatus.FINAL, CaseOutcome.CREDITED)
    assert BalanceCredit.objects.get(case=case).amount_cents == 5000
    assert not Refund.objects.filter(payment=scene.payment).exists()
    assert scene.payment.refunded_cents == 0


def test_decide_appeal_merchant_wins_closes_as_denied_without_money():
    """When the merchant wins the appeal the case is final and denied; nothing moves."""
    scene = case_in_state("appealed", via="merchant")
    services.case_decide_appeal(
        case=scene.case, actor=scene.reviewer, decision="merchant_wins", note="x", now=scene.later()
    )
    case = scene.refresh()
    assert (case.status, case.outcome) == (CaseStatus.FINAL, CaseOutcome.DENIED)
    assert not Refund.objects.filter(payment=scene.payment).exists()
    assert not BalanceCredit.objects.filter(case=case).exists()


@pytest.mark.parametrize("who", ["customer", "merchant", "other_merchant"])
def test_decide_appeal_by_non_reviewer_is_refused(who):
    """Only platform reviewers decide appeals."""
    scene = case_in_state("appealed")
    assert_refused(
        lambda: services.case_decide_appeal(
            case=scene.case, actor=getattr(scene, who), decision="refund", note="x", now=scene.later()
        ),
        NotAllowedError,
        "Only a platform reviewer can decide an appeal.",
    )
    assert_unchanged(scene, CaseStatus.APPEALED)


@pytest.mark.parametrize("status", ["open", "escalated", "accepted", "denied", "final"])
def test_decide_appeal_outside_appealed_is_refused(status):
    """case_decide_appeal is for appealed cases only."""
    scene = case_in_state(status)
    assert_refused(
        lambda: services.case_decide_appeal(
            case=scene.case, actor=scene.reviewer, decision="refund", note="x", now=scene.later()
        ),
        InvalidTransitionError,
        "so you can no longer decide it as an appeal",
    )
    assert_unchanged(scene, status)


# --- final is final ------------------------------------------------------------------------------


@pytest.mark.parametrize("via", ["accepted", "withdrawn", "credited", "denied"])
def test_final_case_refuses_every_party_action(via):
    """A closed case is never reopened: every action by every party is refused and nothing moves."""
    scene = case_in_state("final", via=via)
    at = scene.later(hours=1)
    c, m, r = scene.customer, scene.merchant, scene.reviewer
    attempts = [
        lambda: services.case_request_info(case=scene.case, actor=m, message="?", now=at),
        lambda: services.case_reply(case=scene.case, actor=c, message="!", now=at),
        lambda: services.case_accept(case=scene.case, actor=m, now=at),
        lambda: services.case_deny(
            case=scene.case, actor=m, now=at, reason="delivered_as_described", message="It was delivered."
        ),
        lambda: services.case_withdraw(case=scene.case, actor=c, now=at),
        lambda: services.case_message_post(case=scene.case, actor=c, body="hi", now=at),
        lambda: services.case_appeal(case=scene.case, actor=c, statement="x", now=at),
        lambda: services.case_appeal(case=scene.case, actor=m, statement="x", now=at),
        lambda: services.case_appeal_waive(case=scene.case, actor=c, now=at),
        lambda: services.case_decide(case=scene.case, actor=r, decision="refund", note="x", now=at),
        lambda: services.case_decide_appeal(case=scene.case, actor=r, decision="refund", note="x", now=at),
    ]
    before = (scene.case.outcome, len(state_changes(scene.case)), scene.payment.refunded_cents)
    for attempt in attempts:
        assert_refused(attempt, InvalidTransitionError)
    for sweep in (services.case_escalate_overdue, services.case_deny_unanswered, services.case_finalize_expired):
        assert sweep(case=scene.case, now=scene.later(days=60)) is False
    case = scene.refresh()
    assert case.status == CaseStatus.FINAL
    assert (case.outcome, len(state_changes(case)), scene.payment.refunded_cents) == before
