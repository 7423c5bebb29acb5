"""Every write to money rows. Callers hold a transaction; these lock the payment row."""

import re

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from resolution_center.exceptions import ApplicationError

from .gateways import get_refund_gateway
from .models import ActorKind, BalanceCredit, Company, Membership, Payment, Refund

CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def refund_idempotency_key(*, case_id: int) -> str:
    """Deterministic, so every retry or racing worker for one case collides on the same key."""
    return f"case-{case_id}-refund"


def credit_idempotency_key(*, case_id: int) -> str:
    return f"case-{case_id}-credit"


def validate_money(*, amount_cents: int, currency: str, expected_currency: str | None = None) -> None:
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents <= 0:
        raise ApplicationError("The amount must be a positive whole number of minor units (e.g. cents).")
    if not isinstance(currency, str) or not CURRENCY_RE.match(currency):
        raise ApplicationError("The currency must be a three-letter ISO 4217 code such as USD.")
    if expected_currency is not None and currency != expected_currency:
        raise ApplicationError(f"The currency {currency} does not match the payment's currency {expected_currency}.")


def _refund_already_made(*, idempotency_key: str, payment: Payment, amount_cents: int, currency: str) -> Refund | None:
    """The refund this key already made, or None. A key reused for another payment or amount is a
    caller's mistake, not a retry: returning that refund would report money that never moved."""
    existing = Refund.objects.filter(idempotency_key=idempotency_key).first()
    if existing is None:
        return None
    if (existing.payment_id, existing.amount_cents, existing.currency) != (payment.pk, amount_cents, currency):
        raise ApplicationError(
            "This refund reference was already used for a different refund; nothing was refunded this time."
        )
    return existing


@transaction.atomic
def refund_issue(
    *,
    payment: Payment,
    amount_cents: int,
    currency: str,
    idempotency_key: str,
    initiated_by_kind: str,
    initiated_by=None,
    case=None,
    now=None,
) -> Refund:
    """Refund part or all of a payment, exactly once per idempotency key.

    A retry with the same key returns the refund already made. The payment row is locked, and
    the running total only moves through a conditional UPDATE, so concurrent refunds can never
    push it past the amount.
    """
    now = now or timezone.now()
    validate_money(amount_cents=amount_cents, currency=currency, expected_currency=payment.currency)
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    # Looked up under the payment's lock: a retry racing the first call waits for it to commit and
    # then finds its refund, instead of seeing the money gone and refusing.
    existing = _refund_already_made(
        idempotency_key=idempotency_key, payment=locked, amount_cents=amount_cents, currency=currency
    )
    if existing is not None:
        return existing
    if amount_cents > locked.refundable_cents:
        raise ApplicationError(
            f"Only {locked.refundable_cents} of {locked.amount_cents} (minor units) is left to refund on this payment."
        )
    try:
        with transaction.atomic():
            refund = Refund.objects.create(
                payment=locked,
                case=case,
                amount_cents=amount_cents,
                currency=currency,
                idempotency_key=idempotency_key,
                initiated_by_kind=initiated_by_kind,
                initiated_by=initiated_by,
                created_at=now,
            )
    except IntegrityError:
        # Another worker committed the same key (or this case's refund) first: theirs stands.
        existing = _refund_already_made(
            idempotency_key=idempotency_key, payment=locked, amount_cents=amount_cents, currency=currency
        )
        if existing is None:
            raise ApplicationError("This case has already been refunded.") from None
        return existing
    result = get_refund_gateway().refund(
        payment=locked, amount_cents=amount_cents, currency=currency, idempotency_key=idempotency_key
    )
    if not result.succeeded:
        raise ApplicationError(f"The refund was refused by the payment processor: {result.failure_message}")
    updated = Payment.objects.filter(pk=locked.pk, refunded_cents__lte=F("amount_cents") - amount_cents).update(
        refunded_cents=F("refunded_cents") + amount_cents
    )
    if updated != 1:
        raise ApplicationError("The payment has no money left to refund.")
    Refund.objects.filter(pk=refund.pk).update(
        status=Refund.Status.SUCCEEDED, processor_reference=result.processor_reference
    )
    refund.status = Refund.Status.SUCCEEDED
    refund.processor_reference = result.processor_reference
    payment.refunded_cents = locked.refunded_cents + amount_cents
    return refund


@transaction.atomic
def balance_credit_grant(
    *, customer, amount_cents: int, currency: str, idempotency_key: str, case=None, granted_by=None, now=None
) -> BalanceCredit:
    """Credit the customer's platform balance once per idempotency key; the merchant pays nothing."""
    validate_money(amount_cents=amount_cents, currency=currency)
    credit, _ = BalanceCredit.objects.get_or_create(
        idempotency_key=idempotency_key,
        defaults={
            "customer": customer,
            "case": case,
            "amount_cents": amount_cents,
            "currency": currency,
            "granted_by": granted_by,
            "created_at": now or timezone.now(),
        },
    )
    # As for refunds: a key reused for another customer or sum is a mistake, not a retry.
    if (credit.customer_id, credit.amount_cents, credit.currency) != (customer.pk, amount_cents, currency):
        raise ApplicationError(
            "This credit reference was already used for a different credit; nothing was credited this time."
        )
    return credit


@transaction.atomic
def company_auto_refund_update(
    *, company: Company, actor, card_below_cents: int, paypal_below_cents: int, message: str
) -> Company:
    """Change a company's auto respond settings; only its owners and admins may."""
    from .selectors import membership_role

    if membership_role(user=actor, company=company) not in Membership.MANAGING_ROLES:
        raise ApplicationError("Only the company's owners and admins can change the auto respond settings.")
    for label, value in (("card", card_below_cents), ("PayPal", paypal_below_cents)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ApplicationError(f"The {label} threshold must be zero or a positive amount.")
    if len(message) > 1000:
        raise ApplicationError("The auto-refund message can be at most 1000 characters.")
    Company.objects.filter(pk=company.pk).update(
        auto_refund_card_below_cents=card_below_cents,
        auto_refund_paypal_below_cents=paypal_below_cents,
        auto_refund_message=message.strip(),
    )
    company.refresh_from_db()
    return company


__all__ = [
    "ActorKind",
    "balance_credit_grant",
    "company_auto_refund_update",
    "credit_idempotency_key",
    "refund_idempotency_key",
    "refund_issue",
    "validate_money",
]
