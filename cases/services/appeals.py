"""Appeals: once per case, by the side a decision went against, before appeal_by (DOMAIN.md)."""

from datetime import datetime

from django.db import transaction

from ..attachments import attachments_check
from ..expiry_rules import RULE_BY_STATUS
from ..models import Case, CaseEvent
from ..policy import DOING, CaseAction, case_action_require
from .base import MAX_MESSAGE, clean_text, lock, move, now_or
from .deadlines import rule_apply
from .messages import message_post


@transaction.atomic
def case_appeal(*, case: Case | int, actor, statement: str, files=None, now: datetime | None = None) -> Case:
    """The side a decision went against appeals, once, with a statement and up to 3 files of new
    evidence. The statement is also a message (seen by both parties and the reviewers) carrying the
    files; the APPEALED event is its timeline row and notifies the other side."""
    now = now_or(now)
    statement = clean_text(statement, what="why you appeal", limit=MAX_MESSAGE)
    checked = attachments_check(files)
    case = lock(case)
    kind = case_action_require(case=case, user=actor, action=CaseAction.APPEAL, now=now)
    move(
        case,
        "appeal",
        actor_kind=kind,
        actor=actor,
        action=CaseEvent.Action.APPEALED,
        now=now,
        doing=DOING[CaseAction.APPEAL],
        note=statement,
        appealed=True,
        appealed_by_kind=kind,
        escalated_at=now,
    )
    message_post(case=case, actor_kind=kind, actor=actor, body=statement, checked=checked, now=now, event=False)
    return case


@transaction.atomic
def case_appeal_waive(*, case: Case | int, actor, now: datetime | None = None) -> Case:
    """The party that may appeal accepts the decision now: the move the closing appeal window makes."""
    now = now_or(now)
    case = lock(case)
    kind = case_action_require(case=case, user=actor, action=CaseAction.WAIVE_APPEAL, now=now)
    rule_apply(
        case, RULE_BY_STATUS[case.status], actor_kind=kind, actor=actor, action=CaseEvent.Action.APPEAL_WAIVED, now=now
    )
    return case
