"""The customer's moves: reply to an information request, withdraw."""

from datetime import datetime

from django.db import transaction

from payments.models import ActorKind

from ..attachments import attachments_check
from ..expiry_rules import deadline_from
from ..models import Case, CaseEvent, CaseOutcome
from ..policy import DOING, CaseAction, case_action_require
from .base import MAX_MESSAGE, clean_text, lock, move, now_or
from .messages import message_post
from .offers import LAPSED_WITHDRAWN, offer_lapse_pending

Action = CaseEvent.Action


@transaction.atomic
def case_reply(*, case: Case | int, actor, message: str, files=None, now: datetime | None = None) -> Case:
    """The customer answers an info request; the merchant's clock starts again."""
    now = now_or(now)
    body = clean_text(message, what="your reply", limit=MAX_MESSAGE)
    checked = attachments_check(files)
    case = lock(case)
    case_action_require(case=case, user=actor, action=CaseAction.REPLY, now=now)
    move(
        case,
        "reply",
        actor_kind=ActorKind.CUSTOMER,
        actor=actor,
        action=Action.REPLIED,
        now=now,
        doing=DOING[CaseAction.REPLY],
        deadline=("respond_by", deadline_from(now, "respond_by")),
    )
    message_post(case=case, actor_kind=ActorKind.CUSTOMER, actor=actor, body=body, checked=checked, now=now)
    return case


@transaction.atomic
def case_withdraw(*, case: Case | int, actor, now: datetime | None = None) -> Case:
    now = now_or(now)
    case = lock(case)
    case_action_require(case=case, user=actor, action=CaseAction.WITHDRAW, now=now)
    offer_lapse_pending(case=case, note=LAPSED_WITHDRAWN, now=now)
    move(
        case,
        "withdraw",
        actor_kind=ActorKind.CUSTOMER,
        actor=actor,
        action=Action.WITHDRAWN,
        now=now,
        doing=DOING[CaseAction.WITHDRAW],
        outcome=CaseOutcome.WITHDRAWN,
        decided_by_kind=ActorKind.CUSTOMER,
        decided_by=actor,
    )
    return case
