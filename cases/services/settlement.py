"""Money moves exactly once, when the outcome is settled (DOMAIN.md): through payments' refund
gateway or its balance-credit ledger, each with an idempotency key made from the case.

A refund happens in two steps, so that no lock is ever held while a payment processor answers
(200 ms to 30 s):

1. In the case's transaction, with its state change: the refund row is written as *requested*
   (the money reserved on the payment) with a "refund requested" timeline row
   (``refund_settle`` for one case, ``refunds_request_for_cases`` for a sweep's batch).
2. After commit, outside any transaction: ``refunds_send`` claims the refunds, asks the processor
   with each refund's key, and records each answer with its timeline row: *succeeded* ("refund
   sent") or *failed* ("refund delayed", the processor's reason kept on the refund). A refusal or
   no answer is asked again later with the same key (``refunds_send_due``, every minute).

A worker killed between the processor's answer and the record leaves the refund claimed; when
its lease ends the refund is due again, the processor answers the same key with the same refund,
and it is recorded once.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from payments.models import ActorKind, Payment, Refund
from payments.services import (
    RefundClaim,
    RefundOfCase,
    balance_credit_grant,
    credit_idempotency_key,
    refund_claim,
    refund_idempotency_key,
    refund_ids_due,
    refund_processor_answers,
    refund_record,
    refund_request,
    refund_retry_now,
    refunds_request_rest,
)
from resolution_center.exceptions import ApplicationError
from resolution_center.formatting import format_money

from ..models import Case, CaseEvent, Visibility
from .base import event_append, events_append_bulk, now_or, system_event

log = logging.getLogger(__name__)
Action = CaseEvent.Action

# The timeline's words; the pages add the amount from the refund row (cases.presentation).
REFUND_REQUESTED_NOTE = "The refund was requested from the payment processor."
REFUND_SENT_NOTE = "The payment processor sent the refund to the original payment method."
REFUND_DELAYED_NOTE = "The payment processor has not sent the refund yet; it is asked again automatically."
NOTHING_LEFT_NOTE = "Nothing was left to refund on this payment."
REFUNDS_TASK = "cases.tasks.refunds_send"
# How many due refunds one pass of the retry task claims at a time.
REFUNDS_BATCH = 500


def _money_event(*, case: Case, action: str, note: str, now: datetime) -> None:
    event_append(case=case, actor_kind=ActorKind.SYSTEM, actor=None, action=action, note=note, now=now)


def refunds_send_after_commit(refund_ids: list[int]) -> None:
    """Queue the refunds for the task cluster once the transaction that requested them commits
    (the processor is never called inside it). If the queueing is lost, the refunds are still
    due, and the every-minute retry sends them."""

    def queue() -> None:
        from django_q.tasks import async_task

        async_task(REFUNDS_TASK, refund_ids, group="refunds")

    transaction.on_commit(queue, robust=True)


def refund_settle(*, case: Case, actor_kind: str, actor, now: datetime, amount_cents: int | None = None) -> None:
    """Request the refund of what is left of the payment (or of ``amount_cents``, an accepted
    partial offer), in the caller's transaction; it is sent to the processor after commit. Either
    way it is the case's one refund (one key per case), so money moves once."""
    payment = Payment.objects.get(pk=case.payment_id)
    amount = payment.refundable_cents if amount_cents is None else amount_cents
    if amount_cents is not None and not 0 < amount_cents <= payment.refundable_cents:
        raise ApplicationError("The offered amount is more than is left to refund on this payment.")
    if amount <= 0:
        _money_event(case=case, action=Action.REFUND_ISSUED, note=NOTHING_LEFT_NOTE, now=now)
        return
    refund = refund_request(
        payment=payment,
        amount_cents=amount,
        currency=payment.currency,
        idempotency_key=refund_idempotency_key(case_id=case.pk),
        initiated_by_kind=actor_kind,
        initiated_by=actor if actor_kind != ActorKind.SYSTEM else None,
        case=case,
        now=now,
    )
    _money_event(case=case, action=Action.REFUND_REQUESTED, note=REFUND_REQUESTED_NOTE, now=now)
    refunds_send_after_commit([refund.pk])


def refunds_request_for_cases(*, case_ids: list[int], state: str, now: datetime) -> RefundClaim:
    """The sweep's batch (reviewer refunds whose appeal window closed), set-based, in the caller's
    transaction: the same rows ``refund_settle`` writes case by case. Returns the claim on the new
    refunds, for the caller to send after commit (``refunds_send_claimed``). ``state`` is the one
    the cases are in (the move's target)."""
    cases = Case.objects.filter(pk__in=case_ids).values_list("pk", "payment_id", "decided_by_id")
    # The reviewer who decided the refund initiated it, whoever ends the appeal window.
    wanted = [
        RefundOfCase(case_id=pk, payment_id=payment_id, initiated_by_kind=ActorKind.REVIEWER, initiated_by_id=by)
        for pk, payment_id, by in cases
    ]
    requested, claim = refunds_request_rest(refunds=wanted, now=now)

    def event(action: str, note: str):
        return system_event(
            action=action, from_state=state, to_state=state, visibility=Visibility.EVERYONE, note=note, now=now
        )

    if requested:
        events_append_bulk(template=event(Action.REFUND_REQUESTED, REFUND_REQUESTED_NOTE), case_ids=list(requested))
    nothing_left = [case_id for case_id in case_ids if case_id not in requested]
    if nothing_left:
        events_append_bulk(template=event(Action.REFUND_ISSUED, NOTHING_LEFT_NOTE), case_ids=nothing_left)
    return claim


@dataclass
class RefundsSent:
    sent: int = 0  # succeeded at the processor (and recorded by this call)
    delayed: int = 0  # refused or unanswered: asked again later
    skipped: int = 0  # held by another worker, or already settled
    refund_ids: list[int] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict:
        return {"sent": self.sent, "delayed": self.delayed, "skipped": self.skipped}


def refunds_send(*, refund_ids: list[int], now: datetime | None = None) -> RefundsSent:
    """Send these refunds to the processor and record the answers. Must run outside a transaction:
    nothing is locked while the processor answers. Safe to run twice, or in two workers at once:
    a refund held by one worker is skipped by the other, and a settled one is never sent again."""
    if _inside_a_transaction():
        raise RuntimeError("refunds_send calls the payment processor: run it after the transaction commits.")
    claim = refund_claim(refund_ids=list(refund_ids), now=now_or(now))
    result = refunds_send_claimed(claim=claim, now=now)
    result.skipped += len(set(refund_ids)) - len(claim.orders)
    return result


def refunds_send_claimed(*, claim: RefundClaim, now: datetime | None = None) -> RefundsSent:
    """Send the refunds this worker holds (``claim``) and record the answers; outside any transaction."""
    if _inside_a_transaction():
        raise RuntimeError("refunds_send calls the payment processor: run it after the transaction commits.")
    result = RefundsSent()
    if not claim.orders:
        return result
    answers = refund_processor_answers(claim)
    answered_at = now_or(now)
    with transaction.atomic():
        record = refund_record(claim=claim, answers=answers, now=answered_at)
        # Each recorded refund's case and its state, in one query (refunds outside a case have no row).
        where = {
            refund_id: (case_id, status)
            for refund_id, case_id, status in Refund.objects.filter(
                pk__in=record.succeeded + record.newly_failed, case__isnull=False
            ).values_list("pk", "case_id", "case__status")
        }
        for refund_ids_, action, note in (
            (record.succeeded, Action.REFUND_ISSUED, REFUND_SENT_NOTE),
            (record.newly_failed, Action.REFUND_FAILED, REFUND_DELAYED_NOTE),
        ):
            by_status: dict[str, list[int]] = {}
            for refund_id in refund_ids_:
                if refund_id in where:
                    case_id, status = where[refund_id]
                    by_status.setdefault(status, []).append(case_id)
            for status, case_ids in by_status.items():
                template = system_event(
                    action=action,
                    from_state=status,
                    to_state=status,
                    visibility=Visibility.EVERYONE,
                    note=note,
                    now=answered_at,
                )
                events_append_bulk(template=template, case_ids=case_ids)
    for refund_id in record.newly_failed + record.waiting:
        log.warning("Refund %s not sent yet: %s", refund_id, _why(answers[refund_id]))
    result.sent = len(record.succeeded)
    result.delayed = len(record.newly_failed) + len(record.waiting)
    result.skipped = len(claim.orders) - len(record.succeeded) - result.delayed
    return result


def _inside_a_transaction() -> bool:
    """True inside ``transaction.atomic`` (a test's own wrapping transaction does not count: it
    stands for the request's autocommit)."""
    connection = transaction.get_connection()
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def _why(answer) -> str:
    return getattr(answer, "failure_message", "") or getattr(answer, "reason", "") or "no reason given"


def refunds_send_due(*, now: datetime | None = None, time_budget: float = 40) -> RefundsSent:
    """Every refund whose next attempt is due (a first send that was lost, a refusal or a missing
    answer past its backoff, a dead worker's past its lease), in batches, until none is left or
    the time budget is spent. Run every minute by the task cluster."""
    started = time.monotonic()
    total = RefundsSent()
    while time.monotonic() - started < time_budget:
        due = refund_ids_due(now=now_or(now), limit=REFUNDS_BATCH)
        if not due:
            break
        done = refunds_send(refund_ids=due, now=now)
        total.sent += done.sent
        total.delayed += done.delayed
        total.skipped += done.skipped
        if done.sent + done.delayed == 0:
            break  # all held by other workers: theirs to finish
    return total


@transaction.atomic
def refund_retry(*, refund: Refund, now: datetime | None = None) -> bool:
    """A reviewer asks for another attempt now (also after the automatic attempts ran out); it is
    sent by the task cluster right after. False if it already succeeded or is being sent."""
    if not refund_retry_now(refund=refund, now=now_or(now)):
        return False
    refunds_send_after_commit([refund.pk])
    return True


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
        note=f"{format_money(credit.amount_cents, credit.currency)} credited to the customer's platform balance.",
        now=now,
    )
