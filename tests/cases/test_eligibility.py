"""Opening a case checks every eligibility rule of DOMAIN.md and says why not, in words."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services
from cases.models import Case, CaseEvent, CaseStatus
from payments.services import refund_request
from resolution_center.exceptions import NotEligibleError
from tests.factories import PaymentFactory, UserFactory

pytestmark = pytest.mark.django_db


def open_case(payment, customer, now=None):
    return services.case_open(
        customer=customer, payment=payment, reason="not_as_described", description="Broken", now=now
    )


def assert_not_eligible(payment, customer, message, now=None):
    """Both the refusal shown before the form and the service's refusal say ``message``; nothing is saved."""
    assert services.case_open_refusal(payment=payment, customer=customer, now=now) == message
    cases_before = Case.objects.count()
    with pytest.raises(NotEligibleError) as caught:
        open_case(payment, customer, now=now)
    assert caught.value.message == message
    assert Case.objects.count() == cases_before


def test_open_recent_card_payment_is_eligible(payment, customer):
    """A customer's own recent fiat payment with nothing refunded may have a case."""
    assert services.case_open_refusal(payment=payment, customer=customer) is None
    assert open_case(payment, customer).status == CaseStatus.OPEN


def test_open_crypto_payment_is_refused_as_irreversible(company, customer):
    """Crypto (Coinbase Commerce) payments cannot be refunded, so no case can be opened."""
    payment = PaymentFactory(company=company, customer=customer, method="crypto")
    assert_not_eligible(
        payment,
        customer,
        "Crypto payments (Coinbase Commerce) are irreversible and cannot be refunded, so no case can be opened.",
    )


def test_open_payment_paid_121_days_ago_is_refused_with_the_date(company, customer):
    """Cases may be opened up to 120 days after the payment; at 121 days the customer is told the paid date."""
    now = timezone.now()
    payment = PaymentFactory(company=company, customer=customer, paid_at=now - timedelta(days=121))
    assert_not_eligible(
        payment,
        customer,
        # The day without a leading zero, as every date in the product reads ("1 Aug 2026").
        f"Cases can only be opened within 120 days of a payment; this one was paid on "
        f"{payment.paid_at.day} {payment.paid_at:%b %Y}.",
        now=now,
    )


def test_open_payment_paid_exactly_120_days_ago_is_allowed(company, customer):
    """The 120th day itself is still within the window."""
    now = timezone.now()
    payment = PaymentFactory(company=company, customer=customer, paid_at=now - timedelta(days=120))
    assert services.case_open_refusal(payment=payment, customer=customer, now=now) is None
    assert open_case(payment, customer, now=now).status == CaseStatus.OPEN


def test_open_fully_refunded_payment_is_refused(payment, customer, merchant):
    """A payment refunded in full has nothing left to dispute."""
    refund_request(
        payment=payment,
        amount_cents=payment.amount_cents,
        currency="USD",
        idempotency_key="manual-full",
        initiated_by_kind="merchant",
        initiated_by=merchant,
    )
    assert_not_eligible(payment, customer, "This payment has already been refunded in full.")


def test_open_partly_refunded_payment_is_allowed(payment, customer, merchant):
    """A partial refund leaves money to dispute: the case may be opened."""
    refund_request(
        payment=payment,
        amount_cents=1000,
        currency="USD",
        idempotency_key="manual-part",
        initiated_by_kind="merchant",
        initiated_by=merchant,
    )
    assert open_case(payment, customer).status == CaseStatus.OPEN


def test_open_second_case_on_same_payment_is_refused(payment, customer):
    """A payment has at most one case, ever."""
    open_case(payment, customer)
    assert_not_eligible(
        payment, customer, "A case has already been opened for this payment; a payment can only ever have one case."
    )
    assert Case.objects.filter(payment=payment).count() == 1


def test_open_after_withdrawn_case_is_refused_never_reopened(payment, customer):
    """A closed case is never reopened, and a new one cannot replace it."""
    case = open_case(payment, customer)
    services.case_withdraw(case=case, actor=customer)
    assert_not_eligible(
        payment, customer, "A case has already been opened for this payment; a payment can only ever have one case."
    )


def test_open_someone_elses_payment_is_refused(payment):
    """A customer cannot open a case on another customer's payment."""
    assert_not_eligible(payment, UserFactory(), "This payment is not yours, so you cannot open a case for it.")


def test_open_someone_elses_ineligible_payment_reveals_nothing_about_it(company, customer):
    """For another customer's payment the refusal says only that it is not theirs (not that it is crypto)."""
    payment = PaymentFactory(company=company, customer=customer, method="crypto")
    assert_not_eligible(payment, UserFactory(), "This payment is not yours, so you cannot open a case for it.")


def test_open_by_the_merchant_on_a_customers_payment_is_refused(payment, merchant):
    """Merchants answer cases; they cannot open one on their customer's payment."""
    assert_not_eligible(payment, merchant, "This payment is not yours, so you cannot open a case for it.")


def test_open_unknown_payment_id_is_refused_like_someone_elses(customer):
    """A made-up payment id gets the same answer as another person's payment (no probing)."""
    with pytest.raises(NotEligibleError) as caught:
        services.case_open(customer=customer, payment=987654, reason="not_received", description="x")
    assert caught.value.message == "This payment is not yours, so you cannot open a case for it."


def test_open_refused_leaves_no_timeline_rows(company, customer):
    """A refusal writes nothing at all."""
    payment = PaymentFactory(company=company, customer=customer, method="crypto")
    with pytest.raises(NotEligibleError):
        open_case(payment, customer)
    assert not CaseEvent.objects.exists()
