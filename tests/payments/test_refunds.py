"""Money leaves in two steps: ``refund_request`` records the refund as requested (exactly once per
idempotency key, never past the amount, the money reserved at once) in the caller's transaction;
``refunds_send`` asks the processor after commit and records its answer. A refusal or a missing
answer is kept, with its reason, and asked again later with the same key."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from cases.services import refund_retry, refunds_send, refunds_send_due
from payments.gateways import RefundGateway, RefundProcessorUnavailable, RefundResult
from payments.models import BalanceCredit, Company, Payment, Refund
from payments.services import (
    REFUND_MAX_ATTEMPTS,
    balance_credit_grant,
    company_auto_refund_update,
    refund_claim,
    refund_ids_due,
    refund_processor_answers,
    refund_record,
    refund_request,
)
from resolution_center.exceptions import ApplicationError
from tests.factories import CompanyFactory, PaymentFactory, UserFactory, merchant_of

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class ScriptedProcessor(RefundGateway):
    """A processor whose next answers a test writes down (a refusal, no answer); after them it
    refunds, with a reference made from the key, as a real one answers a retried key. Every call
    is kept, so a test sees what reached the processor."""

    script: list = []
    calls: list = []

    def refund(self, order):
        type(self).calls.append(order.idempotency_key)
        answer = type(self).script.pop(0) if type(self).script else None
        if isinstance(answer, Exception):
            raise answer
        return answer or RefundResult(succeeded=True, processor_reference=f"re_{order.idempotency_key}")


@pytest.fixture
def processor(settings):
    settings.REFUND_GATEWAY = "tests.payments.test_refunds.ScriptedProcessor"
    ScriptedProcessor.script = []
    ScriptedProcessor.calls = []
    return ScriptedProcessor


def refund(payment, amount_cents, key="key-1", currency="USD", **extra):
    return refund_request(
        payment=payment,
        amount_cents=amount_cents,
        currency=currency,
        idempotency_key=key,
        initiated_by_kind="merchant",
        **extra,
    )


def row(refund):
    return Refund.objects.get(pk=refund.pk)


def money_rows(payment):
    payment.refresh_from_db()
    return payment.refunded_cents, list(Refund.objects.order_by("pk").values_list("pk", "amount_cents", "status"))


def test_refund_request_records_it_as_requested_and_reserves_the_money_without_calling_the_processor(
    payment, processor
):
    """Requesting writes the refund row (requested, due now) and counts the amount against the
    payment at once; the processor hears nothing until the refund is sent."""
    made = refund(payment, 5000, now=NOW)
    payment.refresh_from_db()
    assert (made.status, made.amount_cents, made.currency, made.next_attempt_at) == ("requested", 5000, "USD", NOW)
    assert payment.refunded_cents == 5000
    assert processor.calls == []


def test_refund_sent_with_the_built_in_gateway_succeeds_with_its_reference(payment):
    """The built-in gateway refunds at once: the row becomes succeeded with a db_ reference, and the
    payment's total stays what was reserved."""
    made = refund(payment, 5000, now=NOW)
    sent = refunds_send(refund_ids=[made.pk], now=NOW)
    assert (sent.sent, sent.delayed, sent.skipped) == (1, 0, 0)
    made = row(made)
    assert (made.status, made.attempts, made.succeeded_at, made.next_attempt_at) == ("succeeded", 1, NOW, None)
    assert made.processor_reference.startswith("db_")
    payment.refresh_from_db()
    assert payment.refunded_cents == 5000 and payment.is_fully_refunded


def test_refund_request_partial_refunds_add_up_to_the_amount_then_stop(payment):
    """Partial refunds may add up to the amount, never beyond it (requested ones count: their money is
    reserved); the refusal says what is left."""
    refund(payment, 2000, key="a")
    refund(payment, 3000, key="b")
    before = money_rows(payment)
    with pytest.raises(ApplicationError) as caught:
        refund(payment, 1, key="c")
    assert caught.value.message == "Only 0 of 5000 (minor units) is left to refund on this payment."
    assert money_rows(payment) == before


def test_refund_request_more_than_left_is_refused_and_saves_nothing(payment):
    """Asking for more than is left refuses the whole refund."""
    refund(payment, 4000, key="a")
    before = money_rows(payment)
    with pytest.raises(ApplicationError, match="Only 1000 of 5000"):
        refund(payment, 1001, key="b")
    assert money_rows(payment) == before


def test_refund_request_retry_with_same_key_returns_first_refund_and_moves_money_once(payment):
    """A retried call (same idempotency key) returns the refund already requested; the money is counted once."""
    first = refund(payment, 2000, key="retry")
    again = refund(payment, 2000, key="retry")
    payment.refresh_from_db()
    assert again.pk == first.pk
    assert payment.refunded_cents == 2000
    assert Refund.objects.count() == 1


def test_refund_request_same_key_for_another_payment_is_refused(payment, company, customer):
    """An idempotency key names one refund: reusing it for another payment must not pass as a success
    while no money reached that payment's customer."""
    refund(payment, 2000, key="shared")
    other = PaymentFactory(company=company, customer=customer)
    with pytest.raises(ApplicationError) as caught:
        refund(other, 2000, key="shared")
    assert "already used" in caught.value.message
    other.refresh_from_db()
    assert other.refunded_cents == 0


def test_refund_request_same_key_with_another_amount_is_refused(payment):
    """Reusing a key with a different amount is a caller's mistake, not a retry; it is refused."""
    refund(payment, 2000, key="shared")
    with pytest.raises(ApplicationError, match="already used"):
        refund(payment, 3000, key="shared")
    assert money_rows(payment)[0] == 2000


@pytest.mark.parametrize("amount", [0, -1, -5000, 10.5, "100", True, None])
def test_refund_request_non_positive_or_non_integer_amount_is_refused(payment, amount):
    """Amounts are positive whole minor units; anything else is refused before money moves."""
    with pytest.raises(ApplicationError) as caught:
        refund(payment, amount)
    assert caught.value.message == "The amount must be a positive whole number of minor units (e.g. cents)."
    assert money_rows(payment) == (0, [])


def test_refund_request_in_another_currency_is_refused(payment):
    """A USD payment is refunded in USD only; the message names both currencies."""
    with pytest.raises(ApplicationError) as caught:
        refund(payment, 1000, currency="EUR")
    assert caught.value.message == "The currency EUR does not match the payment's currency USD."
    assert money_rows(payment) == (0, [])


@pytest.mark.parametrize("currency", ["usd", "US", "", "DOLLARS", None])
def test_refund_request_malformed_currency_is_refused(payment, currency):
    """The currency must be an ISO 4217 code."""
    with pytest.raises(ApplicationError, match="three-letter ISO 4217 code"):
        refund(payment, 1000, currency=currency)
    assert money_rows(payment) == (0, [])


def test_refund_refused_by_the_processor_is_kept_with_its_reason_and_asked_again_after_a_minute(payment, processor):
    """A refusal is not lost: the row says failed with the processor's words, the money stays reserved
    (it is owed), and a minute later the processor is asked again — under a key of its own, since a
    processor replays a key's refusal; when it agrees, there is one refund, and our own key still
    finds it."""
    processor.script = [RefundResult(succeeded=False, failure_message="The card account is closed.")]
    made = refund(payment, 1000, now=NOW)
    assert refunds_send(refund_ids=[made.pk], now=NOW).delayed == 1
    failed = row(made)
    assert (failed.status, failed.failure_message) == ("failed", "The card account is closed.")
    assert failed.next_attempt_at == NOW + timedelta(minutes=1)
    assert money_rows(payment) == (1000, [(made.pk, 1000, "failed")])
    assert refund_ids_due(now=NOW + timedelta(seconds=59), limit=10) == []

    assert refunds_send_due(now=NOW + timedelta(minutes=1)).sent == 1
    assert processor.calls == ["key-1", "key-1-retry1"]
    assert money_rows(payment) == (1000, [(made.pk, 1000, "succeeded")])
    assert row(made).processor_reference == "re_key-1-retry1"
    assert refund(payment, 1000).pk == made.pk  # a caller's retry with our key: the same refund


def test_refund_without_an_answer_stays_requested_and_backs_off(payment, processor):
    """A timeout is not a refusal: nobody knows whether the money moved, so the refund stays
    requested, says why, and is asked again later (1, then 5 minutes)."""
    processor.script = [RefundProcessorUnavailable("timed out after 10 s"), RefundProcessorUnavailable("timed out")]
    made = refund(payment, 1000, now=NOW)
    refunds_send(refund_ids=[made.pk], now=NOW)
    waiting = row(made)
    assert (waiting.status, waiting.attempts) == ("requested", 1)
    assert waiting.failure_message == "No answer from the payment processor: timed out after 10 s"
    assert waiting.next_attempt_at == NOW + timedelta(minutes=1)
    refunds_send_due(now=NOW + timedelta(minutes=1))
    # Unanswered, so possibly done: asked again with the very same key.
    assert processor.calls == ["key-1", "key-1"]
    assert row(made).next_attempt_at == NOW + timedelta(minutes=1) + timedelta(minutes=5)


def test_refund_whose_attempts_ran_out_waits_for_a_reviewer_who_can_retry_it(payment, processor):
    """After the last automatic attempt nothing is due any more; a reviewer's retry sends it again
    (after commit), with the same key."""
    processor.script = [RefundResult(succeeded=False, failure_message="Declined.")] * REFUND_MAX_ATTEMPTS
    made = refund(payment, 1000, now=NOW)
    Refund.objects.filter(pk=made.pk).update(attempts=REFUND_MAX_ATTEMPTS - 1)
    refunds_send(refund_ids=[made.pk], now=NOW)
    assert (row(made).status, row(made).next_attempt_at) == ("failed", None)
    assert refund_ids_due(now=NOW + timedelta(days=30), limit=10) == []

    processor.script = []
    assert refund_retry(refund=made, now=NOW) is True
    assert refund_ids_due(now=NOW, limit=10) == [made.pk]
    refunds_send_due(now=NOW)
    assert (row(made).status, processor.calls[-1]) == ("succeeded", "key-1-retry1")


def test_two_workers_never_both_hold_a_refund_and_a_dead_ones_refund_falls_due_after_its_lease(payment, processor):
    """The claim is a compare-and-set: the second worker gets nothing while the first holds the
    refund; if the first dies, the refund is due again when its lease ends."""
    made = refund(payment, 1000, now=NOW)
    first = refund_claim(refund_ids=[made.pk], now=NOW)
    second = refund_claim(refund_ids=[made.pk], now=NOW)
    assert (list(first.orders), list(second.orders)) == ([made.pk], [])
    assert refund_ids_due(now=first.until - timedelta(seconds=1), limit=10) == []
    assert refund_ids_due(now=first.until, limit=10) == [made.pk]


def test_a_late_success_counts_but_a_late_refusal_cannot_undo_a_later_workers_success(payment, processor):
    """A worker whose lease ran out may still report success (the processor answers a key the same
    way for everyone), once; its refusal is ignored when another worker holds the refund now."""
    made = refund(payment, 1000, now=NOW)
    slow = refund_claim(refund_ids=[made.pk], now=NOW)
    later = slow.until + timedelta(seconds=1)
    fast = refund_claim(refund_ids=[made.pk], now=later)
    refused = {made.pk: RefundResult(succeeded=False, failure_message="Declined.")}
    with transaction.atomic():
        assert refund_record(claim=slow, answers=refused, now=later).newly_failed == []
    assert row(made).status == "requested"
    with transaction.atomic():
        assert refund_record(claim=fast, answers=refund_processor_answers(fast), now=later).succeeded == [made.pk]
        assert refund_record(claim=slow, answers=refund_processor_answers(slow), now=later).succeeded == []
    assert row(made).status == "succeeded"


def test_refunds_send_refuses_to_call_the_processor_inside_a_transaction(payment):
    """The processor is never called while rows are locked: inside ``atomic`` it is a programming error."""
    made = refund(payment, 1000, now=NOW)
    with pytest.raises(RuntimeError, match="after the transaction commits"), transaction.atomic():
        refunds_send(refund_ids=[made.pk], now=NOW)
    assert row(made).attempts == 0


def test_a_succeeded_refund_without_the_processors_reference_is_refused_by_the_database(payment):
    """Last line of defence: "succeeded" always names the processor's refund."""
    made = refund(payment, 1000, now=NOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.filter(pk=made.pk).update(status="succeeded", processor_reference="")


def test_payment_refunded_total_cannot_exceed_amount_in_the_database(payment):
    """The database itself refuses a refunded total above the amount (last line of defence)."""
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
