"""Partial refund offers: who hears about an offer and its answer, and what they read."""

from datetime import timedelta

import pytest

from cases import services
from notifications.models import NotificationKind
from payments.models import Membership
from tests.factories import CompanyFactory, PaymentFactory, UserFactory, merchant_of

from .conftest import START, prefer, text_of

pytestmark = pytest.mark.django_db

SITE = "http://127.0.0.1:8000"


def _open_case(*, amount_cents: int = 5900):
    company = CompanyFactory(name="Acme Courses")
    owner = merchant_of(company)
    support = merchant_of(company, role=Membership.Role.SUPPORT)
    customer = UserFactory()
    payment = PaymentFactory(company=company, customer=customer, amount_cents=amount_cents, currency="USD")
    case = services.case_open(customer=customer, payment=payment, reason="not_received", description="No", now=START)
    return case, owner, support, customer


def _only_email(outcome, user):
    [message] = outcome.emails_to(user)
    return message


def test_offer_notifies_only_the_customer_with_the_amount_the_message_and_the_deadline(act):
    """The customer reads who offers how much (never raw cents), the merchant's words, what to do and
    by when; the merchant's team is not told about their own offer."""
    case, owner, support, customer = _open_case()
    prefer(customer, time_zone="Europe/Berlin")
    at = START + timedelta(hours=1)

    outcome = act(
        lambda: services.case_offer(
            case=case, actor=owner, amount_cents=2500, message="Would half the price settle it?", now=at
        )
    )

    assert outcome.recipients == {customer.pk}
    [notification] = outcome.notifications
    assert notification.kind == NotificationKind.OFFER_MADE
    assert notification.deadline == at + timedelta(days=7)
    email = _only_email(outcome, customer)
    assert "Acme Courses offers you a $25.00 refund" in email.subject
    text = text_of(email)
    assert "Acme Courses offers you a $25.00 refund. They wrote: “Would half the price settle it?”" in text
    assert "accept the offer" in text and "decline it with a message" in text
    assert "Deadline: Monday 9 March 2026, 11:00 CET (Europe/Berlin)" in text
    assert f"{SITE}/cases/{case.pk}/" in text
    assert "2500" not in text


def test_offer_accepted_notifies_every_merchant_member_of_the_amount_refunded(act):
    """Accepting tells each member of the company, in words, how much goes back and that it is closed."""
    case, owner, support, customer = _open_case()
    services.case_offer(case=case, actor=owner, amount_cents=2500, message="Half?", now=START + timedelta(hours=1))

    outcome = act(lambda: services.case_offer_accept(case=case, actor=customer, now=START + timedelta(hours=2)))

    assert outcome.recipients == {owner.pk, support.pk}
    assert {n.kind for n in outcome.notifications} == {NotificationKind.OFFER_ACCEPTED}
    email = _only_email(outcome, support)
    assert "the customer accepted your offer" in email.subject
    text = text_of(email)
    assert "The customer accepted your $25.00 refund offer: it is refunded to them now." in text
    assert "Deadline:" not in text
    assert f"{SITE}/merchant/{case.company_id}/cases/{case.pk}/" in text


def test_offer_declined_notifies_the_merchant_with_the_customers_words_and_a_fresh_deadline(act):
    """Declining reaches the merchant's members with the customer's message quoted and 7 fresh days;
    the first decline still mentions another offer, the last one does not."""
    case, owner, support, customer = _open_case()
    services.case_offer(case=case, actor=owner, amount_cents=2500, message="Half?", now=START + timedelta(hours=1))
    at = START + timedelta(hours=2)

    outcome = act(
        lambda: services.case_offer_decline(case=case, actor=customer, message="I want all of it back.", now=at)
    )

    assert outcome.recipients == {owner.pk, support.pk}
    [to_owner] = outcome.to(owner)
    assert to_owner.kind == NotificationKind.OFFER_DECLINED
    assert to_owner.deadline == at + timedelta(days=7)
    text = text_of(_only_email(outcome, owner))
    assert "The customer declined your $25.00 refund offer. They wrote: “I want all of it back.”" in text
    assert "or make another offer before the deadline" in text

    services.case_offer(case=case, actor=owner, amount_cents=4000, message="More?", now=START + timedelta(hours=3))
    last = act(
        lambda: services.case_offer_decline(case=case, actor=customer, message="No.", now=at + timedelta(hours=2))
    )
    last_text = text_of(_only_email(last, owner))
    assert "declined your $40.00 refund offer" in last_text
    assert "another offer" not in last_text
