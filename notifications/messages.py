"""What each notification says, per event and per party: a headline, what happened, what to do next.

Plain string building, no templates: the deadline sweep writes thousands of these per second.
The absolute deadline and the link are added when the email is rendered (in the recipient's own
time zone) and when the in-app list is drawn; they are not part of these texts.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from cases.expiry_rules import REMINDER_WINDOW, RULE_BY_STATUS
from cases.models import CaseEvent, CaseOffer, CaseOutcome, CaseReason, CaseStatus, DenialReason
from payments.models import ActorKind
from resolution_center.formatting import format_money

from .models import NotificationKind as Kind

CUSTOMER = ActorKind.CUSTOMER
MERCHANT = ActorKind.MERCHANT
REVIEWER = ActorKind.REVIEWER
QUOTE_LIMIT = 500
SUBJECT_LIMIT = 200
# Placeholders the set-based path (notifications_for_system_events) fills in with SQL REPLACE, so
# that its wording, too, comes from the functions below.
CASE_ID_TOKEN = "\x1fcase\x1f"
PRODUCT_TOKEN = "\x1fproduct\x1f"
COMPANY_TOKEN = "\x1fcompany\x1f"


@dataclass(frozen=True)
class CaseFacts:
    """The few columns of a case a notification needs, read once per batch."""

    case_id: int
    customer_id: int
    company_id: int
    company_name: str
    product_name: str
    payment_id: int
    reason: str
    outcome: str
    deadline: datetime | None
    appealed_by_kind: str
    # What was left of the payment to refund when the event was recorded (before any refund it starts).
    amount_left_cents: int = 0
    currency: str = ""
    # The merchant's reason when they denied the case (blank for every other denial).
    denial_reason: str = ""


@dataclass(frozen=True)
class Text:
    subject: str
    what_happened: str
    next_step: str


def _quote(note: str) -> str:
    note = " ".join(note.split())
    if len(note) > QUOTE_LIMIT:
        note = note[: QUOTE_LIMIT - 1] + "…"
    return f" They wrote: “{note}”" if note else ""


def _reviewer_quote(note: str) -> str:
    return _quote(note).replace("They wrote", "The reviewer wrote") if note else ""


def _outcome_words(outcome: str, party: str) -> str:
    if outcome == CaseOutcome.REFUNDED:
        return "you are refunded" if party == CUSTOMER else "the customer is refunded"
    if outcome == CaseOutcome.CREDITED:
        return (
            "the amount is credited to your platform balance"
            if party == CUSTOMER
            else "the amount is credited to the customer's platform balance (you pay nothing)"
        )
    return "no refund is made"


def _opened(f: CaseFacts, e: CaseEvent, party: str) -> tuple[str, str, str]:
    reason = CaseReason(f.reason).label if f.reason in CaseReason.values else f.reason
    if party == CUSTOMER:
        return (
            "your refund request was sent to the merchant",
            f"You opened a case ({reason}) and {f.company_name} has been told.",
            f"{f.company_name} has until the deadline to accept, deny or ask you for more information. "
            "If they do not answer in time, the platform's reviewers decide.",
        )
    return (
        "a customer opened a case",
        f"A customer opened a case about their payment ({reason}).",
        "Accept, deny or request more information before the deadline. "
        "If you do not answer in time, the case goes to the platform's reviewers.",
    )


def _info_requested(f: CaseFacts, e: CaseEvent, party: str) -> tuple[str, str, str]:
    return (
        "the merchant needs more information",
        f"{f.company_name} asked you for more information.{_quote(e.note)}",
        "Reply in the case (you can attach files) before the deadline. "
        "Without a reply the case closes in the merchant's favour.",
    )


def _replied(f: CaseFacts, e: CaseEvent, party: str) -> tuple[str, str, str]:
    return (
        "the customer replied",
        "The customer answered your request for more information.",
        "Accept, deny or request more information before the deadline. "
        "If you do not answer in time, the case goes to the platform's reviewers.",
    )


def _offer_of(e: CaseEvent) -> CaseOffer | None:
    """The offer an OFFER_* event is about: the case's latest (one is made or answered at a time)."""
    return CaseOffer.objects.filter(case_id=e.case_id).order_by("-made_at", "-pk").first()


def _offer_amount(offer: CaseOffer | None) -> str:
    return format_money(offer.amount_cents, offer.currency) if offer else "partial"


def _offer_made(f: CaseFacts, e: CaseEvent, party: str) -> tuple[str, str, str]:
    offer = _offer_of(e)
    amount = _offer_amount(offer)
    return (
        f"{f.company_name} offers you a {amount} refund",
        f"{f.company_name} offers you a {amount} refund.{_quote(offer.message if offer else '')}",
        "Open the case and accept the offer (the money is refunded at once and the case closes), or decline "
        "it with a message. Without an answer by the deadline the offer lapses and the case closes in the "
        "merchant's favour.",
    )


def _offer_accepted(f: CaseFacts, e: CaseEvent, party: str) -> tuple[str, str, str]:
    amount = _offer_amount(_offer_of(e))
    return (
        "the customer accepted your offer",
        f"The customer accepted your {amount} refund offer: it is refunded to them now.",
        "Nothing more to do: the refund is on its way to the customer. The case is closed.",
    )


def _offer_declined(f: CaseFacts, e: CaseEvent, party: str) -> tuple[str, str, str]:
    amount = _offer_amount(_offer_of(e))
    another = CaseOffer.objects.filter(case_id=e.case_id).count() < settings.RESOLUTION["MAX_OFFERS"]
    return (
        "the customer declined your offer",
        f"The customer declined your {amount} refund offer.{_quote(e.note)}",
        f"Accept, deny, request more information{' or make another offer' if another else ''} before the "
        "deadline. If you do not answer in time, the case goes to the platform's reviewers.",
    )


def _accepted(f: CaseFacts, e: CaseEvent, party: str) -> tuple[str, str, str]:
    return (
        "your refund was accepted",
        f"{f.company_name} accepted your request and refunded the payment.{_quote(e.note)}",
        "Nothing more to do: the money goes back to the way you paid. The case is closed.",
    )


def _refunded_in_full(f: CaseFacts, e: CaseEvent, party: str) -> tuple[str, str, str]:
    # Nothing left when the payment was already refunded another way: no "$0.00" to read.
    amount = format_money(f.amount_left_cents, f.currency) if f.amount_left_cents > 0 else ""
    to = f": {amount} to your original payment method" if amount else ""
    return (
        "you are refunded in full",
        f"{f.company_name} refunded you in full{to}.{_quote(e.note)}",
        "Nothing more to do: the money is on its way back to the way you paid. The case is closed.",
    )


def _denied(f: CaseFacts, e: CaseEvent, party: str) -> tuple[str, str, str]:
    if f.denial_reason in DenialReason.values:
        reason = DenialReason(f.denial_reason).label
        return (
            f"your refund request was denied ({reason.lower()})",
            f"{f.company_name} denied your request. Their reason: {reason}. "
            "Their message, and any files they sent, are at the top of your case page.",
            "If you disagree, appeal once to the platform before the deadline; otherwise the decision becomes final.",
        )
    # A denial recorded before reasons were required: its note was the merchant's message.
    return (
        "your refund request was denied",
        f"{f.company_name} denied your request.{_quote(e.note)}",
        "If you disagree, appeal once to the platform before the deadline; otherwise the decision becomes final.",
    )


def _withdrawn(f: CaseFacts, e: CaseEvent, party: str) -> tuple[str, str, str]:
    return (
        "the customer withdrew the case",
        "The customer withdrew their refund request.",
        "Nothing more to do. The case is closed.",
    )


def _auto_refunded(f: CaseFacts, e: CaseEvent, party: str) -> tuple[str, str, str]:
    if party == CUSTOMER:
        return (
            "you were refunded automatically",
            f"Your payment to {f.company_name} was refunded automatically. {e.note}".strip(),
            "Nothing more to do: the money goes back to the way you paid. The case is closed.",
        )
    return (
        "a case was refunded automatically",
        f"A customer opened a case and it was refunded automatically. {e.note}".strip(),
        "Nothing to do. You can change the thresholds in your auto respond settings.",
    )


def _escalated(f: CaseFacts, e: CaseEvent, party: str) -> tuple[str, str, str]:
    if party == CUSTOMER:
        return (
            "the platform will decide",
            f"{f.company_name} did not answer in time, so the case went to the platform's reviewers.",
            "Nothing to do for now: a reviewer decides from everything in the case. "
            "You can still add messages and files.",
        )
    return (
        "escalated to the platform",
        "You did not answer in time, so the case went to the platform's reviewers.",
        "A reviewer decides from everything in the case. You can still add messages and files.",
    )


def _reply_expired(f: CaseFacts, e: CaseEvent, party: str) -> tuple[str, str, str]:
    if party == CUSTOMER:
        return (
            "closed because there was no reply",
            "You did not reply to the merchant's question in time, so the case was decided in their favour.",
            "If you disagree, appeal once to the platform before the deadline; otherwise the decision becomes final.",
        )
    return (
        "closed in your favour: no reply",
        "The customer did not reply in time, so the case was decided in your favour.",
        "The customer may appeal once before the deadline; otherwise the decision becomes final.",
    )


def _decided(f: CaseFacts, e: CaseEvent, party: str) -> tuple[str, str, str]:
    note = _reviewer_quote(e.note)
    if e.from_state == CaseStatus.APPEALED:
        return (
            "the appeal was decided",
            f"A reviewer decided the appeal: {_outcome_words(f.outcome, party)}.{note}",
            "This decision is final. The case is closed.",
        )
    if e.to_state == CaseStatus.ACCEPTED:
        if party == CUSTOMER:
            return (
                "the platform decided you should be refunded",
                f"A reviewer decided you should be refunded.{note}",
                "The merchant may appeal once before the deadline; otherwise you are refunded automatically.",
            )
        return (
            "the platform decided on a refund",
            f"A reviewer decided the customer should be refunded.{note}",
            "You may appeal once before the deadline; otherwise the refund is made automatically.",
        )
    if e.to_state == CaseStatus.DENIED:
        if party == CUSTOMER:
            return (
                "the platform decided for the merchant",
                f"A reviewer decided in the merchant's favour.{note}",
                "If you disagree, appeal once before the deadline; otherwise the decision becomes final.",
            )
        return (
            "the platform decided in your favour",
            f"A reviewer decided in your favour.{note}",
            "The customer may appeal once before the deadline; otherwise the decision becomes final.",
        )
    return (
        "the platform credited your balance" if party == CUSTOMER else "the platform credited the customer",
        f"A reviewer decided: {_outcome_words(f.outcome, party)}.{note}",
        "Nothing more to do. The case is closed.",
    )


def _appealed(f: CaseFacts, e: CaseEvent, party: str) -> tuple[str, str, str]:
    who = "The customer" if e.actor_kind == CUSTOMER else f.company_name if party == CUSTOMER else "The merchant"
    return (
        "the decision was appealed",
        f"{who} appealed the decision.{_quote(e.note)}",
        "A reviewer looks at the case again; their next decision is final. You can add messages and files.",
    )


def _appeal_waived(f: CaseFacts, e: CaseEvent, party: str) -> tuple[str, str, str]:
    who = "The customer" if e.actor_kind == CUSTOMER else f.company_name if party == CUSTOMER else "The merchant"
    return (
        "the decision is final",
        f"{who} accepted the decision without appealing, so it is final: {_outcome_words(f.outcome, party)}.",
        "Nothing more to do. The case is closed.",
    )


def _finalized(f: CaseFacts, e: CaseEvent, party: str) -> tuple[str, str, str]:
    return (
        "the decision is final",
        f"Nobody appealed in time, so the decision is final: {_outcome_words(f.outcome, party)}.",
        "Nothing more to do. The case is closed.",
    )


def _reviewer_message(f: CaseFacts, e: CaseEvent, party: str) -> tuple[str, str, str]:
    return (
        "a message from the platform",
        f"A platform reviewer wrote in the case.{_reviewer_quote(e.note)}",
        "If they asked you something, answer with a message in the case.",
    )


def message_author(company_name: str, actor_kind: str, party: str) -> str:
    """Who wrote a message, as the recipient (``party``) calls them."""
    if actor_kind == CUSTOMER:
        return "The customer"
    if actor_kind == MERCHANT:
        return company_name if party == CUSTOMER else f"The merchant ({company_name})"
    return "A platform reviewer" if party != REVIEWER else "Another reviewer"


def _message(f: CaseFacts, e: CaseEvent, party: str) -> tuple[str, str, str]:
    who = message_author(f.company_name, e.actor_kind, party)
    quoted = _quote(e.note).removeprefix(" They wrote:")
    wrote = f"{who} wrote:{quoted}" if quoted else f"{who} sent files in the case."
    # "The customer" reads "the customer" mid-sentence; a company's name keeps its capital.
    named = who if party == CUSTOMER and e.actor_kind == MERCHANT else who[0].lower() + who[1:]
    if party == REVIEWER:
        return (f"new message from {named}", wrote, "Read it in the case before you decide.")
    return (f"new message from {named}", wrote, "Read it and answer with a message in the case if you need to.")


# What the reminded side should do before the deadline; "to answer" etc. and who is reminded are
# declared with the rule in cases/expiry_rules.py.
REMINDER_NEXT_STEP = {
    CaseStatus.OPEN: "Accept, deny or request more information before the deadline, or the platform decides.",
    CaseStatus.INFO_REQUESTED: (
        # Also when the merchant's partial refund offer waits (it lapses at the same deadline).
        "Reply to the merchant's question (or answer their offer) before the deadline, or the case closes in "
        "their favour."
    ),
    CaseStatus.ACCEPTED: "Appeal before the deadline if you disagree; otherwise the refund is made.",
    CaseStatus.DENIED: "Appeal before the deadline if you disagree; otherwise the decision is final.",
}


def _reminder(f: CaseFacts, e: CaseEvent, party: str) -> tuple[str, str, str]:
    to_do = RULE_BY_STATUS[e.to_state].to_do
    hours = int(REMINDER_WINDOW.total_seconds() // 3600)
    return (
        f"less than {hours} hours left {to_do}",
        f"The deadline {to_do} is less than {hours} hours away.",
        REMINDER_NEXT_STEP[e.to_state],
    )


COMPOSERS = {
    Kind.OPENED: _opened,
    Kind.INFO_REQUESTED: _info_requested,
    Kind.REPLIED: _replied,
    Kind.OFFER_MADE: _offer_made,
    Kind.OFFER_ACCEPTED: _offer_accepted,
    Kind.OFFER_DECLINED: _offer_declined,
    Kind.ACCEPTED: _accepted,
    Kind.REFUNDED_IN_FULL: _refunded_in_full,
    Kind.DENIED: _denied,
    Kind.WITHDRAWN: _withdrawn,
    Kind.AUTO_REFUNDED: _auto_refunded,
    Kind.ESCALATED: _escalated,
    Kind.REPLY_EXPIRED: _reply_expired,
    Kind.DECIDED: _decided,
    Kind.APPEALED: _appealed,
    Kind.APPEAL_WAIVED: _appeal_waived,
    Kind.FINALIZED: _finalized,
    Kind.REVIEWER_MESSAGE: _reviewer_message,
    Kind.MESSAGE: _message,
    Kind.REMINDER: _reminder,
}


def _compose(kind: str, party: str, facts: CaseFacts, event: CaseEvent) -> Text:
    headline, what_happened, next_step = COMPOSERS[kind](facts, event, party)
    product = f" ({facts.product_name})" if facts.product_name else ""
    return Text(subject=f"Case #{facts.case_id}{product}: {headline}", what_happened=what_happened, next_step=next_step)


def compose(*, kind: str, party: str, facts: CaseFacts, event: CaseEvent) -> Text:
    text = _compose(kind, party, facts, event)
    return Text(text.subject[:SUBJECT_LIMIT], text.what_happened, text.next_step)


def compose_template(*, kind: str, party: str, event: CaseEvent, outcome: str = "") -> Text:
    """The same texts with the case number, product and company left as placeholders (untruncated):
    for notices whose wording depends on nothing else about the case (the sweep's)."""
    facts = CaseFacts(
        case_id=CASE_ID_TOKEN,
        customer_id=0,
        company_id=0,
        company_name=COMPANY_TOKEN,
        product_name=PRODUCT_TOKEN,
        payment_id=0,
        reason="",
        outcome=outcome,
        deadline=None,
        appealed_by_kind="",
    )
    return _compose(kind, party, facts, event)
