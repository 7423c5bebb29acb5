"""What a case's state means in plain words, for each party, and which deadline applies."""

from dataclasses import dataclass
from datetime import datetime

from payments.models import ActorKind

from .models import Case, CaseOutcome, CaseStatus


@dataclass(frozen=True)
class StatusText:
    headline: str
    meaning: str
    next_step: str
    deadline: datetime | None
    deadline_label: str


def _final_text(case: Case) -> tuple[str, str]:
    return {
        CaseOutcome.REFUNDED: ("Refunded", "The payment was refunded. The case is closed."),
        CaseOutcome.CREDITED: ("Credited", "The amount was credited to the customer's platform balance."),
        CaseOutcome.DENIED: ("Closed: refund denied", "The refund was denied and the case is closed."),
        CaseOutcome.WITHDRAWN: ("Withdrawn", "The customer withdrew the request. The case is closed."),
    }.get(case.outcome, ("Closed", "The case is closed."))


def status_text(case: Case, viewer: str) -> StatusText:
    """``viewer`` is an ActorKind: customer, merchant or reviewer."""
    s = case.status
    customer = viewer == ActorKind.CUSTOMER
    if s == CaseStatus.OPEN:
        return StatusText(
            "Waiting for the merchant",
            "The merchant has 7 days to accept, deny or ask for more information.",
            "You can add a message or withdraw the request."
            if customer
            else "Accept, deny or request more information before the deadline, or the platform decides.",
            case.respond_by,
            "Merchant must answer by",
        )
    if s == CaseStatus.INFO_REQUESTED:
        return StatusText(
            "More information requested",
            "The merchant asked for more information.",
            "Reply with the details (and files) before the deadline, or the case closes in the merchant's favour."
            if customer
            else "The customer has 7 days to reply; without a reply the case is denied.",
            case.reply_by,
            "Customer must reply by",
        )
    if s == CaseStatus.ESCALATED:
        return StatusText(
            "With the platform's reviewers",
            "The case was escalated to the platform's reviewers.",
            "A reviewer will decide from everything in the case. Both parties will be notified.",
            None,
            "",
        )
    if s == CaseStatus.ACCEPTED:
        return StatusText(
            "Refund decided by the platform",
            "A reviewer decided the customer should be refunded.",
            "The merchant may appeal once before the deadline; otherwise the refund is made."
            if customer
            else "You may appeal once before the deadline; otherwise the refund is made automatically.",
            case.appeal_by,
            "Appeal possible until",
        )
    if s == CaseStatus.DENIED:
        return StatusText(
            "Refund denied",
            "The refund was denied.",
            "You may appeal once to the platform before the deadline; otherwise the decision becomes final."
            if customer
            else "The customer may appeal once before the deadline; otherwise the decision becomes final.",
            case.appeal_by,
            "Appeal possible until",
        )
    if s == CaseStatus.APPEALED:
        return StatusText(
            "Appealed",
            "The decision was appealed; a reviewer is looking at the case again.",
            "The reviewer's next decision is final.",
            None,
            "",
        )
    headline, meaning = _final_text(case)
    return StatusText(headline, meaning, "Nothing more to do.", None, "")
