"""The case and its timeline as the API shows them: Whop's ``ResolutionCenterCase`` and
``ResolutionEvent`` (whop-sdk 2.6.0, the contract), with our richer fields alongside as extras.

THE one mapping from our model to Whop's vocabulary (docs/api.md has it as tables): the API's
responses and the webhooks' ``data`` are both built here, so a case reads the same everywhere.

- ids carry Whop's prefixes over our row ids: ``reso_``, ``pay_``, ``user_``, ``biz_``, ``prod_``,
  ``revt_``, ``att_``;
- ``status`` names who the case waits on (Whop's four), ``state`` is our precise FSM state;
- ``reason`` and ``outcome`` use Whop's words, ``reason_code``/``outcome_code`` ours;
- amounts as Whop sends them (a decimal number in the currency) plus our integer minor units;
- ``available_actions`` come from the one action policy (cases.policy), renamed to the API's verbs.
"""

from collections.abc import Iterable
from datetime import UTC, datetime

from cases.models import Case, CaseEvent, CaseOffer, CaseOutcome, CaseReason, CaseStatus, Visibility
from cases.policy import CaseAction
from payments.models import ActorKind
from resolution_center.formatting import MINOR_UNITS, minor_units_to_decimal

S = CaseStatus

# --- ids -------------------------------------------------------------------------------------------

CASE_PREFIX = "reso_"
PAYMENT_PREFIX = "pay_"
USER_PREFIX = "user_"
COMPANY_PREFIX = "biz_"
PRODUCT_PREFIX = "prod_"
EVENT_PREFIX = "revt_"
ATTACHMENT_PREFIX = "att_"
LINE_ITEM_PREFIX = "li_"


def public_id(prefix: str, pk: int | None) -> str | None:
    return None if pk is None else f"{prefix}{pk}"


def public_id_parse(prefix: str, text: str | None) -> int | None:
    """``reso_42`` -> 42; None for anything else (another prefix, not digits, past a bigint)."""
    if not text or not text.startswith(prefix):
        return None
    digits = text[len(prefix) :]
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 18:
        return None
    return int(digits)


# --- vocabularies ------------------------------------------------------------------------------------

# Who the case waits on, in Whop's four words. A decided case that may still be appealed waits on
# the side that may appeal (a denial on the customer, a reviewer's refund on the merchant).
STATUS = {
    S.OPEN: "awaiting_merchant",
    S.INFO_REQUESTED: "awaiting_customer",
    S.ESCALATED: "under_review",
    S.ACCEPTED: "awaiting_merchant",
    S.DENIED: "awaiting_customer",
    S.APPEALED: "under_review",
    S.FINAL: "closed",
}
API_STATUSES = ("awaiting_merchant", "awaiting_customer", "under_review", "closed")

REASON = {
    CaseReason.NOT_RECEIVED: "product_not_received",
    CaseReason.NOT_AS_DESCRIBED: "not_as_described",
    CaseReason.UNAUTHORIZED: "fraudulent",
    CaseReason.POOR_QUALITY: "product_unacceptable",
    CaseReason.FORGOT_TO_CANCEL: "subscription_canceled",
}
REASON_FROM_API = {api: ours for ours, api in REASON.items()}

OUTCOME = {
    CaseOutcome.REFUNDED: "customer_won",
    CaseOutcome.CREDITED: "customer_won",
    CaseOutcome.DENIED: "merchant_won",
    CaseOutcome.WITHDRAWN: "withdrawn",
}
API_OUTCOMES = ("customer_won", "merchant_won", "withdrawn")

# Whose money moved once the case is closed (Whop's ``refund``): the merchant refunds, the platform
# credits the customer's balance.
REFUND_SOURCE = {
    CaseOutcome.REFUNDED: "merchant",
    CaseOutcome.CREDITED: "platform",
    CaseOutcome.DENIED: "none",
    CaseOutcome.WITHDRAWN: "none",
}

# The policy's actions under the API's verbs. Whop's ``reply`` is a message from either side; for the
# customer answering an information request it is our Reply. Reviewers' actions are not the API's.
ACTION = {
    CaseAction.ACCEPT: "accept",
    CaseAction.DENY: "deny",
    CaseAction.REQUEST_INFO: "request_info",
    CaseAction.REPLY: "reply",
    CaseAction.MESSAGE: "reply",
    CaseAction.WITHDRAW: "withdraw",
    CaseAction.APPEAL: "appeal",
    CaseAction.WAIVE_APPEAL: "waive_appeal",
    CaseAction.REFUND_IN_FULL: "refund",
    CaseAction.OFFER: "offer",
    CaseAction.ACCEPT_OFFER: "accept_offer",
    CaseAction.DECLINE_OFFER: "decline_offer",
}
REVIEWER_ACTIONS = {"decide", "decide_appeal", "ask_party"}

REPORTER = {
    ActorKind.CUSTOMER: "customer",
    ActorKind.MERCHANT: "merchant",
    ActorKind.REVIEWER: "platform",
    ActorKind.SYSTEM: "system",
}

A = CaseEvent.Action
# Our timeline actions in Whop's event vocabulary where one fits; our own word otherwise (the SDK's
# ``ResolutionEventAction`` accepts any string). ``kind`` always carries ours.
EVENT_ACTION = {
    A.OPENED: "created",
    A.INFO_REQUESTED: "requested_more_info",
    A.REPLIED: "responded",
    A.MESSAGE: "responded",
    A.FILE: "responded",
    A.ACCEPTED: "accepted",
    A.REFUNDED_IN_FULL: "accepted",
    A.AUTO_REFUNDED: "accepted",
    A.DENIED: "denied",
    A.REPLY_EXPIRED: "denied",
    A.WITHDRAWN: "withdrew",
    A.ESCALATED: "escalated",
    A.APPEALED: "appealed",
}


def api_actions(available_actions: Iterable) -> list[str]:
    """The policy's allowed actions (CaseAction or their values) as the API's verbs, each once, in
    the policy's order; reviewers' actions are left out."""
    result: list[str] = []
    for action in available_actions:
        value = action.value if hasattr(action, "value") else str(action)
        if value in REVIEWER_ACTIONS:
            continue
        verb = ACTION.get(value, value)
        if verb not in result:
            result.append(verb)
    return result


# --- formats -----------------------------------------------------------------------------------------


def iso(value: datetime | None) -> str | None:
    """An ISO 8601 timestamp in UTC (``2026-11-30T02:00:00Z``), the API's one date format."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def amount(amount_cents: int, currency: str) -> float:
    """Minor units as Whop sends amounts: a decimal number in the currency (1250 USD -> 12.5)."""
    return float(minor_units_to_decimal(amount_cents, currency))


def money(amount_cents: int, currency: str) -> dict:
    """Whop's ``Money`` object (a line item's subtotal)."""
    digits = MINOR_UNITS.get(currency, 2)
    return {
        "amount": f"{minor_units_to_decimal(amount_cents, currency):.{digits}f}",
        "currency": currency.lower(),
        "decimals": digits,
        "display_decimals": digits,
    }


# --- the case ----------------------------------------------------------------------------------------


def _buyer(user) -> dict:
    return {
        "user_id": public_id(USER_PREFIX, user.pk),
        "member_id": None,
        "name": user.get_full_name() or user.get_username(),
        "username": user.get_username(),
        "email": user.email or None,
    }


def _payment(payment) -> dict:
    return {
        "id": public_id(PAYMENT_PREFIX, payment.pk),
        "created_at": iso(payment.paid_at),
        "payment_method_type": payment.method,
        "card_brand": None,
        "card_last4": None,
        # Ours: what was paid and what has been refunded so far, both ways.
        "amount": amount(payment.amount_cents, payment.currency),
        "amount_cents": payment.amount_cents,
        "currency": payment.currency.lower(),
        "refunded_amount": amount(payment.refunded_cents, payment.currency),
        "refunded_cents": payment.refunded_cents,
    }


def _line_items(payment) -> list[dict]:
    product = payment.product
    return [
        {
            "id": public_id(LINE_ITEM_PREFIX, payment.pk),
            "label": product.name,
            "plan_id": None,
            "plan_title": None,
            "product_id": public_id(PRODUCT_PREFIX, product.pk),
            "product_title": product.name,
            "quantity": 1,
            "sku": None,
            "subtotal": money(payment.amount_cents, payment.currency),
        }
    ]


def _pending_offer(case: Case) -> dict | None:
    if not case.offer_pending:
        return None
    offer = case.offers.filter(status=CaseOffer.Status.PENDING).first()
    if offer is None:
        return None
    return {
        "amount": amount(offer.amount_cents, offer.currency),
        "amount_cents": offer.amount_cents,
        "currency": offer.currency.lower(),
        "message": offer.message,
        "made_at": iso(offer.made_at),
        "reply_by": iso(case.reply_by),
    }


def _waiting_on(case: Case) -> str | None:
    status = STATUS[case.status]
    if status == "awaiting_merchant":
        return "merchant"
    if status == "awaiting_customer":
        return "customer"
    if status == "under_review":
        return "platform"
    return None


def case_representation(case: Case, *, viewer_party: str | None, available_actions: Iterable) -> dict:
    """The case as Whop's ``ResolutionCenterCase`` plus our extras.

    ``viewer_party``: the side the caller reads it as (``"merchant"``, ``"customer"``; ``None`` for a
    webhook, which goes to the merchant's endpoint and reads as the merchant).
    ``available_actions``: what the caller may do now, from ``case_actions_for(...).allowed`` (pass
    ``()`` when nobody in particular asks, as a webhook does)."""
    payment = case.payment
    company = case.company
    currency = payment.currency
    party = viewer_party or ActorKind.MERCHANT
    waiting_on = _waiting_on(case)
    return {
        # --- Whop's fields ---
        "id": public_id(CASE_PREFIX, case.pk),
        "status": STATUS[case.status],
        "reason": REASON[case.reason],
        "outcome": OUTCOME.get(case.outcome) if case.outcome else None,
        "refund": REFUND_SOURCE.get(case.outcome) if case.status == S.FINAL else None,
        "amount": amount(payment.amount_cents, currency),
        "currency": currency.lower(),
        "account": {"id": public_id(COMPANY_PREFIX, company.pk), "title": company.name},
        "buyer": _buyer(case.customer),
        "payment": _payment(payment),
        "line_items": _line_items(payment),
        "plan_id": None,
        "product_id": public_id(PRODUCT_PREFIX, payment.product_id),
        "available_actions": api_actions(available_actions),
        "customer_appealed": case.appealed and case.appealed_by_kind == ActorKind.CUSTOMER,
        "escalated": case.escalated_at is not None or case.status in (S.ESCALATED, S.APPEALED),
        "response_due_at": iso(case.next_deadline_at),
        "created_at": iso(case.opened_at),
        "updated_at": iso(case.updated_at),
        # --- ours ---
        "object": "resolution_center_case",
        "state": case.status,
        "reason_code": case.reason,
        "outcome_code": case.outcome or None,
        "description": case.description,
        "company_id": public_id(COMPANY_PREFIX, company.pk),
        "amount_cents": payment.amount_cents,
        "refunded_amount": amount(payment.refunded_cents, currency),
        "refunded_cents": payment.refunded_cents,
        "waiting_on": waiting_on,
        "waiting_on_you": waiting_on == party,
        "deadlines": {
            "respond_by": iso(case.respond_by),
            "reply_by": iso(case.reply_by),
            "appeal_by": iso(case.appeal_by),
        },
        "information_requests_left": case.info_requests_left,
        "appeal": {
            "appealed": case.appealed,
            "appealed_by": case.appealed_by_kind or None,
            "appeal_by": iso(case.appeal_by) if case.status in (S.ACCEPTED, S.DENIED) else None,
        },
        "denial_reason": case.denial_reason or None,
        "offers_made": case.offers_count,
        "pending_offer": _pending_offer(case),
        "auto_refunded": case.auto_refunded,
        "escalated_at": iso(case.escalated_at),
        "closed_at": iso(case.closed_at),
    }


# --- the timeline ------------------------------------------------------------------------------------


def event_visible_to(event: CaseEvent, party: str) -> bool:
    """Whether ``party`` (customer or merchant) may read the event (reviewers-only rows: neither)."""
    if party == ActorKind.CUSTOMER:
        return event.visibility in (Visibility.EVERYONE, Visibility.CUSTOMER)
    return event.visibility in (Visibility.EVERYONE, Visibility.MERCHANT)


def _event_action(event: CaseEvent) -> str:
    if event.action == A.DECIDED:
        return "denied" if event.to_state == S.DENIED else "accepted"
    return EVENT_ACTION.get(event.action, event.action)


def attachment_representation(attachment) -> dict:
    return {
        "id": public_id(ATTACHMENT_PREFIX, attachment.pk),
        "filename": attachment.original_name,
        "content_type": attachment.content_type,
        "url": None,
        "size_bytes": attachment.size_bytes,
    }


def event_representation(event: CaseEvent, *, attachments: Iterable = ()) -> dict:
    """One timeline row as Whop's ``ResolutionEvent`` plus our extras; ``attachments``: the
    Attachment rows this row reports (a file's row names its one file)."""
    return {
        "id": public_id(EVENT_PREFIX, event.pk),
        "action": _event_action(event),
        "reporter_type": REPORTER.get(event.actor_kind, "system"),
        "details": event.note or None,
        "attachments": [attachment_representation(a) for a in attachments],
        "viewable_by_customer": event.visibility in (Visibility.EVERYONE, Visibility.CUSTOMER),
        "viewable_by_merchant": event.visibility in (Visibility.EVERYONE, Visibility.MERCHANT),
        "created_at": iso(event.created_at),
        # ours
        "kind": event.action,
        "from_state": event.from_state or None,
        "to_state": event.to_state or None,
    }
