"""Partial refund offers (DOMAIN.md, "Settling faster"): the merchant offers part of what is left
of the payment; the customer accepts it (that amount is refunded once, through the refund path,
and the case is final) or declines it with a message (the case is open again, the merchant has
fresh days to answer). Whatever else ends the wait — reply_by passing, the merchant's Accept, Deny
or Refund in full, the customer's Withdraw — lapses the pending offer (``offer_lapse_pending``).

Who decides an accepted offer: the customer (``decided_by_kind`` customer): the merchant proposed,
the customer's acceptance is what closed the case. The refund itself is initiated by the member
who made the offer, since it is the merchant's money and the merchant's proposal.
"""

from datetime import datetime

from django.db import transaction

from payments.models import ActorKind
from resolution_center.exceptions import ApplicationError
from resolution_center.formatting import format_money

from ..expiry_rules import deadline_from
from ..models import Case, CaseEvent, CaseOffer, CaseOutcome, CaseStatus, Visibility
from ..policy import DOING, CaseAction, case_action_require
from .base import MAX_MESSAGE, clean_text, event_append, events_append_bulk, lock, move, now_or, system_event
from .messages import message_post
from .settlement import refund_settle

Action = CaseEvent.Action

# Why a pending offer lapsed, as the timeline says it (the sweep writes the first one in bulk).
LAPSED_UNANSWERED = "The offer was not answered in time, so it lapsed."
LAPSED_ACCEPTED = "The offer no longer applies: the case was refunded in full."
LAPSED_DENIED = "The offer no longer applies: the refund was denied."
LAPSED_WITHDRAWN = "The offer no longer applies: the request was withdrawn."


def offer_note(*, amount_cents: int, left_cents: int, currency: str) -> str:
    """The OFFER_MADE timeline row: the amount, and what it is out of."""
    return (
        f"A refund of {format_money(amount_cents, currency)}, "
        f"out of the {format_money(left_cents, currency)} left to refund."
    )


def _pending_offer(case: Case) -> CaseOffer | None:
    return CaseOffer.objects.select_for_update().filter(case=case, status=CaseOffer.Status.PENDING).first()


def offer_lapse_pending(*, case: Case, note: str, now: datetime) -> bool:
    """On a locked case about to leave info_requested (or close): mark its pending offer lapsed and
    append the OFFER_LAPSED row before the move's own row. The caller's move saves the case, with
    ``offer_pending`` cleared here. False when no offer was pending."""
    if not case.offer_pending:
        return False
    CaseOffer.objects.filter(case=case, status=CaseOffer.Status.PENDING).update(
        status=CaseOffer.Status.LAPSED, answered_at=now
    )
    case.offer_pending = False
    event_append(case=case, actor_kind=ActorKind.SYSTEM, actor=None, action=Action.OFFER_LAPSED, note=note, now=now)
    return True


def offers_lapse_for_cases(*, case_ids: list[int], now: datetime) -> None:
    """The sweep's twin of ``offer_lapse_pending`` for info-requested cases whose reply_by passed
    (their ``offer_pending`` is cleared by the sweep's own UPDATE): the same offer rows and timeline
    rows, set-based, before the move's rows."""
    if not case_ids:
        return
    CaseOffer.objects.filter(case_id__in=case_ids, status=CaseOffer.Status.PENDING).update(
        status=CaseOffer.Status.LAPSED, answered_at=now
    )
    state = CaseStatus.INFO_REQUESTED
    template = system_event(
        action=Action.OFFER_LAPSED,
        from_state=state,
        to_state=state,
        visibility=Visibility.EVERYONE,
        note=LAPSED_UNANSWERED,
        now=now,
    )
    events_append_bulk(template=template, case_ids=case_ids)


def offer_amount_refusal(*, amount_cents: int | None, left_cents: int, currency: str) -> str:
    """Why this amount cannot be offered ("" when it can): above zero and below what is left (all
    of it is Accept, or Refund in full)."""
    left = format_money(left_cents, currency)
    if amount_cents is None or amount_cents <= 0:
        return f"Please offer an amount above {format_money(0, currency)} and below {left}."
    if amount_cents >= left_cents:
        return (
            f"An offer must be less than the {left} left to refund; "
            "to refund all of it, accept the case or refund it in full."
        )
    return ""


@transaction.atomic
def case_offer(*, case: Case | int, actor, amount_cents: int, message: str, now: datetime | None = None) -> CaseOffer:
    """The merchant offers ``amount_cents`` of what is left of the payment; the case waits on the
    customer (info_requested) with a fresh reply_by."""
    now = now_or(now)
    body = clean_text(message, what="a message with your offer", limit=MAX_MESSAGE)
    case = lock(case)
    case_action_require(case=case, user=actor, action=CaseAction.OFFER, now=now)
    payment = case.payment
    left, currency = payment.refundable_cents, payment.currency
    refusal = offer_amount_refusal(amount_cents=amount_cents, left_cents=left, currency=currency)
    if refusal:
        raise ApplicationError(refusal)
    # Written before the move, whose OFFER_MADE row notifies the customer of this offer.
    offer = CaseOffer.objects.create(
        case=case, amount_cents=amount_cents, currency=currency, message=body, made_by=actor, made_at=now
    )
    move(
        case,
        "offer",
        actor_kind=ActorKind.MERCHANT,
        actor=actor,
        action=Action.OFFER_MADE,
        now=now,
        doing=DOING[CaseAction.OFFER],
        note=offer_note(amount_cents=amount_cents, left_cents=left, currency=currency),
        deadline=("reply_by", deadline_from(now, "reply_by")),
        offers_count=case.offers_count + 1,
        offer_pending=True,
    )
    # The merchant's words, visible to both; the OFFER_MADE row is the event (no second notice).
    message_post(case=case, actor_kind=ActorKind.MERCHANT, actor=actor, body=body, checked=[], now=now, event=False)
    return offer


@transaction.atomic
def case_offer_accept(*, case: Case | int, actor, now: datetime | None = None) -> Case:
    """The customer accepts the pending offer: exactly its amount is refunded now (the case's one
    refund) and the case closes as refunded, decided by the customer."""
    now = now_or(now)
    case = lock(case)
    case_action_require(case=case, user=actor, action=CaseAction.ACCEPT_OFFER, now=now)
    offer = _pending_offer(case)
    if offer is None:  # the flag and the row are written together; kept as the last line of defence
        raise ApplicationError("There is no offer waiting for your answer.")
    move(
        case,
        "accept_offer",
        actor_kind=ActorKind.CUSTOMER,
        actor=actor,
        action=Action.OFFER_ACCEPTED,
        now=now,
        doing=DOING[CaseAction.ACCEPT_OFFER],
        note=f"The {format_money(offer.amount_cents, offer.currency)} refund was accepted.",
        outcome=CaseOutcome.REFUNDED,
        decided_by_kind=ActorKind.CUSTOMER,
        decided_by=actor,
        offer_pending=False,
    )
    offer.status, offer.answered_at = CaseOffer.Status.ACCEPTED, now
    offer.save(update_fields=["status", "answered_at"])
    refund_settle(
        case=case, actor_kind=ActorKind.MERCHANT, actor=offer.made_by, now=now, amount_cents=offer.amount_cents
    )
    return case


@transaction.atomic
def case_offer_decline(*, case: Case | int, actor, message: str, now: datetime | None = None) -> Case:
    """The customer declines the pending offer with a message (which also answers any question the
    merchant asked): the case is open again and the merchant has a fresh respond_by."""
    now = now_or(now)
    body = clean_text(message, what="why you decline the offer", limit=MAX_MESSAGE)
    case = lock(case)
    case_action_require(case=case, user=actor, action=CaseAction.DECLINE_OFFER, now=now)
    offer = _pending_offer(case)
    if offer is None:
        raise ApplicationError("There is no offer waiting for your answer.")
    move(
        case,
        "decline_offer",
        actor_kind=ActorKind.CUSTOMER,
        actor=actor,
        action=Action.OFFER_DECLINED,
        now=now,
        doing=DOING[CaseAction.DECLINE_OFFER],
        note=body,
        deadline=("respond_by", deadline_from(now, "respond_by")),
        offer_pending=False,
    )
    offer.status, offer.answered_at, offer.answer_message = CaseOffer.Status.DECLINED, now, body
    offer.save(update_fields=["status", "answered_at", "answer_message"])
    message_post(case=case, actor_kind=ActorKind.CUSTOMER, actor=actor, body=body, checked=[], now=now, event=False)
    return case
