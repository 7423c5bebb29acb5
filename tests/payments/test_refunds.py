"""Money leaves through refund_issue only: exactly once per idempotency key, never past the amount,
and a refusal (by us or by the processor) leaves nothing behind."""

import pytest

from payments.gateways import RefundGateway, RefundResult
from payments.models import BalanceCredit, Company, Payment, Refund
from payments.services import balance_credit_grant, company_auto_refund_update, refund_issue
from resolution_center.exceptions import ApplicationError
from tests.factories import CompanyFactory, PaymentFactory, UserFactory, merchant_of

pytestmark = pytest.mark.django_db


class RefusingGateway(RefundGateway):
    """A processor that declines every refund."""

    def refund(self, *, payment, amount_cents, currency, idempotency_key):
        return RefundResult(succeeded=False, processor_reference="", failure_message="the card account is closed.")


def refund(payment, amount_cents, key="key-1", currency="USD", **extra):
    return refund_issue(
        payment=payment,
        amount_cents=amount_cents,
        currency=currency,
        idempotency_key=key,
        initiated_by_kind="merchant",
        **extra,
    )


def money_rows(payment):
    payment.refresh_from_db()
    return payment.refunded_cents, list(Refund.objects.order_by("pk").values_list("pk", "amount_cents", "status"))


def test_refund_issue_full_amount_succeeds_through_the_gateway(payment):
    """A refund is recorded as succeeded with the processor's reference and counts against the payment."""
    made = refund(payment, 5000)
    payment.refresh_from_db()
    assert (made.status, made.amount_cents, made.currency) == ("succeeded", 5000, "USD")
    assert made.processor_reference.startswith("db_")
    assert payment.refunded_cents == 5000
    assert payment.is_fully_refunded


def test_refund_issue_partial_refunds_add_up_to_the_amount_then_stop(payment):
    """Partial refunds may add up to the amount, never beyond it; the refusal says what is left."""
    refund(payment, 2000, key="a")
    refund(payment, 3000, key="b")
    before = money_rows(payment)
    with pytest.raises(ApplicationError) as caught:
        refund(payment, 1, key="c")
    assert caught.value.message == "Only 0 of 5000 (minor units) is left to refund on this payment."
    assert money_rows(payment) == before


def test_refund_issue_more_than_left_is_refused_and_saves_nothing(payment):
    """Asking for more than is left refuses the whole refund."""
    refund(payment, 4000, key="a")
    before = money_rows(payment)
    with pytest.raises(ApplicationError, match="Only 1000 of 5000"):
        refund(payment, 1001, key="b")
    assert money_rows(payment) == before


def test_refund_issue_retry_with_same_key_returns_first_refund_and_moves_money_once(payment):
    """A retried call (same idempotency key) returns the refund already made; the money moves once."""
    first = refund(payment, 2000, key="retry")
    again = refund(payment, 2000, key="retry")
    payment.refresh_from_db()
    assert again.pk == first.pk
    assert payment.refunded_cents == 2000
    assert Refund.objects.count() == 1


def test_refund_issue_same_key_for_another_payment_is_refused(payment, company, customer):
    """An idempotency key names one refund: reusing it for another payment must not pass as a success
    while no money reached that payment's customer."""
    refund(payment, 2000, key="shared")
    other = PaymentFactory(company=company, customer=customer)
    with pytest.raises(ApplicationError) as caught:
        refund(other, 2000, key="shared")
    assert "already used" in caught.value.message
    other.refresh_from_db()
    assert other.refunded_cents == 0


def test_refund_issue_same_key_with_another_amount_is_refused(payment):
    """Reusing a key with a different amount is a caller's mistake, not a retry; it is refused."""
    refund(payment, 2000, key="shared")
    with pytest.raises(ApplicationError, match="already used"):
        refund(payment, 3000, key="shared")
    assert money_rows(payment)[0] == 2000


@pytest.mark.parametrize("amount", [0, -1, -5000, 10.5, "100", True, None])
def test_refund_issue_non_positive_or_non_integer_amount_is_refused(payment, amount):
    """Amounts are positive whole minor units; anything else is refused before money moves."""
    with pytest.raises(ApplicationError) as caught:
        refund(payment, amount)
    assert caught.value.message == "The amount must be a positive whole number of minor units (e.g. cents)."
    assert money_rows(payment) == (0, [])


def test_refund_issue_in_another_currency_is_refused(payment):
    """A USD payment is refunded in USD only; the message names both currencies."""
    with pytest.raises(ApplicationError) as caught:
        refund(payment, 1000, currency="EUR")
    assert caught.value.message == "The currency EUR does not match the payment's currency USD."
    assert money_rows(payment) == (0, [])


@pytest.mark.parametrize("currency", ["usd", "US", "", "DOLLARS", None])
def test_refund_issue_malformed_currency_is_refused(payment, currency):
    """The currency must be an ISO 4217 code."""
    with pytest.raises(ApplicationError, match="three-letter ISO 4217 code"):
        refund(payment, 1000, currency=currency)
    assert money_rows(payment) == (0, [])


def test_refund_issue_declined_by_processor_saves_nothing(payment, settings):
    """When the processor declines, the person sees its reason and no refund row or total is left behind."""
    settings.REFUND_GATEWAY = "tests.payments.test_refunds.RefusingGateway"
    with pytest.raises(ApplicationError) as caught:
        refund(payment, 1000)
    assert caught.value.message == "The refund was refused by the payment processor: the card account is closed."
    assert money_rows(payment) == (0, [])


def test_payment_refunded_total_cannot_exceed_amount_in_the_database(payment):
    """The database itself refuses a refunded total above the amount (last line of defence)."""
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(refunded_cents=5001)


def test_balance_credit_grant_once_per_key(customer):
    """A credit is granted once per idempotency key, whatever is retried."""
    first = balance_credit_grant(customer=customer, amount_cents=700, currency="EUR", idempotency_key="c-1")
    again = balance_credit_grant(customer=customer, amount_cents=700, currency="EUR", idempotency_key="c-1")
    assert again.pk == first.pk
    assert BalanceCredit.objects.count() == 1


def test_balance_credit_grant_same_key_for_another_customer_or_amount_is_refused(customer):
    """A key names one credit: reusing it for someone else or another sum must not report a credit
    that was never made."""
    balance_credit_grant(customer=customer, amount_cents=700, currency="EUR", idempotency_key="c-1")
    with pytest.raises(ApplicationError, match="already used"):
        balance_credit_grant(customer=UserFactory(), amount_cents=700, currency="EUR", idempotency_key="c-1")
    with pytest.raises(ApplicationError, match="already used"):
        balance_credit_grant(customer=customer, amount_cents=900, currency="EUR", idempotency_key="c-1")
    assert list(BalanceCredit.objects.values_list("customer", "amount_cents")) == [(customer.pk, 700)]


@pytest.mark.parametrize(("amount", "currency"), [(0, "USD"), (-10, "USD"), (100, "usd")])
def test_balance_credit_grant_bad_amount_or_currency_is_refused(customer, amount, currency):
    """A credit needs a positive amount and an ISO currency."""
    with pytest.raises(ApplicationError):
        balance_credit_grant(customer=customer, amount_cents=amount, currency=currency, idempotency_key="c-1")
    assert not BalanceCredit.objects.exists()


def test_company_auto_refund_update_by_owner_saves_settings():
    """An owner sets the thresholds and the message the customer sees."""
    company = CompanyFactory()
    owner = merchant_of(company, role="owner")
    company_auto_refund_update(
        company=company, actor=owner, card_below_cents=1500, paypal_below_cents=900, message="  Refunded!  "
    )
    company.refresh_from_db()
    assert (company.auto_refund_card_below_cents, company.auto_refund_paypal_below_cents) == (1500, 900)
    assert company.auto_refund_message == "Refunded!"


@pytest.mark.parametrize("role", ["support", None])
def test_company_auto_refund_update_by_support_or_stranger_is_refused(role):
    """Support staff and other companies' merchants cannot change when money leaves automatically."""
    company = CompanyFactory()
    actor = merchant_of(company, role=role) if role else merchant_of(CompanyFactory())
    with pytest.raises(ApplicationError, match="Only the company's owners and admins"):
        company_auto_refund_update(company=company, actor=actor, card_below_cents=1, paypal_below_cents=1, message="")
    assert Company.objects.get(pk=company.pk).auto_refund_card_below_cents == 0


@pytest.mark.parametrize(("card", "paypal"), [(-1, 0), (0, -1), (1.5, 0), (0, "10")])
def test_company_auto_refund_update_negative_or_non_integer_threshold_is_refused(card, paypal):
    """Thresholds are zero or positive whole minor units."""
    company = CompanyFactory()
    owner = merchant_of(company)
    with pytest.raises(ApplicationError, match="threshold must be zero or a positive amount"):
        company_auto_refund_update(
            company=company, actor=owner, card_below_cents=card, paypal_below_cents=paypal, message=""
        )
    company.refresh_from_db()
    assert (company.auto_refund_card_below_cents, company.auto_refund_paypal_below_cents) == (0, 0)
