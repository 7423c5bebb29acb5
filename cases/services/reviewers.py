"""The platform reviewers' decisions and questions (Django admin calls these)."""

from datetime import datetime

from django.db import transaction

from payments.models import ActorKind
from resolution_center.exceptions import ApplicationError

from ..expiry_rules import deadline_from
from ..models import Case, CaseEvent, CaseOutcome, Message, Visibility
from ..policy import DOING, CaseAction, case_action_require, user_is_reviewer
from .base import MAX_MESSAGE, clean_text, lock, move, now_or
from .messages import message_post
from .settlement import credit_settle, refund_settle

Action = CaseEvent.Action


class Decision:
    REFUND = "refund"
    CREDIT = "credit"
    MERCHANT_WINS = "merchant_wins"
    CHOICES = [
        (REFUND, "Refund the customer (the merchant pays)"),
        (CREDIT, "Credit the customer's platform balance"),
        (MERCHANT_WINS, "Merchant wins"),
    ]
    VALUES = {REFUND, CREDIT, MERCHANT_WINS}


def _clean_decision(decision: str, note: str) -> str:
    if decision not in Decision.VALUES:
        raise ApplicationError("Please choose refund, credit or merchant wins.")
    return clean_text(note, what="a note to the parties explaining the decision", limit=MAX_MESSAGE)


def _lock_as_reviewer(case: Case | int, actor, action: CaseAction, now: datetime) -> Case:
    # Someone who is not a reviewer learns nothing about the case, not even whether it exists.
    if not user_is_reviewer(actor):
        case = Case(pk=case if isinstance(case, int) else case.pk)
        case_action_require(case=case, user=actor, action=action, now=now)
    case = lock(case)
    case_action_require(case=case, user=actor, action=action, now=now)
    return case


@transaction.atomic
def case_decide(*, case: Case | int, actor, decision: str, note: str, now: datetime | None = None) -> Case:
    """A reviewer decides an escalated case. A refund waits out the merchant's appeal window;
    a credit costs the merchant nothing and is final at once."""
    now = now_or(now)
    note = _clean_decision(decision, note)
    case = _lock_as_reviewer(case, actor, CaseAction.DECIDE, now)
    common = {
        "actor_kind": ActorKind.REVIEWER,
        "actor": actor,
        "action": Action.DECIDED,
        "now": now,
        "doing": DOING[CaseAction.DECIDE],
        "note": note,
        "decided_by_kind": ActorKind.REVIEWER,
        "decided_by": actor,
    }
    if decision == Decision.REFUND:
        move(case, "decide_refund", deadline=("appeal_by", deadline_from(now, "appeal_by")), **common)
    elif decision == Decision.CREDIT:
        move(case, "decide_credit", outcome=CaseOutcome.CREDITED, **common)
        credit_settle(case=case, actor=actor, now=now)
    else:
        move(case, "decide_merchant_wins", deadline=("appeal_by", deadline_from(now, "appeal_by")), **common)
    return case


@transaction.atomic
def case_decide_appeal(*, case: Case | int, actor, decision: str, note: str, now: datetime | None = None) -> Case:
    """A reviewer's decision on an appeal is final; money moves now."""
    now = now_or(now)
    note = _clean_decision(decision, note)
    case = _lock_as_reviewer(case, actor, CaseAction.DECIDE_APPEAL, now)
    outcome = {
        Decision.REFUND: CaseOutcome.REFUNDED,
        Decision.CREDIT: CaseOutcome.CREDITED,
        Decision.MERCHANT_WINS: CaseOutcome.DENIED,
    }[decision]
    move(
        case,
        "decide_appeal",
        actor_kind=ActorKind.REVIEWER,
        actor=actor,
        action=Action.DECIDED,
        now=now,
        doing=DOING[CaseAction.DECIDE_APPEAL],
        note=note,
        outcome=outcome,
        decided_by_kind=ActorKind.REVIEWER,
        decided_by=actor,
    )
    if decision == Decision.REFUND:
        refund_settle(case=case, actor_kind=ActorKind.REVIEWER, actor=actor, now=now)
    elif decision == Decision.CREDIT:
        credit_settle(case=case, actor=actor, now=now)
    return case


@transaction.atomic
def case_reviewer_info_request(
    *, case: Case | int, actor, party: str, message: str, now: datetime | None = None
) -> Message:
    """A reviewer asks one party for more information; the case stays with the reviewers."""
    now = now_or(now)
    body = clean_text(message, what="what information you need", limit=MAX_MESSAGE)
    if party not in (ActorKind.CUSTOMER, ActorKind.MERCHANT):
        raise ApplicationError("Please choose whether to ask the customer or the merchant.")
    case = _lock_as_reviewer(case, actor, CaseAction.ASK_PARTY, now)
    visibility = Visibility.CUSTOMER if party == ActorKind.CUSTOMER else Visibility.MERCHANT
    return message_post(
        case=case,
        actor_kind=ActorKind.REVIEWER,
        actor=actor,
        body=body,
        checked=[],
        visibility=visibility,
        now=now,
        alone=True,
    )
