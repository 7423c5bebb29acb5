"""A customer opens a case (DOMAIN.md, "Opening a case" and "Automatic refunds")."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from payments.models import ActorKind, Payment
from resolution_center.exceptions import ApplicationError, NotEligibleError
from resolution_center.formatting import DATE, format_local

from ..attachments import attachments_check
from ..expiry_rules import deadline_from
from ..models import Case, CaseEvent, CaseOutcome, CasePolicySnapshot, CaseReason
from ..ratelimit import case_open_rate_check
from .base import MAX_DESCRIPTION, clean_text, event_append, move, now_or
from .messages import files_removed_on_error, message_post
from .settlement import refund_settle

ALREADY_OPENED = "A case has already been opened for this payment; a payment can only ever have one case."


def case_open_refusal(*, payment: Payment, customer, now: datetime | None = None) -> str | None:
    """Why this customer may not open a case for this payment, or None when they may."""
    now = now_or(now)
    if customer is None or not customer.is_authenticated or payment.customer_id != customer.pk:
        return "This payment is not yours, so you cannot open a case for it."
    if payment.method == "crypto":
        return "Crypto payments (Coinbase Commerce) are irreversible and cannot be refunded, so no case can be opened."
    days = settings.RESOLUTION["ELIGIBILITY_DAYS"]
    if payment.paid_at < now - timedelta(days=days):
        paid = format_local(payment.paid_at, DATE)
        return f"Cases can only be opened within {days} days of a payment; this one was paid on {paid}."
    if payment.is_fully_refunded:
        return "This payment has already been refunded in full."
    if _payment_has_case(payment):
        return ALREADY_OPENED
    return None


def _payment_has_case(payment: Payment) -> bool:
    """A payment read with select_related("case") already knows (a list of payments asks no
    query per row); otherwise the database is asked. The unique constraint decides at insert."""
    if Payment.case.is_cached(payment):
        return getattr(payment, "case", None) is not None
    return Case.objects.filter(payment_id=payment.pk).exists()


def auto_refund_terms(payment: Payment) -> tuple[bool, str]:
    """Whether a case on this payment is refunded at once, and the company's message if so."""
    company = payment.company
    if payment.is_financing:
        return True, ""
    if payment.method == "card" and payment.amount_cents < company.auto_refund_card_below_cents:
        return True, company.auto_refund_message
    if payment.method == "paypal" and payment.amount_cents < company.auto_refund_paypal_below_cents:
        return True, company.auto_refund_message
    return False, ""


@transaction.atomic
def case_open(
    *, customer, payment: Payment | int, reason: str, description: str, files=None, now: datetime | None = None
) -> Case:
    """A customer opens a case; an automatic refund settles it at once where one applies."""
    now = now_or(now)
    case_open_rate_check(customer=customer, now=now)
    if reason not in CaseReason.values:
        raise ApplicationError("Please pick one of the listed reasons.")
    description = clean_text(description, what="a description of the problem", limit=MAX_DESCRIPTION)
    checked = attachments_check(files)
    payment_id = payment if isinstance(payment, int) else payment.pk
    try:
        payment = Payment.objects.select_for_update(of=("self",)).select_related("company").get(pk=payment_id)
    except Payment.DoesNotExist:
        raise NotEligibleError("This payment is not yours, so you cannot open a case for it.") from None
    refusal = case_open_refusal(payment=payment, customer=customer, now=now)
    if refusal:
        raise NotEligibleError(refusal)
    respond_by = deadline_from(now, "respond_by")
    try:
        with transaction.atomic():
            case = Case.objects.create(
                payment=payment,
                company_id=payment.company_id,
                customer=customer,
                reason=reason,
                description=description,
                opened_at=now,
                updated_at=now,
                respond_by=respond_by,
                next_deadline_at=respond_by,
            )
    except IntegrityError:
        raise NotEligibleError(ALREADY_OPENED) from None
    _policy_snapshot_take(case=case, company=payment.company, now=now)
    event_append(
        case=case,
        actor_kind=ActorKind.CUSTOMER,
        actor=customer,
        action=CaseEvent.Action.OPENED,
        from_state="",
        now=now,
    )
    # The claim's files are removed again if the automatic refund that follows is refused.
    with files_removed_on_error() as written:
        message_post(
            case=case,
            actor_kind=ActorKind.CUSTOMER,
            actor=customer,
            body=description,
            checked=checked,
            now=now,
            event=False,
            written=written,
        )
        _auto_refund_if_applies(case=case, payment=payment, now=now)
    return case


POLICY_FIELDS = ("refund_policy_text", "refund_policy_url", "terms_text", "terms_url")


def _policy_snapshot_take(*, case: Case, company, now: datetime) -> None:
    """Keep the company's refund policy and terms as they are now, for the reviewers: one INSERT,
    only when the company has any (the company row was read with the locked payment)."""
    policies = {name: getattr(company, name) for name in POLICY_FIELDS}
    if any(policies.values()):
        CasePolicySnapshot.objects.create(case=case, taken_at=now, **policies)


def _auto_refund_if_applies(*, case: Case, payment: Payment, now: datetime) -> None:
    applies, company_message = auto_refund_terms(payment)
    if not applies:
        return
    why = (
        f"Purchases made with {payment.get_method_display()} are always refunded automatically."
        if payment.is_financing
        else "Refunded automatically under the company's auto respond settings."
    )
    move(
        case,
        "auto_refund",
        actor_kind=ActorKind.SYSTEM,
        actor=None,
        action=CaseEvent.Action.AUTO_REFUNDED,
        now=now,
        doing="refund it automatically",
        note=why,
        outcome=CaseOutcome.REFUNDED,
        decided_by_kind=ActorKind.SYSTEM,
        auto_refunded=True,
        auto_refund_message=company_message,
    )
    refund_settle(case=case, actor_kind=ActorKind.SYSTEM, actor=None, now=now)
