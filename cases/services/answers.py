"""The merchant's answers: request more information, accept (refund now), deny, and refund in full
at any stage."""

from datetime import datetime

from django.db import transaction

from payments.models import ActorKind
from resolution_center.exceptions import ApplicationError

from ..attachments import attachments_check
from ..expiry_rules import deadline_from
from ..models import Case, CaseEvent, CaseOutcome, DenialReason
from ..policy import DOING, CaseAction, case_action_require
from .base import MAX_MESSAGE, clean_text, lock, move, now_or
from .messages import message_post
from .offers import LAPSED_ACCEPTED, LAPSED_DENIED, offer_lapse_pending
from .settlement import refund_settle

Action = CaseEvent.Action


@transaction.atomic
def case_request_info(*, case: Case | int, actor, message: str, files=None, now: datetime | None = None) -> Case:
    now = now_or(now)
    body = clean_text(message, what="what information you need", limit=MAX_MESSAGE)
    checked = attachments_check(files)
    case = lock(case)
    case_action_require(case=case, user=actor, action=CaseAction.REQUEST_INFO, now=now)
    move(
        case,
        "request_info",
        actor_kind=ActorKind.MERCHANT,
        actor=actor,
        action=Action.INFO_REQUESTED,
        now=now,
        doing=DOING[CaseAction.REQUEST_INFO],
        note=body,
        deadline=("reply_by", deadline_from(now, "reply_by")),
        info_requests_count=case.info_requests_count + 1,
    )
    message_post(case=case, actor_kind=ActorKind.MERCHANT, actor=actor, body=body, checked=checked, now=now)
    return case


def _merchant_refund_now(
    *, case: Case | int, actor, note: str, now: datetime | None, action: CaseAction, transition: str, event: str
) -> Case:
    """The merchant refunds what is left of the payment now and the case closes as refunded, decided
    by them: Accept on a case still waiting on an answer, Refund in full at any other stage too."""
    now = now_or(now)
    note = clean_text(note, what="a note", limit=MAX_MESSAGE, required=False)
    case = lock(case)
    case_action_require(case=case, user=actor, action=action, now=now)
    offer_lapse_pending(case=case, note=LAPSED_ACCEPTED, now=now)
    move(
        case,
        transition,
        actor_kind=ActorKind.MERCHANT,
        actor=actor,
        action=event,
        now=now,
        doing=DOING[action],
        note=note,
        outcome=CaseOutcome.REFUNDED,
        decided_by_kind=ActorKind.MERCHANT,
        decided_by=actor,
    )
    refund_settle(case=case, actor_kind=ActorKind.MERCHANT, actor=actor, now=now)
    return case


@transaction.atomic
def case_accept(*, case: Case | int, actor, note: str = "", now: datetime | None = None) -> Case:
    """The merchant accepts: what is left of the payment is refunded now and the case closes."""
    return _merchant_refund_now(
        case=case, actor=actor, note=note, now=now, action=CaseAction.ACCEPT, transition="accept", event=Action.ACCEPTED
    )


@transaction.atomic
def case_refund_in_full(*, case: Case | int, actor, note: str = "", now: datetime | None = None) -> Case:
    """The merchant gives up at any stage before the case is final (also while reviewers hold it or
    after a decision): what is left of the payment is refunded now, the case closes as refunded and
    leaves the reviewers' queue."""
    return _merchant_refund_now(
        case=case,
        actor=actor,
        note=note,
        now=now,
        action=CaseAction.REFUND_IN_FULL,
        transition="refund_in_full",
        event=Action.REFUNDED_IN_FULL,
    )


def denial_note(reason: str) -> str:
    """The DENIED event's note: the merchant's reason, in the words the customer reads."""
    return f"Reason: {DenialReason(reason).label}."


@transaction.atomic
def case_deny(*, case: Case | int, actor, reason: str, message: str, files=None, now: datetime | None = None) -> Case:
    """The merchant denies, saying why: one of DenialReason and a message to the customer, with up
    to 3 files. The message (visible to both parties) carries the files; the DENIED event notes the
    reason. A denial by a reviewer or by the customer's silence has no reason (denial_reason stays
    blank): who decided says it instead."""
    now = now_or(now)
    if reason not in DenialReason.values:
        raise ApplicationError("Please choose why you deny the refund.")
    body = clean_text(message, what="a message to the customer explaining the denial", limit=MAX_MESSAGE)
    checked = attachments_check(files)
    case = lock(case)
    case_action_require(case=case, user=actor, action=CaseAction.DENY, now=now)
    offer_lapse_pending(case=case, note=LAPSED_DENIED, now=now)
    move(
        case,
        "deny",
        actor_kind=ActorKind.MERCHANT,
        actor=actor,
        action=Action.DENIED,
        now=now,
        doing=DOING[CaseAction.DENY],
        note=denial_note(reason),
        deadline=("appeal_by", deadline_from(now, "appeal_by")),
        decided_by_kind=ActorKind.MERCHANT,
        decided_by=actor,
        denial_reason=reason,
    )
    # The DENIED event is the timeline row (and the customer's notification) for this message.
    message_post(
        case=case, actor_kind=ActorKind.MERCHANT, actor=actor, body=body, checked=checked, now=now, event=False
    )
    return case
