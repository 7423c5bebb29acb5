"""Automatic refunds when a case is opened: financing always, card and PayPal under the company's
thresholds (strictly below), with the company's message kept on the case. The refund is requested
with the case and sent to the processor once the opening commits."""

from datetime import timedelta
from functools import partial

import pytest

from cases import services
from cases.models import CaseEvent, CaseOutcome, CaseStatus
from payments.gateways import RefundGateway, RefundResult
from payments.models import Company, Refund
from tests.factories import CompanyFactory, PaymentFactory

pytestmark = pytest.mark.django_db

MESSAGE = "Sorry it did not work out. We refunded you automatically."


@pytest.fixture
def open_case(django_capture_on_commit_callbacks):
    return partial(_open_case, committed=partial(django_capture_on_commit_callbacks, execute=True))


def _open_case(company, customer, *, method, amount_cents=5000, committed):
    payment = PaymentFactory(company=company, customer=customer, method=method, amount_cents=amount_cents)
    with committed():
        case = services.case_open(customer=customer, payment=payment, reason="forgot_to_cancel", description="Oops")
    case.refresh_from_db()
    payment.refresh_from_db()
    return case, payment


def assert_auto_refunded(case, payment):
    assert (case.status, case.outcome, case.auto_refunded) == (CaseStatus.FINAL, CaseOutcome.REFUNDED, True)
    refund = Refund.objects.get(case=case)
    assert (refund.amount_cents, refund.status, refund.initiated_by_kind) == (
        payment.amount_cents,
        "succeeded",
        "system",
    )
    assert payment.refunded_cents == payment.amount_cents
    moves = [(e.from_state, e.to_state, e.action) for e in case.events.all() if e.from_state != e.to_state]
    assert moves == [("", "open", "opened"), ("open", "final", "auto_refunded")]
    money = [e.action for e in case.events.all() if e.action.startswith("refund")]
    assert money == ["refund_requested", "refund_issued"]


def assert_waits_on_merchant(case, payment):
    assert (case.status, case.auto_refunded, case.auto_refund_message) == (CaseStatus.OPEN, False, "")
    assert not Refund.objects.filter(payment=payment).exists()
    assert payment.refunded_cents == 0


@pytest.mark.parametrize("method", ["splitit", "sezzle", "klarna", "afterpay", "zip"])
def test_open_financing_payment_refunds_at_once(company, customer, method, open_case):
    """Every financing provider's payment is refunded in full the moment the case is opened."""
    case, payment = open_case(company, customer, method=method, amount_cents=123456)
    assert_auto_refunded(case, payment)
    event = case.events.get(action=CaseEvent.Action.AUTO_REFUNDED)
    assert "always refunded automatically" in event.note


def test_open_financing_payment_refunds_even_with_thresholds_at_zero(customer, open_case):
    """Financing does not depend on the company's card/PayPal settings."""
    company = CompanyFactory(auto_refund_card_below_cents=0, auto_refund_paypal_below_cents=0)
    case, payment = open_case(company, customer, method="klarna")
    assert_auto_refunded(case, payment)


@pytest.mark.parametrize(
    ("method", "field"), [("card", "auto_refund_card_below_cents"), ("paypal", "auto_refund_paypal_below_cents")]
)
@pytest.mark.parametrize(
    ("amount_cents", "refunded"),
    [(999, True), (1000, False), (1001, False)],
    ids=["below", "at", "above"],
)
def test_open_under_company_threshold_refunds_only_below_it(customer, method, field, amount_cents, refunded, open_case):
    """Below the threshold (10.00) the case is refunded with the company's message; at or above it waits."""
    company = CompanyFactory(**{field: 1000}, auto_refund_message=MESSAGE)
    case, payment = open_case(company, customer, method=method, amount_cents=amount_cents)
    if refunded:
        assert_auto_refunded(case, payment)
        assert case.auto_refund_message == MESSAGE
    else:
        assert_waits_on_merchant(case, payment)


@pytest.mark.parametrize(
    ("method", "other_field"), [("card", "auto_refund_paypal_below_cents"), ("paypal", "auto_refund_card_below_cents")]
)
def test_open_under_the_other_methods_threshold_does_not_refund(customer, method, other_field, open_case):
    """The card threshold applies to card payments only, the PayPal one to PayPal only."""
    company = CompanyFactory(**{other_field: 100000})
    case, payment = open_case(company, customer, method=method, amount_cents=500)
    assert_waits_on_merchant(case, payment)


def test_open_card_with_no_threshold_set_does_not_refund(company, customer, open_case):
    """With the setting at zero (the default) nothing is refunded automatically."""
    case, payment = open_case(company, customer, method="card", amount_cents=1)
    assert_waits_on_merchant(case, payment)


def test_auto_refund_message_on_case_survives_company_changing_it(customer, open_case):
    """The customer keeps seeing the message that applied when they were refunded."""
    company = CompanyFactory(auto_refund_card_below_cents=1000, auto_refund_message=MESSAGE)
    case, _ = open_case(company, customer, method="card", amount_cents=500)
    Company.objects.filter(pk=company.pk).update(auto_refund_message="New wording")
    case.refresh_from_db()
    assert case.auto_refund_message == MESSAGE


def test_auto_refund_of_partly_refunded_payment_refunds_only_the_rest(customer, merchant, company):
    """An automatic refund never exceeds what is left of the payment."""
    from payments.services import refund_request

    payment = PaymentFactory(company=company, customer=customer, method="zip", amount_cents=9000)
    refund_request(
        payment=payment,
        amount_cents=4000,
        currency="USD",
        idempotency_key="manual",
        initiated_by_kind="merchant",
        initiated_by=merchant,
    )
    case = services.case_open(customer=customer, payment=payment, reason="poor_quality", description="Meh")
    payment.refresh_from_db()
    assert Refund.objects.get(case=case).amount_cents == 5000
    assert payment.refunded_cents == 9000


class RefusingProcessor(RefundGateway):
    def refund(self, order):
        return RefundResult(succeeded=False, failure_message="The card account is closed.")


def test_auto_refund_refused_by_the_processor_still_closes_the_case_and_keeps_the_refund_delayed(
    customer, company, settings, django_capture_on_commit_callbacks
):
    """The customer was promised the refund: a refusal does not reopen the case or lose the refund. It
    stays on record as failed with the processor's reason, the money reserved, the timeline saying
    "refund delayed", and it is asked again a minute later."""
    settings.REFUND_GATEWAY = "tests.cases.test_auto_refunds.RefusingProcessor"
    payment = PaymentFactory(company=company, customer=customer, method="afterpay", amount_cents=3000)
    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_open(customer=customer, payment=payment, reason="forgot_to_cancel", description="Oops")
    case.refresh_from_db()
    payment.refresh_from_db()
    refund = Refund.objects.get(case=case)
    assert (case.status, case.outcome) == (CaseStatus.FINAL, CaseOutcome.REFUNDED)
    assert (refund.status, refund.failure_message, refund.attempts) == ("failed", "The card account is closed.", 1)
    # Asked again a minute after the refusal came back.
    assert timedelta(minutes=1) <= refund.next_attempt_at - refund.last_attempt_at < timedelta(minutes=1, seconds=10)
    assert payment.refunded_cents == 3000
    assert [e.action for e in case.events.all() if e.action.startswith("refund")] == [
        "refund_requested",
        "refund_failed",
    ]
