"""The clock, case by case: each move is the one its ExpiryRule (cases/expiry_rules.py) declares,
the same one the set-based sweep (cases/sweeps.py) writes for thousands of cases at once."""

from datetime import datetime

from django.db import transaction

from payments.models import ActorKind

from ..expiry_rules import (
    DENY_UNANSWERED,
    ESCALATE,
    EXPIRY_RULES,
    FINALIZE_DENIAL,
    FINALIZE_REFUND,
    RULE_BY_STATUS,
    ExpiryRule,
)
from ..models import Case
from .base import lock, move, now_or
from .offers import LAPSED_UNANSWERED, offer_lapse_pending
from .settlement import refund_settle


def rule_apply(case: Case, rule: ExpiryRule, *, actor_kind: str, actor, action: str, now: datetime) -> None:
    """Make ``rule``'s move on a locked case: by the clock, or by the party who waives the appeal
    (the same target and outcome); a reviewer's refund is paid here. A pending offer lapses first
    (the sweep writes the same rows in bulk)."""
    if rule.lapses_offer:
        offer_lapse_pending(case=case, note=LAPSED_UNANSWERED, now=now)
    move(
        case,
        rule.transition,
        actor_kind=actor_kind,
        actor=actor,
        action=action,
        now=now,
        doing="make the decision final" if rule.outcome else f"move it to {rule.to_status}",
        note=rule.note() if action == rule.action else "",
        **rule.fields(now),
    )
    if rule.settles_refund:
        # The reviewer who decided the refund initiated it, whoever ends the appeal window.
        refund_settle(case=case, actor_kind=ActorKind.REVIEWER, actor=case.decided_by, now=now)


@transaction.atomic
def case_expire(*, case: Case | int, now: datetime | None = None, only: tuple[ExpiryRule, ...] = EXPIRY_RULES) -> bool:
    """The running deadline passed: apply the case's expiry rule (one of ``only``). False if the
    case was answered first or its deadline has not passed (then nothing changes)."""
    now = now_or(now)
    case = lock(case)
    rule = RULE_BY_STATUS.get(case.status)
    if rule is None or rule not in only:
        return False
    deadline = getattr(case, rule.deadline_field)
    if deadline is None or not deadline < now:
        return False
    rule_apply(case, rule, actor_kind=ActorKind.SYSTEM, actor=None, action=rule.action, now=now)
    return True


# One clock each (the sweep's fallback and the tests name them).
def case_escalate_overdue(*, case: Case | int, now: datetime | None = None) -> bool:
    return case_expire(case=case, now=now, only=(ESCALATE,))


def case_deny_unanswered(*, case: Case | int, now: datetime | None = None) -> bool:
    return case_expire(case=case, now=now, only=(DENY_UNANSWERED,))


def case_finalize_expired(*, case: Case | int, now: datetime | None = None) -> bool:
    return case_expire(case=case, now=now, only=(FINALIZE_DENIAL, FINALIZE_REFUND))
