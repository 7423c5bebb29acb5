"""One test per notification event in DOMAIN.md: who receives it, and what it says.

Every email names the case, says what happened and what to do next, gives the absolute deadline in
the recipient's own time zone, and links to the recipient's own page of the case.
"""

from datetime import timedelta

import pytest

from cases import services, sweeps
from cases.models import CaseStatus, Visibility
from notifications.models import EmailStatus, NotificationKind
from payments.models import Membership
from tests.factories import (
    CompanyFactory,
    MembershipFactory,
    PaymentFactory,
    UserFactory,
    case_in_state,
    merchant_of,
)

from .conftest import START, html_of, prefer, text_of

pytestmark = pytest.mark.django_db

SITE = "http://127.0.0.1:8000"


def customer_link(case) -> str:
    return f"{SITE}/cases/{case.pk}/"


def merchant_link(case) -> str:
    return f"{SITE}/merchant/{case.company_id}/cases/{case.pk}/"


def only_email(outcome, user):
    [message] = outcome.emails_to(user)
    return message


# --- a case is opened ------------------------------------------------------------------------------


def test_case_opened_notifies_customer_and_every_merchant_member_emailing_those_who_want_it(act, clock):
    """Opening a case tells the customer it was sent and every company member that they must answer;
    a member with emails off gets the in-app entry only. Deadlines are in each one's time zone."""
    company = CompanyFactory(name="Acme Courses")
    owner = merchant_of(company)
    support = merchant_of(company, role=Membership.Role.SUPPORT)
    prefer(support, emails=False)
    prefer(owner, time_zone="America/New_York")
    customer = UserFactory()
    prefer(customer, time_zone="Europe/Berlin")
    payment = PaymentFactory(company=company, customer=customer)

    outcome = act(
        lambda: services.case_open(
            customer=customer, payment=payment, reason="not_received", description="Never came", now=START
        )
    )

    case = payment.case
    assert outcome.recipients == {customer.pk, owner.pk, support.pk}
    assert {n.kind for n in outcome.notifications} == {NotificationKind.OPENED}
    assert [n.email_status for n in outcome.to(support)] == [EmailStatus.SKIPPED]
    assert outcome.emails_to(support) == []
    to_customer = text_of(only_email(outcome, customer))
    assert f"Case #{case.pk}" in to_customer
    assert "Acme Courses has until the deadline to accept, deny or ask you for more information" in to_customer
    assert "Deadline: Monday 9 March 2026, 10:00 CET (Europe/Berlin)" in to_customer
    assert customer_link(case) in to_customer
    to_owner = only_email(outcome, owner)
    assert "a customer opened a case" in to_owner.subject
    assert "Accept, deny or request more information before the deadline" in text_of(to_owner)
    assert "Deadline: Monday 9 March 2026, 05:00 EDT (America/New_York)" in text_of(to_owner)
    assert merchant_link(case) in text_of(to_owner)
    assert merchant_link(case) in html_of(to_owner)
    assert "05:00 EDT" in html_of(to_owner)


def test_case_opened_with_automatic_refund_tells_both_it_was_refunded_and_asks_nobody_to_answer(act, clock):
    """A financing purchase is refunded at once: the customer and the merchant each hear "refunded
    automatically", and the merchant gets no "please answer" notice."""
    company = CompanyFactory()
    owner = merchant_of(company)
    customer = UserFactory()
    payment = PaymentFactory(company=company, customer=customer, method="klarna")

    outcome = act(
        lambda: services.case_open(
            customer=customer, payment=payment, reason="forgot_to_cancel", description="Cancel", now=START
        )
    )

    assert {(n.recipient_id, n.kind) for n in outcome.notifications} == {
        (customer.pk, NotificationKind.AUTO_REFUNDED),
        (owner.pk, NotificationKind.AUTO_REFUNDED),
    }
    to_customer = text_of(only_email(outcome, customer))
    assert "was refunded automatically" in to_customer
    assert "Klarna" in to_customer
    assert "Deadline:" not in to_customer
    assert "a case was refunded automatically" in only_email(outcome, owner).subject


# --- the merchant answers --------------------------------------------------------------------------


def test_info_request_notifies_only_the_customer_with_the_question_and_reply_by(act):
    """The merchant's question reaches the customer, quoted, with the 7-day reply deadline."""
    scene = case_in_state("open", now=START)
    at = scene.later(hours=1)

    outcome = act(
        lambda: services.case_request_info(case=scene.case, actor=scene.merchant, message="Which address?", now=at)
    )

    assert outcome.recipients == {scene.customer.pk}
    [notification] = outcome.notifications
    assert notification.kind == NotificationKind.INFO_REQUESTED
    assert notification.deadline == at + timedelta(days=7)
    text = text_of(only_email(outcome, scene.customer))
    assert "“Which address?”" in text
    assert "Reply in the case" in text
    assert "Deadline: Monday 9 March 2026, 10:00 UTC" in text


def test_customer_reply_notifies_the_merchant_with_a_new_respond_by(act):
    """The customer's reply reaches the merchant's members, with their fresh 7 days to answer."""
    scene = case_in_state("info_requested", now=START)
    at = scene.later(hours=3)

    outcome = act(lambda: services.case_reply(case=scene.case, actor=scene.customer, message="Main St 1", now=at))

    assert outcome.recipients == {scene.merchant.pk}
    message = only_email(outcome, scene.merchant)
    assert "the customer replied" in message.subject
    assert f"Deadline: {(at + timedelta(days=7)):%A} 9 March 2026, 13:00 UTC" in text_of(message)
    assert merchant_link(scene.case) in text_of(message)


def test_merchant_accept_notifies_the_customer_of_the_refund_without_deadline(act):
    """Accepting refunds the customer: they are told so, and that nothing more is needed."""
    scene = case_in_state("open", now=START)

    outcome = act(lambda: services.case_accept(case=scene.case, actor=scene.merchant, now=scene.later(hours=1)))

    assert outcome.recipients == {scene.customer.pk}
    text = text_of(only_email(outcome, scene.customer))
    assert "accepted your request and refunded the payment" in text
    assert "Deadline:" not in text


def test_merchant_refund_in_full_of_an_escalated_case_tells_only_the_customer_the_amount(act):
    """Refunding in full while reviewers hold the case: the customer hears which company refunded
    them, how much and where it goes, with the merchant's note and no deadline; the merchant's team
    and the reviewers are not notified."""
    scene = case_in_state("escalated", now=START)
    company = scene.case.company
    MembershipFactory(company=company, role=Membership.Role.SUPPORT)

    outcome = act(
        lambda: services.case_refund_in_full(
            case=scene.case, actor=scene.merchant, note="Sorry for the trouble.", now=scene.later(hours=1)
        )
    )

    assert outcome.recipients == {scene.customer.pk}
    assert {n.kind for n in outcome.notifications} == {NotificationKind.REFUNDED_IN_FULL}
    message = only_email(outcome, scene.customer)
    assert message.subject.startswith(f"Case #{scene.case.pk}")
    assert "you are refunded in full" in message.subject
    text = text_of(message)
    assert f"{company.name} refunded you in full: $50.00 to your original payment method." in text
    assert "“Sorry for the trouble.”" in text
    assert "Nothing more to do" in text
    assert "Deadline:" not in text
    assert customer_link(scene.case) in text


def test_merchant_deny_notifies_the_customer_with_the_appeal_deadline(act):
    """A denial reaches the customer with the merchant's reason (in the subject too), where to read
    their message, and the 7 days to appeal."""
    scene = case_in_state("open", now=START)
    at = scene.later(hours=1)

    outcome = act(
        lambda: services.case_deny(
            case=scene.case, actor=scene.merchant, reason="delivered_as_described", message="It arrived.", now=at
        )
    )

    assert outcome.recipients == {scene.customer.pk}
    text = text_of(only_email(outcome, scene.customer))
    assert "denied your request. Their reason: Delivered as described." in text
    assert "Their message, and any files they sent, are at the top of your case page." in text
    assert only_email(outcome, scene.customer).subject.endswith(
        "your refund request was denied (delivered as described)"
    )
    assert "appeal once to the platform before the deadline" in text
    assert "Deadline: Monday 9 March 2026, 10:00 UTC" in text


@pytest.mark.parametrize(
    ("via", "says"),
    [
        ("reviewer", "A reviewer decided in the merchant's favour."),
        ("silence", "You did not reply to the merchant's question in time"),
    ],
)
def test_denial_without_merchant_reason_says_who_decided(via, says):
    """A denial by a reviewer ("merchant wins") or by the customer's silence carries no reason: the
    case's denial_reason stays blank and the customer's notice says who decided instead."""
    from notifications.models import Notification

    scene = case_in_state("denied", via=via, now=START)

    assert scene.case.denial_reason == ""
    notice = Notification.objects.filter(recipient=scene.customer, case=scene.case).order_by("-id").first()
    assert says in notice.what_happened
    assert "Their reason" not in notice.what_happened


def test_customer_withdrawal_notifies_the_merchant(act):
    """Withdrawing closes the case; the merchant hears that nothing is left to do."""
    scene = case_in_state("open", now=START)

    outcome = act(lambda: services.case_withdraw(case=scene.case, actor=scene.customer, now=scene.later(hours=1)))

    assert outcome.recipients == {scene.merchant.pk}
    assert "the customer withdrew the case" in only_email(outcome, scene.merchant).subject


# --- the clocks ------------------------------------------------------------------------------------


def test_escalation_notifies_customer_and_merchant_but_not_reviewers(act):
    """When the merchant's 7 days pass both parties hear the platform decides now; reviewers work
    from their queue and get no email."""
    scene = case_in_state("open", now=START)
    at = scene.case.respond_by + timedelta(minutes=1)

    outcome = act(lambda: sweeps.deadlines_sweep(now=at))

    assert outcome.recipients == {scene.customer.pk, scene.merchant.pk}
    assert scene.reviewer.pk not in outcome.recipients
    assert "did not answer in time" in text_of(only_email(outcome, scene.customer))
    assert "You did not answer in time" in text_of(only_email(outcome, scene.merchant))


def test_reply_deadline_passing_notifies_both_and_gives_the_customer_an_appeal_deadline(act):
    """No reply in 7 days: the customer learns the case closed for the merchant and may appeal;
    the merchant learns it was decided in their favour."""
    scene = case_in_state("info_requested", now=START)
    at = scene.case.reply_by + timedelta(minutes=1)

    outcome = act(lambda: sweeps.deadlines_sweep(now=at))

    assert outcome.recipients == {scene.customer.pk, scene.merchant.pk}
    assert {n.kind for n in outcome.notifications} == {NotificationKind.REPLY_EXPIRED}
    to_customer = text_of(only_email(outcome, scene.customer))
    assert "You did not reply" in to_customer
    assert f"Deadline: {(at + timedelta(days=7)):%A %-d %B %Y, %H:%M} UTC" in to_customer
    assert "decided in your favour" in text_of(only_email(outcome, scene.merchant))


def test_appeal_window_passing_notifies_both_that_the_refund_is_final(act):
    """A reviewer's refund nobody appealed becomes final: both sides hear the customer is refunded."""
    scene = case_in_state("accepted", now=START)

    outcome = act(lambda: sweeps.deadlines_sweep(now=scene.case.appeal_by + timedelta(minutes=1)))

    assert outcome.recipients == {scene.customer.pk, scene.merchant.pk}
    assert "the decision is final: you are refunded" in text_of(only_email(outcome, scene.customer))
    assert "the customer is refunded" in text_of(only_email(outcome, scene.merchant))


@pytest.mark.parametrize(
    ("status", "party", "says"),
    [
        ("open", "merchant", "less than 24 hours left to answer"),
        ("info_requested", "customer", "less than 24 hours left to reply"),
        ("accepted", "merchant", "less than 24 hours left to appeal"),
        ("denied", "customer", "less than 24 hours left to appeal"),
    ],
)
def test_reminder_24_hours_before_a_deadline_notifies_only_the_party_who_must_act(act, status, party, says):
    """The party racing the clock hears, once, that less than a day is left, with the deadline."""
    scene = case_in_state(status, now=START)
    deadline = scene.case.next_deadline_at

    outcome = act(lambda: sweeps.deadlines_sweep(now=deadline - timedelta(hours=23)))

    who = getattr(scene, party)
    assert outcome.recipients == {who.pk}
    message = only_email(outcome, who)
    assert says in message.subject
    assert f"Deadline: {deadline:%A %-d %B %Y, %H:%M} UTC" in text_of(message)


# --- reviewers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "to_customer", "to_merchant", "deadline"),
    [
        ("refund", "decided you should be refunded", "You may appeal once before the deadline", True),
        ("merchant_wins", "decided in the merchant's favour", "decided in your favour", True),
        ("credit", "credited to your platform balance", "you pay nothing", False),
    ],
)
def test_reviewer_decision_notifies_both_parties(act, decision, to_customer, to_merchant, deadline):
    """A reviewer's decision on an escalated case reaches both sides, each told what it means for them."""
    scene = case_in_state("escalated", now=START)

    outcome = act(
        lambda: services.case_decide(
            case=scene.case, actor=scene.reviewer, decision=decision, note="Looked at it.", now=scene.later(hours=1)
        )
    )

    assert outcome.recipients == {scene.customer.pk, scene.merchant.pk}
    customer_text = text_of(only_email(outcome, scene.customer))
    merchant_text = text_of(only_email(outcome, scene.merchant))
    assert to_customer in customer_text
    assert to_merchant in merchant_text
    assert "“Looked at it.”" in customer_text
    assert ("Deadline:" in customer_text) is deadline


def test_appeal_decision_notifies_both_that_it_is_final(act):
    """The reviewer's decision on an appeal is final, and both sides are told so."""
    scene = case_in_state("appealed", now=START)

    outcome = act(
        lambda: services.case_decide_appeal(
            case=scene.case, actor=scene.reviewer, decision="refund", note="On second look.", now=scene.later(hours=1)
        )
    )

    assert outcome.recipients == {scene.customer.pk, scene.merchant.pk}
    assert "This decision is final" in text_of(only_email(outcome, scene.customer))
    assert "the appeal was decided" in only_email(outcome, scene.merchant).subject


@pytest.mark.parametrize(
    ("via", "appellant", "other"), [("customer", "customer", "merchant"), ("merchant", "merchant", "customer")]
)
def test_appeal_notifies_only_the_other_party(act, via, appellant, other):
    """An appeal is news to the other side; the appellant is not notified of their own act."""
    status = "denied" if via == "customer" else "accepted"
    scene = case_in_state(status, now=START)

    outcome = act(
        lambda: services.case_appeal(
            case=scene.case, actor=getattr(scene, appellant), statement="Please look again.", now=scene.later(hours=1)
        )
    )

    assert outcome.recipients == {getattr(scene, other).pk}
    assert "appealed the decision" in text_of(only_email(outcome, getattr(scene, other)))


def test_appeal_waived_notifies_the_other_party_that_the_decision_is_final(act):
    """The customer accepting a denial at once tells the merchant the case is closed."""
    scene = case_in_state("denied", now=START)

    outcome = act(lambda: services.case_appeal_waive(case=scene.case, actor=scene.customer, now=scene.later(hours=1)))

    assert outcome.recipients == {scene.merchant.pk}
    assert "accepted the decision without appealing" in text_of(only_email(outcome, scene.merchant))


def test_reviewer_message_to_one_party_notifies_only_that_party(act):
    """A reviewer's question to the customer reaches the customer and not the merchant."""
    scene = case_in_state("escalated", now=START)

    outcome = act(
        lambda: services.case_reviewer_info_request(
            case=scene.case, actor=scene.reviewer, party="customer", message="Photo please.", now=scene.later(hours=1)
        )
    )

    assert outcome.recipients == {scene.customer.pk}
    assert "“Photo please.”" in text_of(only_email(outcome, scene.customer))


def test_message_between_the_parties_notifies_the_other_side_in_the_app_and_emails_later(act):
    """A message tells the other side at once in the app; its email waits for the hourly digest
    (tests/notifications/test_messages.py)."""
    scene = case_in_state("open", now=START)

    outcome = act(
        lambda: services.case_message_post(
            case=scene.case, actor=scene.customer, body="Any news?", now=scene.later(hours=1)
        )
    )

    assert outcome.recipients == {scene.merchant.pk}
    assert outcome.emails == []


def test_customer_who_is_also_a_member_of_the_company_hears_once_as_the_customer(act):
    """Someone who bought from their own company gets one notice per event, with the customer link."""
    company = CompanyFactory()
    customer = merchant_of(company)
    payment = PaymentFactory(company=company, customer=customer)

    outcome = act(
        lambda: services.case_open(
            customer=customer, payment=payment, reason="not_received", description="x", now=START
        )
    )

    [notification] = outcome.to(customer)
    assert notification.party == "customer"
    assert customer_link(payment.case) in text_of(only_email(outcome, customer))


def test_reminder_timeline_row_is_visible_only_to_the_party_reminded(act):
    """The reminder's timeline row is shown to the side that must act, not to the other side."""
    scene = case_in_state("open", now=START)

    act(lambda: sweeps.deadlines_sweep(now=scene.case.respond_by - timedelta(hours=1)))

    reminder = scene.case.events.get(action="reminder")
    assert reminder.visibility == Visibility.MERCHANT
    assert reminder.from_state == reminder.to_state == CaseStatus.OPEN
