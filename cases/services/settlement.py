"""Money moves exactly once, when the outcome is settled (DOMAIN.md): through payments' refund
gateway or its balance-credit ledger, each with an idempotency key made from the case."""

from datetime import datetime

from payments.models import ActorKind, Payment
from payments.services import balance_credit_grant, credit_idempotency_key, refund_idempotency_key, refund_issue

from ..models import Case, CaseEvent
from .base import event_append

Action = CaseEvent.Action


def refund_settle(*, case: Case, actor_kind: str, actor, now: datetime) -> None:
    """Refund what is left of the payment and put it on the timeline."""
    payment = Payment.objects.get(pk=case.payment_id)
    amount = payment.refundable_cents
    if amount <= 0:
        event_append(
            case=case,
            actor_kind=ActorKind.SYSTEM,
            actor=None,
            action=Action.REFUND_ISSUED,
            note="Nothing was left to refund on this payment.",
            now=now,
        )
        return
    refund = refund_issue(
        payment=payment,
        amount_cents=amount,
        currency=payment.currency,
        idempotency_key=refund_idempotency_key(case_id=case.pk),
        initiated_by_kind=actor_kind,
        initiated_by=actor if actor_kind != ActorKind.SYSTEM else None,
        case=case,
        now=now,
    )
    event_append(
        case=case,
        actor_kind=ActorKind.SYSTEM,
        actor=None,
        action=Action.REFUND_ISSUED,
        note=f"{refund.amount_cents} {refund.currency} refunded (reference {refund.processor_reference}).",
        now=now,
    )


def credit_settle(*, case: Case, actor, now: datetime) -> None:
    """Credit what is left of the payment to the customer's platform balance (the merchant pays nothing)."""
    payment = Payment.objects.get(pk=case.payment_id)
    amount = payment.refundable_cents
    if amount <= 0:
        return
    credit = balance_credit_grant(
        customer=case.customer,
        amount_cents=amount,
        currency=payment.currency,
        idempotency_key=credit_idempotency_key(case_id=case.pk),
        case=case,
        granted_by=actor,
        now=now,
    )
    event_append(
        case=case,
        actor_kind=ActorKind.SYSTEM,
        actor=None,
        action=Action.CREDIT_GRANTED,
        note=f"{credit.amount_cents} {credit.currency} credited to the customer's platform balance.",
        now=now,
    )
