"""Every write to money rows. Callers hold a transaction; these lock the payment row."""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from resolution_center.exceptions import ApplicationError, NotAllowedError

from .gateways import RefundOrder, RefundProcessorUnavailable, RefundResult, get_refund_gateway
from .models import ActorKind, BalanceCredit, Company, Membership, Payment, Refund

CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


REFUND_KEY_PREFIX, REFUND_KEY_SUFFIX = "case-", "-refund"


def refund_idempotency_key(*, case_id: int) -> str:
    """Deterministic, so every retry or racing worker for one case collides on the same key."""
    return f"{REFUND_KEY_PREFIX}{case_id}{REFUND_KEY_SUFFIX}"


def credit_idempotency_key(*, case_id: int) -> str:
    return f"case-{case_id}-credit"


def validate_money(*, amount_cents: int, currency: str, expected_currency: str | None = None) -> None:
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents <= 0:
        raise ApplicationError("The amount must be a positive whole number of minor units (e.g. cents).")
    if not isinstance(currency, str) or not CURRENCY_RE.match(currency):
        raise ApplicationError("The currency must be a three-letter ISO 4217 code such as USD.")
    if expected_currency is not None and currency != expected_currency:
        raise ApplicationError(f"The currency {currency} does not match the payment's currency {expected_currency}.")


def _refund_already_made(*, idempotency_key: str, payment: Payment, amount_cents: int, currency: str) -> Refund | None:
    """The refund this key already made, or None. A key reused for another payment or amount is a
    caller's mistake, not a retry: returning that refund would report money that never moved."""
    existing = Refund.objects.filter(idempotency_key=idempotency_key).first()
    if existing is None:
        return None
    if (existing.payment_id, existing.amount_cents, existing.currency) != (payment.pk, amount_cents, currency):
        raise ApplicationError(
            "This refund reference was already used for a different refund; nothing was refunded this time."
        )
    return existing


# --- Refunds: requested in the caller's transaction, sent to the processor after it commits -------

# How long after the n-th unsuccessful call the processor is asked again; after the last one the
# refund waits for a reviewer (admin, "Refunds needing attention").
REFUND_RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(hours=24),
)
REFUND_MAX_ATTEMPTS = len(REFUND_RETRY_DELAYS) + 1


def commit_without_waiting_for_disk() -> None:
    """PostgreSQL: this transaction's COMMIT returns before its WAL is on disk (SET LOCAL: this
    transaction only). For writes a crash of the database server may lose without harm, because
    they are redone: a lost claim is claimed again, a lost record of a processor's answer makes the
    refund due again and the processor answers its key the same way."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def refund_lease() -> timedelta:
    """How long one worker holds a refund while it asks the processor: longer than any call may
    take (the processor's timeout), so a live worker is never overtaken; a dead one's refund is due
    again once it passes."""
    timeout = settings.REFUND_PROCESSOR.get("TIMEOUT_SECONDS", 10)
    return timedelta(seconds=settings.REFUND_LEASE_SECONDS or timeout + 30)


def refund_retry_at(*, attempts: int, now: datetime) -> datetime | None:
    """When to ask again after ``attempts`` unsuccessful calls; None once they ran out."""
    if attempts >= REFUND_MAX_ATTEMPTS:
        return None
    return now + REFUND_RETRY_DELAYS[max(attempts, 1) - 1]


def _refund_reserve(*, payment_id: int, amount_cents: int) -> None:
    """Count the requested refund in the payment's refunded total now, before the processor is
    asked: two refunds requested at once can never together exceed the amount."""
    reserved = Payment.objects.filter(pk=payment_id, refunded_cents__lte=F("amount_cents") - amount_cents).update(
        refunded_cents=F("refunded_cents") + amount_cents
    )
    if reserved != 1:
        raise ApplicationError("The payment has no money left to refund.")


@transaction.atomic
def refund_request(
    *,
    payment: Payment,
    amount_cents: int,
    currency: str,
    idempotency_key: str,
    initiated_by_kind: str,
    initiated_by=None,
    case=None,
    now=None,
) -> Refund:
    """Record a refund of part or all of a payment as requested, exactly once per idempotency key.

    Runs in the caller's transaction (with the case's state change); nothing is sent to the
    processor here, so no lock is held across the network: ``refund_claim`` and ``refund_record``
    do that after commit. A retry with the same key returns the refund already requested.
    """
    now = now or timezone.now()
    validate_money(amount_cents=amount_cents, currency=currency, expected_currency=payment.currency)
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    # Looked up under the payment's lock: a retry racing the first call waits for it to commit and
    # then finds its refund, instead of seeing the money reserved and refusing.
    existing = _refund_already_made(
        idempotency_key=idempotency_key, payment=locked, amount_cents=amount_cents, currency=currency
    )
    if existing is not None:
        return existing
    if amount_cents > locked.refundable_cents:
        raise ApplicationError(
            f"Only {locked.refundable_cents} of {locked.amount_cents} (minor units) is left to refund on this payment."
        )
    try:
        with transaction.atomic():
            refund = Refund.objects.create(
                payment=locked,
                case=case,
                amount_cents=amount_cents,
                currency=currency,
                idempotency_key=idempotency_key,
                initiated_by_kind=initiated_by_kind,
                initiated_by=initiated_by,
                created_at=now,
                next_attempt_at=now,
            )
    except IntegrityError:
        # Another worker committed the same key (or this case's refund) first: theirs stands.
        existing = _refund_already_made(
            idempotency_key=idempotency_key, payment=locked, amount_cents=amount_cents, currency=currency
        )
        if existing is None:
            raise ApplicationError("This case has already been refunded.") from None
        return existing
    _refund_reserve(payment_id=locked.pk, amount_cents=amount_cents)
    payment.refunded_cents = locked.refunded_cents + amount_cents
    return refund


@dataclass(frozen=True)
class RefundOfCase:
    """One case's refund of what is left of its payment, for ``refunds_request_rest``."""

    case_id: int
    payment_id: int
    initiated_by_kind: str
    initiated_by_id: int | None


def refunds_request_rest(*, refunds: list[RefundOfCase], now: datetime) -> tuple[dict[int, int], "RefundClaim"]:
    """Request, for many cases at once, the refund of what is left of each case's payment (the
    sweep's batch; the caller's transaction holds the cases). Set-based: one locking read of the
    payments, one INSERT of the refund rows, one UPDATE reserving the money.

    Returns {case id: refund id} for the cases that had something left to refund (a case whose
    payment was already refunded in full gets no row; a case already refunded keeps its refund:
    the key and the one-per-case constraint are ``refund_request``'s), and the claim on the new
    refunds: they are born held by the caller, who sends them after commit
    (``refund_processor_answers``); if it never does, they fall due when the lease ends.
    """
    claim = RefundClaim(
        token=secrets.token_hex(16), until=now + refund_lease(), orders={}, status_before={}, attempts={}
    )
    if not refunds:
        return {}, claim
    payment_ids = sorted({item.payment_id for item in refunds})
    # Locked in id order, like every other writer of payments, so batches never deadlock.
    list(Payment.objects.select_for_update().filter(pk__in=payment_ids).order_by("pk").values_list("pk", flat=True))
    case_ids = [item.case_id for item in refunds]
    already = set(Refund.objects.filter(case_id__in=case_ids).values_list("case_id", flat=True))
    wanted = [item for item in refunds if item.case_id not in already]
    if not wanted:
        return {}, claim
    # One INSERT … SELECT: the amount (what is left) and the currency come from the locked payment
    # rows, the key is refund_idempotency_key's, spelled in SQL; no model object per refund.
    quote = connection.ops.quote_name
    when = connection.ops.adapt_datetimefield_value(now)
    columns = [
        [item.case_id for item in wanted],
        [item.payment_id for item in wanted],
        [item.initiated_by_id for item in wanted],
        [item.initiated_by_kind for item in wanted],
    ]
    if connection.vendor == "postgresql":
        # Four array parameters, whatever the batch size (psycopg parses a statement's text per
        # placeholder: thousands of them cost more than the INSERT).
        wanted_rows = "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::text[])"
        params = columns
    else:
        wanted_rows = "VALUES " + ", ".join(["(%s, %s, %s, %s)"] * len(wanted))
        params = [value for row in zip(*columns, strict=True) for value in row]
    sql = f"""
        WITH wanted (case_id, payment_id, initiated_by_id, initiated_by_kind) AS ({wanted_rows})
        INSERT INTO {quote(Refund._meta.db_table)} (
            payment_id, case_id, amount_cents, currency, idempotency_key, processor_reference, status,
            initiated_by_kind, initiated_by_id, created_at, attempts, next_attempt_at, claim_token,
            last_attempt_at, failure_message, succeeded_at, key_generation
        )
        SELECT p.id, w.case_id, p.amount_cents - p.refunded_cents, p.currency,
               %s || CAST(w.case_id AS TEXT) || %s, '', %s,
               w.initiated_by_kind, w.initiated_by_id, %s, 1, %s, %s,
               %s, '', NULL, 0
        FROM wanted w JOIN {quote(Payment._meta.db_table)} p ON p.id = w.payment_id
        WHERE p.amount_cents > p.refunded_cents
    """
    until = connection.ops.adapt_datetimefield_value(claim.until)
    params += [REFUND_KEY_PREFIX, REFUND_KEY_SUFFIX, Refund.Status.REQUESTED, when, until, claim.token, when]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    made = list(
        Refund.objects.filter(claim_token=claim.token).values(
            "case_id", "pk", "payment_id", "amount_cents", "currency", "idempotency_key"
        )
    )
    if not made:
        return {}, claim
    # A case holds its payment alone (one case per payment), so the rest is reserved whole.
    reserved = Payment.objects.filter(
        pk__in=[row["payment_id"] for row in made], refunded_cents__lt=F("amount_cents")
    ).update(refunded_cents=F("amount_cents"))
    if reserved != len(made):
        raise ApplicationError("A payment changed while its refund was being requested; nothing was requested.")
    for row in made:
        claim.orders[row["pk"]] = RefundOrder(
            payment_id=row["payment_id"],
            amount_cents=row["amount_cents"],
            currency=row["currency"],
            idempotency_key=row["idempotency_key"],
        )
        claim.status_before[row["pk"]] = Refund.Status.REQUESTED
        claim.attempts[row["pk"]] = 1
    return {row["case_id"]: row["pk"] for row in made}, claim


@dataclass(frozen=True)
class RefundClaim:
    """Refunds one worker may now send to the processor, until ``until``."""

    token: str
    until: datetime
    orders: dict[int, RefundOrder]  # by refund id
    status_before: dict[int, str]
    attempts: dict[int, int]  # this call included


def refund_ids_due(*, now: datetime, limit: int) -> list[int]:
    """Refunds whose next call to the processor is due (requested, failed, or a dead worker's)."""
    return list(
        Refund.objects.filter(next_attempt_at__lte=now)
        .exclude(status=Refund.Status.SUCCEEDED)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def refund_claim(*, refund_ids: list[int], now: datetime) -> RefundClaim:
    """Take the refunds among ``refund_ids`` that no live worker holds, for one call to the
    processor each (which refunds are due for a retry is ``refund_ids_due``'s question).

    One compare-and-set UPDATE: two workers never both hold a refund (the loser simply gets fewer
    orders), and a worker that dies holding one lets it fall due again when its lease ends.
    """
    token = secrets.token_hex(16)
    until = now + refund_lease()
    # Free (nobody's call is running) or a dead worker's (its lease ended). Not "due": a refund
    # just requested is sent at once whatever the clock of the code that requested it said.
    free = Q(claim_token="") | Q(next_attempt_at__lte=now)
    with transaction.atomic():
        commit_without_waiting_for_disk()
        Refund.objects.filter(free, pk__in=refund_ids).exclude(status=Refund.Status.SUCCEEDED).update(
            claim_token=token,
            next_attempt_at=until,
            last_attempt_at=now,
            attempts=F("attempts") + 1,
        )
    rows = Refund.objects.filter(claim_token=token).values(
        "pk", "payment_id", "amount_cents", "currency", "idempotency_key", "key_generation", "status", "attempts"
    )
    orders, status_before, attempts = {}, {}, {}
    for row in rows:
        orders[row["pk"]] = RefundOrder(
            payment_id=row["payment_id"],
            amount_cents=row["amount_cents"],
            currency=row["currency"],
            idempotency_key=Refund.processor_key_for(row["idempotency_key"], row["key_generation"]),
        )
        status_before[row["pk"]] = row["status"]
        attempts[row["pk"]] = row["attempts"]
    return RefundClaim(token=token, until=until, orders=orders, status_before=status_before, attempts=attempts)


def refund_processor_answers(claim: RefundClaim) -> dict[int, RefundResult | RefundProcessorUnavailable]:
    """Ask the processor for every claimed refund, concurrently. Call outside any transaction:
    nothing is locked while the processor answers."""
    ids = list(claim.orders)
    answers = get_refund_gateway().refund_many([claim.orders[refund_id] for refund_id in ids])
    return dict(zip(ids, answers, strict=True))


@dataclass
class RefundRecord:
    """What the answers changed (the caller writes the timeline rows for them)."""

    succeeded: list[int]  # refund ids now succeeded (by this record)
    newly_failed: list[int]  # refund ids that went from requested to failed
    waiting: list[int]  # refused again or unanswered: asked again later (or by a reviewer)


def refund_record(
    *, claim: RefundClaim, answers: dict[int, RefundResult | RefundProcessorUnavailable], now: datetime
) -> RefundRecord:
    """Record the processor's answers, in the caller's transaction; set-based for the successes.

    A success is recorded whoever holds the claim (the processor answers the same key the same
    way, so a worker whose lease ran out is still right); a refusal or a missing answer only by
    the claim's holder, so a slow worker cannot undo a later worker's success.
    """
    commit_without_waiting_for_disk()
    record = RefundRecord(succeeded=[], newly_failed=[], waiting=[])
    references = {
        refund_id: answer.processor_reference
        for refund_id, answer in answers.items()
        if isinstance(answer, RefundResult) and answer.succeeded
    }
    if references:
        # Locked: the rows this worker finds unsettled are the ones it settles and writes timeline
        # rows for; a second worker recording the same success waits, then finds none.
        won = list(
            Refund.objects.select_for_update()
            .filter(pk__in=list(references))
            .exclude(status=Refund.Status.SUCCEEDED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if won:
            _refunds_mark_succeeded(won=won, references=references, now=now)
        record.succeeded = won
    for refund_id, answer in answers.items():
        if refund_id in references:
            continue
        fields = {"next_attempt_at": refund_retry_at(attempts=claim.attempts[refund_id], now=now), "claim_token": ""}
        if isinstance(answer, RefundProcessorUnavailable):
            # Nobody knows whether the money moved: the next call must carry the same key.
            fields["failure_message"] = f"No answer from the payment processor: {answer.reason}"
        else:
            # A refusal is an answer: no money moved under this key. Processors keep a key's first
            # answer (Stripe replays a refusal for its key), so the next attempt sends a key of its
            # own (Refund.processor_key), or it could never succeed.
            fields.update(
                status=Refund.Status.FAILED,
                failure_message=answer.failure_message or "Refused.",
                key_generation=F("key_generation") + 1,
            )
        changed = (
            Refund.objects.filter(pk=refund_id, claim_token=claim.token)
            .exclude(status=Refund.Status.SUCCEEDED)
            .update(**fields)
        )
        if not changed:
            continue
        if fields.get("status") == Refund.Status.FAILED and claim.status_before[refund_id] == Refund.Status.REQUESTED:
            record.newly_failed.append(refund_id)
        else:
            record.waiting.append(refund_id)
    return record


def _refunds_mark_succeeded(*, won: list[int], references: dict[int, str], now: datetime) -> None:
    """Mark the refunds succeeded with their references in one statement. (Building a CASE with a
    branch per refund through the ORM cost more than the writes themselves.)"""
    table = connection.ops.quote_name(Refund._meta.db_table)
    when = connection.ops.adapt_datetimefield_value(now)
    settled = "status = %s, succeeded_at = %s, next_attempt_at = NULL, claim_token = ''"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Two array parameters, whatever the batch size: no statement text that grows per row.
            cursor.execute(
                f"UPDATE {table} AS r SET {settled}, processor_reference = v.reference "
                "FROM unnest(%s::bigint[], %s::text[]) AS v(id, reference) WHERE r.id = v.id",
                [Refund.Status.SUCCEEDED, when, won, [references[refund_id] for refund_id in won]],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET {settled}, processor_reference = %s WHERE id = %s",
                [(Refund.Status.SUCCEEDED, when, references[refund_id], refund_id) for refund_id in won],
            )


def refund_retry_now(*, refund: Refund, now: datetime | None = None) -> bool:
    """A reviewer asks for another attempt now (also after the automatic attempts ran out).
    False if the refund already succeeded or a worker is asking the processor right now."""
    now = now or timezone.now()
    idle = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__gt=now, claim_token="") | Q(next_attempt_at__lte=now)
    return bool(
        Refund.objects.filter(idle, pk=refund.pk)
        .exclude(status=Refund.Status.SUCCEEDED)
        .update(next_attempt_at=now, claim_token="")
    )


@transaction.atomic
def balance_credit_grant(
    *, customer, amount_cents: int, currency: str, idempotency_key: str, case=None, granted_by=None, now=None
) -> BalanceCredit:
    """Credit the customer's platform balance once per idempotency key; the merchant pays nothing."""
    validate_money(amount_cents=amount_cents, currency=currency)
    credit, _ = BalanceCredit.objects.get_or_create(
        idempotency_key=idempotency_key,
        defaults={
            "customer": customer,
            "case": case,
            "amount_cents": amount_cents,
            "currency": currency,
            "granted_by": granted_by,
            "created_at": now or timezone.now(),
        },
    )
    # As for refunds: a key reused for another customer or sum is a mistake, not a retry.
    if (credit.customer_id, credit.amount_cents, credit.currency) != (customer.pk, amount_cents, currency):
        raise ApplicationError(
            "This credit reference was already used for a different credit; nothing was credited this time."
        )
    return credit


@transaction.atomic
def company_auto_refund_update(
    *, company: Company, actor, card_below_cents: int, paypal_below_cents: int, message: str
) -> Company:
    """Change a company's auto respond settings; only its owners and admins may."""
    from .selectors import membership_role

    if membership_role(user=actor, company=company) not in Membership.MANAGING_ROLES:
        raise ApplicationError("Only the company's owners and admins can change the auto respond settings.")
    for label, value in (("card", card_below_cents), ("PayPal", paypal_below_cents)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ApplicationError(f"The {label} threshold must be zero or a positive amount.")
    if len(message) > 1000:
        raise ApplicationError("The auto-refund message can be at most 1000 characters.")
    Company.objects.filter(pk=company.pk).update(
        auto_refund_card_below_cents=card_below_cents,
        auto_refund_paypal_below_cents=paypal_below_cents,
        auto_refund_message=message.strip(),
    )
    company.refresh_from_db()
    return company


POLICY_TEXT_LIMIT = 10000
POLICY_URL_LIMIT = 500
_policy_link_check = URLValidator(schemes=["http", "https"])


def policy_link_clean(url: str, *, what: str) -> str:
    """A policy link as stored: empty, or an http(s) web address (never javascript:, data: …)."""
    url = (url or "").strip()
    if not url:
        return ""
    if len(url) > POLICY_URL_LIMIT:
        raise ApplicationError(f"The link to your {what} can be at most {POLICY_URL_LIMIT} characters.")
    try:
        _policy_link_check(url)
    except ValidationError:
        raise ApplicationError(
            f"The link to your {what} must be a web address starting with https:// (or http://)."
        ) from None
    return url


def _policy_text(text: str, *, what: str) -> str:
    text = (text or "").strip()
    if len(text) > POLICY_TEXT_LIMIT:
        raise ApplicationError(f"Your {what} can be at most {POLICY_TEXT_LIMIT} characters.")
    return text


@transaction.atomic
def company_policies_update(
    *, company: Company, actor, refund_policy_text: str, refund_policy_url: str, terms_text: str, terms_url: str
) -> Company:
    """Change a company's refund policy and terms (each a text and/or an http(s) link; empty removes
    it); only its owners and admins may. Cases already opened keep the snapshot made at opening."""
    from .selectors import membership_role

    if membership_role(user=actor, company=company) not in Membership.MANAGING_ROLES:
        raise NotAllowedError("Only the company's owners and admins can change the refund policy and terms.")
    values = {
        "refund_policy_text": _policy_text(refund_policy_text, what="refund policy"),
        "refund_policy_url": policy_link_clean(refund_policy_url, what="refund policy"),
        "terms_text": _policy_text(terms_text, what="terms"),
        "terms_url": policy_link_clean(terms_url, what="terms"),
    }
    Company.objects.filter(pk=company.pk).update(**values)
    company.refresh_from_db()
    return company


__all__ = [
    "ActorKind",
    "balance_credit_grant",
    "company_auto_refund_update",
    "company_policies_update",
    "policy_link_clean",
    "credit_idempotency_key",
    "refund_claim",
    "refund_idempotency_key",
    "refund_ids_due",
    "refund_processor_answers",
    "refund_record",
    "refund_request",
    "refund_retry_now",
    "refunds_request_rest",
    "validate_money",
]
