"""Every write to a case: one function per action in DOMAIN.md's transition table.

Each runs in one transaction, locks the case row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
IMMEDIATE transactions serialise writers) and saves through django-fsm's compare-and-set
(``ConcurrentTransitionMixin``), refuses an illegal move or the wrong actor with an
``ApplicationError``, appends exactly one timeline event per state change, and computes deadlines
from the injectable ``now``. Notifications are recorded in the same transaction.
"""

from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition, can_proceed

from notifications.services import notifications_for_event
from payments.models import ActorKind, Payment
from payments.selectors import is_member
from payments.services import balance_credit_grant, credit_idempotency_key, refund_idempotency_key, refund_issue
from resolution_center.exceptions import (
    ApplicationError,
    ConcurrentUpdateError,
    InvalidTransitionError,
    NotAllowedError,
    NotEligibleError,
)

from .attachments import CheckedFile, attachments_check, attachments_quota_check
from .models import (
    Attachment,
    Case,
    CaseEvent,
    CaseOutcome,
    CaseReason,
    CaseStatus,
    Message,
    Visibility,
)
from .ratelimit import case_open_rate_check

MAX_DESCRIPTION = 5000
MAX_MESSAGE = 5000
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


def _days(key: str) -> timedelta:
    return timedelta(days=settings.RESOLUTION[key])


def _now(now: datetime | None) -> datetime:
    if now is None:
        return timezone.now()
    if timezone.is_naive(now):
        raise ValueError("now must be timezone-aware")
    return now


def _status_label(status: str) -> str:
    return CaseStatus(status).label.lower()


# --- who is acting ---------------------------------------------------------------------------


def user_is_reviewer(user) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm("cases.decide_case")
    )


def _require_customer(case: Case, user, doing: str) -> None:
    if user is None or not user.is_authenticated or case.customer_id != user.pk:
        raise NotAllowedError(f"Only the customer who opened this case can {doing}.")


def _require_merchant(case: Case, user, doing: str) -> None:
    if user is None or not is_member(user=user, company_id=case.company_id):
        raise NotAllowedError(f"Only a member of {case.company.name} can {doing}.")
    # A member who opened the case as the customer is that case's customer, not its judge.
    if case.customer_id == user.pk:
        raise NotAllowedError(
            f"You opened this case yourself, so another member of {case.company.name} must answer it."
        )


def _require_reviewer(user, doing: str) -> None:
    if not user_is_reviewer(user):
        raise NotAllowedError(f"Only a platform reviewer can {doing}.")


def _require_impartial(case: Case, reviewer) -> None:
    """A reviewer who is the case's customer or works for its company would judge their own case."""
    if case.customer_id == reviewer.pk or is_member(user=reviewer, company_id=case.company_id):
        raise NotAllowedError("You are a party to this case, so another reviewer must decide it.")


def actor_kind_for(case: Case, user) -> str:
    """Which party a user acts as on this case; refuses strangers."""
    if user is not None and user.is_authenticated:
        if case.customer_id == user.pk:
            return ActorKind.CUSTOMER
        if is_member(user=user, company_id=case.company_id):
            return ActorKind.MERCHANT
        if user_is_reviewer(user):
            return ActorKind.REVIEWER
    raise NotAllowedError("You are not a party to this case.")


# --- building blocks -------------------------------------------------------------------------


def _lock(case: Case | int) -> Case:
    # Lock only the case row: FOR UPDATE on the joined company would serialise a whole company.
    case_id = case if isinstance(case, int) else case.pk
    try:
        return Case.objects.select_for_update(of=("self",)).select_related("company", "payment").get(pk=case_id)
    except Case.DoesNotExist:
        raise ApplicationError("This case does not exist.") from None


def _event_append(
    *,
    case: Case,
    actor_kind: str,
    actor,
    action: str,
    now: datetime,
    from_state: str | None = None,
    to_state: str | None = None,
    note: str = "",
    visibility: str = Visibility.EVERYONE,
) -> CaseEvent:
    """Append one timeline row; from/to default to the current state (an event without a move)."""
    event = CaseEvent.objects.create(
        case=case,
        actor_kind=actor_kind,
        actor=actor if actor_kind != ActorKind.SYSTEM else None,
        action=action,
        from_state=case.status if from_state is None else from_state,
        to_state=case.status if to_state is None else to_state,
        visibility=visibility,
        note=note,
        created_at=now,
    )
    notifications_for_event(event=event)
    return event


def _move(
    case: Case,
    transition_name: str,
    *,
    actor_kind: str,
    actor,
    action: str,
    now: datetime,
    doing: str,
    note: str = "",
    deadline: tuple[str, datetime] | None = None,
    **fields,
) -> CaseEvent:
    """Run one FSM transition on a locked case, save it by compare-and-set, append its event."""
    method = getattr(case, transition_name)
    if not can_proceed(method):
        raise InvalidTransitionError(f"This case is {_status_label(case.status)}, so you can no longer {doing}.")
    from_state = case.status
    method()
    case.respond_by = case.reply_by = case.appeal_by = None
    case.next_deadline_at = None
    if deadline is not None:
        setattr(case, deadline[0], deadline[1])
        case.next_deadline_at = deadline[1]
    for name, value in fields.items():
        setattr(case, name, value)
    case.updated_at = now
    if case.status == CaseStatus.FINAL:
        case.closed_at = now
    try:
        case.save()
    except ConcurrentTransition:
        raise ConcurrentUpdateError("Someone else changed this case at the same moment. Please reload it.") from None
    return _event_append(
        case=case,
        actor_kind=actor_kind,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=case.status,
        note=note,
        now=now,
    )


def _clean_text(text: str | None, *, what: str, limit: int, required: bool = True) -> str:
    text = (text or "").strip()
    if required and not text:
        raise ApplicationError(f"Please write {what}.")
    if len(text) > limit:
        raise ApplicationError(f"{what[0].upper()}{what[1:]} can be at most {limit} characters.")
    return text


@contextmanager
def _files_removed_on_error():
    """Files are written to storage before the transaction commits; if the action then fails,
    the rows roll back and this removes the files they pointed to, so nothing is half-saved."""
    written: list[Attachment] = []
    try:
        yield written
    except BaseException:
        for attachment in written:
            attachment.file.delete(save=False)
        raise


def _store_files(
    *,
    case: Case,
    message: Message | None,
    checked: list[CheckedFile],
    actor_kind: str,
    actor,
    now: datetime,
    written: list[Attachment],
) -> None:
    attachments_quota_check(uploader=actor, checked=checked, now=now)
    for item in checked:
        attachment = Attachment(
            case=case,
            message=message,
            original_name=item.original_name,
            content_type=item.content_type,
            size_bytes=item.size_bytes,
            sha256=item.sha256,
            uploaded_by_kind=actor_kind,
            uploaded_by=actor,
            created_at=now,
        )
        attachment.file.save(item.original_name, item.upload, save=False)
        written.append(attachment)
        attachment.save()
        _event_append(
            case=case, actor_kind=actor_kind, actor=actor, action=Action.FILE, note=item.original_name, now=now
        )


def _post_message(
    *,
    case: Case,
    actor_kind: str,
    actor,
    body: str,
    checked: list[CheckedFile],
    now: datetime,
    visibility: str = Visibility.EVERYONE,
) -> Message:
    message = Message.objects.create(
        case=case, author_kind=actor_kind, author=actor, body=body, visibility=visibility, created_at=now
    )
    _event_append(
        case=case, actor_kind=actor_kind, actor=actor, action=Action.MESSAGE, note=body, visibility=visibility, now=now
    )
    with _files_removed_on_error() as written:
        _store_files(
            case=case, message=message, checked=checked, actor_kind=actor_kind, actor=actor, now=now, written=written
        )
    return message


def _check_clock(case: Case, now: datetime, *, field: str, doing: str) -> None:
    deadline = getattr(case, field)
    if deadline is not None and now > deadline:
        raise InvalidTransitionError(
            f"The deadline to {doing} passed on {deadline:%d %b %Y at %H:%M} UTC; the case is moving on without it."
        )


# --- money -----------------------------------------------------------------------------------


def _settle_refund(*, case: Case, actor_kind: str, actor, now: datetime) -> None:
    payment = Payment.objects.get(pk=case.payment_id)
    amount = payment.refundable_cents
    if amount <= 0:
        _event_append(
            case=case,
            actor_kind=ActorKind.SYSTEM,
            actor=None,
            action=Action.REFUND_ISSUED,
            note="Nothing was left to refund on this payment.",
            now=now,
        )
        return
    refund = refund_issue(
        payment=payment,
        amount_cents=amount,
        currency=payment.currency,
        idempotency_key=refund_idempotency_key(case_id=case.pk),
        initiated_by_kind=actor_kind,
        initiated_by=actor if actor_kind != ActorKind.SYSTEM else None,
        case=case,
        now=now,
    )
    _event_append(
        case=case,
        actor_kind=ActorKind.SYSTEM,
        actor=None,
        action=Action.REFUND_ISSUED,
        note=f"{refund.amount_cents} {refund.currency} refunded (reference {refund.processor_reference}).",
        now=now,
    )


def _settle_credit(*, case: Case, actor, now: datetime) -> None:
    payment = Payment.objects.get(pk=case.payment_id)
    amount = payment.refundable_cents
    if amount <= 0:
        return
    credit = balance_credit_grant(
        customer=case.customer,
        amount_cents=amount,
        currency=payment.currency,
        idempotency_key=credit_idempotency_key(case_id=case.pk),
        case=case,
        granted_by=actor,
        now=now,
    )
    _event_append(
        case=case,
        actor_kind=ActorKind.SYSTEM,
        actor=None,
        action=Action.CREDIT_GRANTED,
        note=f"{credit.amount_cents} {credit.currency} credited to the customer's platform balance.",
        now=now,
    )


# --- opening ---------------------------------------------------------------------------------


def case_open_refusal(*, payment: Payment, customer, now: datetime | None = None) -> str | None:
    """Why this customer may not open a case for this payment, or None when they may."""
    now = _now(now)
    if customer is None or not customer.is_authenticated or payment.customer_id != customer.pk:
        return "This payment is not yours, so you cannot open a case for it."
    if payment.method == "crypto":
        return "Crypto payments (Coinbase Commerce) are irreversible and cannot be refunded, so no case can be opened."
    days = settings.RESOLUTION["ELIGIBILITY_DAYS"]
    if payment.paid_at < now - timedelta(days=days):
        paid = f"{payment.paid_at:%d %b %Y}"
        return f"Cases can only be opened within {days} days of a payment; this one was paid on {paid}."
    if payment.is_fully_refunded:
        return "This payment has already been refunded in full."
    if _payment_has_case(payment):
        return "A case has already been opened for this payment; a payment can only ever have one case."
    return None


def _payment_has_case(payment: Payment) -> bool:
    """A payment read with select_related("case") already knows (a list of payments asks no
    query per row); otherwise the database is asked. The unique constraint decides at insert."""
    if Payment.case.is_cached(payment):
        return getattr(payment, "case", None) is not None
    return Case.objects.filter(payment_id=payment.pk).exists()


def _auto_refund_applies(payment: Payment) -> tuple[bool, str]:
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
    now = _now(now)
    case_open_rate_check(customer=customer, now=now)
    if reason not in CaseReason.values:
        raise ApplicationError("Please pick one of the listed reasons.")
    description = _clean_text(description, what="a description of the problem", limit=MAX_DESCRIPTION)
    checked = attachments_check(files)
    payment_id = payment if isinstance(payment, int) else payment.pk
    try:
        payment = Payment.objects.select_for_update(of=("self",)).select_related("company").get(pk=payment_id)
    except Payment.DoesNotExist:
        raise NotEligibleError("This payment is not yours, so you cannot open a case for it.") from None
    refusal = case_open_refusal(payment=payment, customer=customer, now=now)
    if refusal:
        raise NotEligibleError(refusal)
    respond_by = now + _days("RESPONSE_DAYS")
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
        raise NotEligibleError(
            "A case has already been opened for this payment; a payment can only ever have one case."
        ) from None
    _event_append(
        case=case, actor_kind=ActorKind.CUSTOMER, actor=customer, action=Action.OPENED, from_state="", now=now
    )
    message = Message.objects.create(
        case=case, author_kind=ActorKind.CUSTOMER, author=customer, body=description, created_at=now
    )
    with _files_removed_on_error() as written:
        _store_files(
            case=case,
            message=message,
            checked=checked,
            actor_kind=ActorKind.CUSTOMER,
            actor=customer,
            now=now,
            written=written,
        )
        _auto_refund_if_applies(case=case, payment=payment, now=now)
    return case


def _auto_refund_if_applies(*, case: Case, payment: Payment, now: datetime) -> None:
    applies, company_message = _auto_refund_applies(payment)
    if applies:
        why = (
            f"Purchases made with {payment.get_method_display()} are always refunded automatically."
            if payment.is_financing
            else "Refunded automatically under the company's auto respond settings."
        )
        _move(
            case,
            "auto_refund",
            actor_kind=ActorKind.SYSTEM,
            actor=None,
            action=Action.AUTO_REFUNDED,
            now=now,
            doing="refund it automatically",
            note=why,
            outcome=CaseOutcome.REFUNDED,
            decided_by_kind=ActorKind.SYSTEM,
            auto_refunded=True,
            auto_refund_message=company_message,
        )
        _settle_refund(case=case, actor_kind=ActorKind.SYSTEM, actor=None, now=now)


# --- the merchant's answers ------------------------------------------------------------------


@transaction.atomic
def case_request_info(*, case: Case | int, actor, message: str, files=None, now: datetime | None = None) -> Case:
    now = _now(now)
    body = _clean_text(message, what="what information you need", limit=MAX_MESSAGE)
    checked = attachments_check(files)
    case = _lock(case)
    _require_merchant(case, actor, "request more information")
    if case.status == CaseStatus.OPEN:
        _check_clock(case, now, field="respond_by", doing="answer")
    limit = settings.RESOLUTION["MAX_INFO_REQUESTS"]
    if case.status == CaseStatus.OPEN and case.info_requests_count >= limit:
        raise InvalidTransitionError(
            f"You have already asked for more information {limit} times; please accept or deny the case."
        )
    _move(
        case,
        "request_info",
        actor_kind=ActorKind.MERCHANT,
        actor=actor,
        action=Action.INFO_REQUESTED,
        now=now,
        doing="request more information",
        note=body,
        deadline=("reply_by", now + _days("REPLY_DAYS")),
        info_requests_count=case.info_requests_count + 1,
    )
    _post_message(case=case, actor_kind=ActorKind.MERCHANT, actor=actor, body=body, checked=checked, now=now)
    return case


@transaction.atomic
def case_accept(*, case: Case | int, actor, note: str = "", now: datetime | None = None) -> Case:
    """The merchant accepts: what is left of the payment is refunded now and the case closes."""
    now = _now(now)
    note = _clean_text(note, what="a note", limit=MAX_MESSAGE, required=False)
    case = _lock(case)
    _require_merchant(case, actor, "accept this case")
    _check_clock(case, now, field="respond_by" if case.status == CaseStatus.OPEN else "reply_by", doing="answer")
    _move(
        case,
        "accept",
        actor_kind=ActorKind.MERCHANT,
        actor=actor,
        action=Action.ACCEPTED,
        now=now,
        doing="accept it",
        note=note,
        outcome=CaseOutcome.REFUNDED,
        decided_by_kind=ActorKind.MERCHANT,
        decided_by=actor,
    )
    _settle_refund(case=case, actor_kind=ActorKind.MERCHANT, actor=actor, now=now)
    return case


@transaction.atomic
def case_deny(*, case: Case | int, actor, note: str = "", now: datetime | None = None) -> Case:
    now = _now(now)
    note = _clean_text(note, what="a note", limit=MAX_MESSAGE, required=False)
    case = _lock(case)
    _require_merchant(case, actor, "deny this case")
    _check_clock(case, now, field="respond_by" if case.status == CaseStatus.OPEN else "reply_by", doing="answer")
    _move(
        case,
        "deny",
        actor_kind=ActorKind.MERCHANT,
        actor=actor,
        action=Action.DENIED,
        now=now,
        doing="deny it",
        note=note,
        deadline=("appeal_by", now + _days("APPEAL_DAYS")),
        decided_by_kind=ActorKind.MERCHANT,
        decided_by=actor,
    )
    return case


# --- the customer's moves --------------------------------------------------------------------


@transaction.atomic
def case_reply(*, case: Case | int, actor, message: str, files=None, now: datetime | None = None) -> Case:
    """The customer answers an info request; the merchant's 7 days start again."""
    now = _now(now)
    body = _clean_text(message, what="your reply", limit=MAX_MESSAGE)
    checked = attachments_check(files)
    case = _lock(case)
    _require_customer(case, actor, "reply to it")
    if case.status == CaseStatus.INFO_REQUESTED:
        _check_clock(case, now, field="reply_by", doing="reply")
    respond_by = now + _days("RESPONSE_DAYS")
    _move(
        case,
        "reply",
        actor_kind=ActorKind.CUSTOMER,
        actor=actor,
        action=Action.REPLIED,
        now=now,
        doing="reply to an information request",
        deadline=("respond_by", respond_by),
    )
    _post_message(case=case, actor_kind=ActorKind.CUSTOMER, actor=actor, body=body, checked=checked, now=now)
    return case


@transaction.atomic
def case_withdraw(*, case: Case | int, actor, now: datetime | None = None) -> Case:
    now = _now(now)
    case = _lock(case)
    _require_customer(case, actor, "withdraw it")
    _move(
        case,
        "withdraw",
        actor_kind=ActorKind.CUSTOMER,
        actor=actor,
        action=Action.WITHDRAWN,
        now=now,
        doing="withdraw it",
        outcome=CaseOutcome.WITHDRAWN,
        decided_by_kind=ActorKind.CUSTOMER,
        decided_by=actor,
    )
    return case


@transaction.atomic
def case_message_post(
    *,
    case: Case | int,
    actor,
    body: str,
    files=None,
    visibility: str = Visibility.EVERYONE,
    now: datetime | None = None,
) -> Message:
    """A message from any party; it never stops a clock (only Accept, Deny and Request info do)."""
    now = _now(now)
    body = _clean_text(body, what="a message", limit=MAX_MESSAGE)
    checked = attachments_check(files)
    case = _lock(case)
    actor_kind = actor_kind_for(case, actor)
    if visibility not in Visibility.values:
        raise ApplicationError("Please choose who may see this message.")
    if actor_kind != ActorKind.REVIEWER and visibility != Visibility.EVERYONE:
        raise NotAllowedError("Only reviewers can post messages that one party does not see.")
    if case.status == CaseStatus.FINAL:
        raise InvalidTransitionError("This case is closed, so no more messages can be added.")
    return _post_message(
        case=case, actor_kind=actor_kind, actor=actor, body=body, checked=checked, visibility=visibility, now=now
    )


# --- appeals ---------------------------------------------------------------------------------


def _appellant_kind(case: Case) -> str | None:
    """Who may appeal in the current state: the customer a denial, the merchant a reviewer's refund."""
    if case.appealed:
        return None
    if case.status == CaseStatus.DENIED:
        return ActorKind.CUSTOMER
    if case.status == CaseStatus.ACCEPTED:
        return ActorKind.MERCHANT
    return None


def _require_appellant(case: Case, actor, doing: str, now: datetime) -> str:
    kind = _appellant_kind(case)
    if kind is None:
        if case.appealed:
            raise InvalidTransitionError("This case has already been appealed once; the decision is final.")
        raise InvalidTransitionError(f"This case is {_status_label(case.status)}, so you cannot {doing}.")
    if kind == ActorKind.CUSTOMER:
        _require_customer(case, actor, doing)
    else:
        _require_merchant(case, actor, doing)
    _check_clock(case, now, field="appeal_by", doing=doing)
    return kind


@transaction.atomic
def case_appeal(*, case: Case | int, actor, statement: str, now: datetime | None = None) -> Case:
    now = _now(now)
    statement = _clean_text(statement, what="why you appeal", limit=MAX_MESSAGE)
    case = _lock(case)
    kind = _require_appellant(case, actor, "appeal", now)
    _move(
        case,
        "appeal",
        actor_kind=kind,
        actor=actor,
        action=Action.APPEALED,
        now=now,
        doing="appeal",
        note=statement,
        appealed=True,
        appealed_by_kind=kind,
        escalated_at=now,
    )
    return case


@transaction.atomic
def case_appeal_waive(*, case: Case | int, actor, now: datetime | None = None) -> Case:
    """The party that may appeal accepts the decision now; it becomes final at once."""
    now = _now(now)
    case = _lock(case)
    kind = _require_appellant(case, actor, "waive the appeal", now)
    _finalize(case, actor_kind=kind, actor=actor, action=Action.APPEAL_WAIVED, now=now)
    return case


def _finalize(case: Case, *, actor_kind: str, actor, action: str, now: datetime) -> None:
    refund = case.status == CaseStatus.ACCEPTED
    _move(
        case,
        "finalize",
        actor_kind=actor_kind,
        actor=actor,
        action=action,
        now=now,
        doing="make the decision final",
        outcome=CaseOutcome.REFUNDED if refund else CaseOutcome.DENIED,
    )
    if refund:
        _settle_refund(case=case, actor_kind=ActorKind.REVIEWER, actor=case.decided_by, now=now)


# --- reviewers -------------------------------------------------------------------------------


def _clean_decision(decision: str, note: str) -> str:
    if decision not in Decision.VALUES:
        raise ApplicationError("Please choose refund, credit or merchant wins.")
    return _clean_text(note, what="a note to the parties explaining the decision", limit=MAX_MESSAGE)


@transaction.atomic
def case_decide(*, case: Case | int, actor, decision: str, note: str, now: datetime | None = None) -> Case:
    """A reviewer decides an escalated case. A refund waits out the merchant's appeal window;
    a credit costs the merchant nothing and is final at once."""
    now = _now(now)
    note = _clean_decision(decision, note)
    _require_reviewer(actor, "decide a case")
    case = _lock(case)
    _require_impartial(case, actor)
    common = {
        "actor_kind": ActorKind.REVIEWER,
        "actor": actor,
        "action": Action.DECIDED,
        "now": now,
        "doing": "decide it as an escalated case",
        "note": note,
        "decided_by_kind": ActorKind.REVIEWER,
        "decided_by": actor,
    }
    if decision == Decision.REFUND:
        _move(case, "decide_refund", deadline=("appeal_by", now + _days("APPEAL_DAYS")), **common)
    elif decision == Decision.CREDIT:
        _move(case, "decide_credit", outcome=CaseOutcome.CREDITED, **common)
        _settle_credit(case=case, actor=actor, now=now)
    else:
        _move(case, "decide_merchant_wins", deadline=("appeal_by", now + _days("APPEAL_DAYS")), **common)
    return case


@transaction.atomic
def case_decide_appeal(*, case: Case | int, actor, decision: str, note: str, now: datetime | None = None) -> Case:
    """A reviewer's decision on an appeal is final; money moves now."""
    now = _now(now)
    note = _clean_decision(decision, note)
    _require_reviewer(actor, "decide an appeal")
    case = _lock(case)
    _require_impartial(case, actor)
    outcome = {
        Decision.REFUND: CaseOutcome.REFUNDED,
        Decision.CREDIT: CaseOutcome.CREDITED,
        Decision.MERCHANT_WINS: CaseOutcome.DENIED,
    }[decision]
    _move(
        case,
        "decide_appeal",
        actor_kind=ActorKind.REVIEWER,
        actor=actor,
        action=Action.DECIDED,
        now=now,
        doing="decide it as an appeal",
        note=note,
        outcome=outcome,
        decided_by_kind=ActorKind.REVIEWER,
        decided_by=actor,
    )
    if decision == Decision.REFUND:
        _settle_refund(case=case, actor_kind=ActorKind.REVIEWER, actor=actor, now=now)
    elif decision == Decision.CREDIT:
        _settle_credit(case=case, actor=actor, now=now)
    return case


@transaction.atomic
def case_reviewer_info_request(
    *, case: Case | int, actor, party: str, message: str, now: datetime | None = None
) -> Message:
    """A reviewer asks one party for more information; the case stays with the reviewers."""
    now = _now(now)
    _require_reviewer(actor, "ask a party for information")
    body = _clean_text(message, what="what information you need", limit=MAX_MESSAGE)
    if party not in (ActorKind.CUSTOMER, ActorKind.MERCHANT):
        raise ApplicationError("Please choose whether to ask the customer or the merchant.")
    case = _lock(case)
    if case.status not in (CaseStatus.ESCALATED, CaseStatus.APPEALED):
        raise InvalidTransitionError("Reviewers ask for information only on escalated or appealed cases.")
    visibility = Visibility.CUSTOMER if party == ActorKind.CUSTOMER else Visibility.MERCHANT
    return _post_message(
        case=case, actor_kind=ActorKind.REVIEWER, actor=actor, body=body, checked=[], visibility=visibility, now=now
    )


# --- the clock (system) ----------------------------------------------------------------------


def _overdue(case: Case, field: str, now: datetime) -> bool:
    deadline = getattr(case, field)
    return deadline is not None and deadline < now


@transaction.atomic
def case_escalate_overdue(*, case: Case | int, now: datetime | None = None) -> bool:
    """respond_by passed with no answer: the platform's reviewers take the case. False if
    somebody acted first (then nothing changes)."""
    now = _now(now)
    case = _lock(case)
    if case.status != CaseStatus.OPEN or not _overdue(case, "respond_by", now):
        return False
    _move(
        case,
        "escalate",
        actor_kind=ActorKind.SYSTEM,
        actor=None,
        action=Action.ESCALATED,
        now=now,
        doing="escalate it",
        note="The merchant did not answer within 7 days.",
        escalated_at=now,
    )
    return True


@transaction.atomic
def case_deny_unanswered(*, case: Case | int, now: datetime | None = None) -> bool:
    """reply_by passed with no reply from the customer: the case is denied (appealable)."""
    now = _now(now)
    case = _lock(case)
    if case.status != CaseStatus.INFO_REQUESTED or not _overdue(case, "reply_by", now):
        return False
    _move(
        case,
        "expire_reply",
        actor_kind=ActorKind.SYSTEM,
        actor=None,
        action=Action.REPLY_EXPIRED,
        now=now,
        doing="close it for lack of a reply",
        note="The customer did not reply within 7 days.",
        deadline=("appeal_by", now + _days("APPEAL_DAYS")),
        decided_by_kind=ActorKind.SYSTEM,
    )
    return True


@transaction.atomic
def case_finalize_expired(*, case: Case | int, now: datetime | None = None) -> bool:
    """appeal_by passed with no appeal: the decision is final and, for a refund, money moves."""
    now = _now(now)
    case = _lock(case)
    if case.status not in (CaseStatus.ACCEPTED, CaseStatus.DENIED) or not _overdue(case, "appeal_by", now):
        return False
    _finalize(case, actor_kind=ActorKind.SYSTEM, actor=None, action=Action.FINALIZED, now=now)
    return True
