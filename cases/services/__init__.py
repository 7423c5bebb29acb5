"""Every write to a case: one function per action in DOMAIN.md's transition table, grouped by
family — opening, the merchant's answers, partial refund offers, the customer's moves, appeals, reviewers' decisions,
the clock (deadlines) and the settlement of money.

Each action runs in one transaction, locks the case row (``SELECT … FOR UPDATE`` on PostgreSQL;
SQLite's IMMEDIATE transactions serialise writers), asks the one action policy (cases.policy) and
raises its refusal as an ``ApplicationError``, saves through django-fsm's compare-and-set, appends
exactly one timeline event per state change, and computes deadlines from the injectable ``now``
and the durations in settings. Notifications are recorded in the same transaction by the
notifications app, which listens to cases.signals.
"""

from .answers import case_accept, case_deny, case_refund_in_full, case_request_info
from .appeals import case_appeal, case_appeal_waive
from .base import MAX_DESCRIPTION, MAX_MESSAGE
from .customer import case_reply, case_withdraw
from .deadlines import case_deny_unanswered, case_escalate_overdue, case_expire, case_finalize_expired
from .housekeeping import HousekeepingResult, evidence_orphans_purge, form_tokens_purge, housekeeping_run
from .messages import case_message_post
from .offers import case_offer, case_offer_accept, case_offer_decline, offer_amount_refusal
from .opening import auto_refund_terms, case_open, case_open_refusal
from .reads import case_mark_seen
from .reviewers import Decision, case_decide, case_decide_appeal, case_reviewer_info_request
from .settlement import RefundsSent, refund_retry, refunds_send, refunds_send_due

__all__ = [
    "MAX_DESCRIPTION",
    "MAX_MESSAGE",
    "Decision",
    "HousekeepingResult",
    "RefundsSent",
    "auto_refund_terms",
    "case_accept",
    "case_appeal",
    "case_appeal_waive",
    "case_decide",
    "case_decide_appeal",
    "case_deny",
    "case_deny_unanswered",
    "case_escalate_overdue",
    "case_expire",
    "case_finalize_expired",
    "case_mark_seen",
    "case_message_post",
    "case_offer",
    "case_offer_accept",
    "case_offer_decline",
    "case_open",
    "case_open_refusal",
    "case_refund_in_full",
    "case_reply",
    "case_request_info",
    "case_reviewer_info_request",
    "case_withdraw",
    "evidence_orphans_purge",
    "form_tokens_purge",
    "housekeeping_run",
    "offer_amount_refusal",
    "refund_retry",
    "refunds_send",
    "refunds_send_due",
]
