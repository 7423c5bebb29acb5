"""Notifications are recorded in the same transaction as the change they report: one row per
recipient, an in-app entry for everyone concerned and an email unless they turned Resolution Center
emails off. The emails are queued when the transaction commits (delivery.py).

Called from the cases app's signals (notifications/receivers.py), so ``cases`` never imports this app.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F

from cases.models import Case, CaseEvent
from payments.models import ActorKind, Company, Membership, Payment, Product

from ..messages import (
    CASE_ID_TOKEN,
    COMPANY_TOKEN,
    PRODUCT_TOKEN,
    SUBJECT_LIMIT,
    CaseFacts,
    compose,
    compose_template,
)
from ..models import EmailStatus, Notification, NotificationKind, UserPreferences
from .delivery import conf, notifications_enqueue_delivery, wants_email
from .routing import auto_refund_follows, parties_for

Kind = NotificationKind
CUSTOMER = ActorKind.CUSTOMER
MERCHANT = ActorKind.MERCHANT
REVIEWER = ActorKind.REVIEWER
MESSAGE_KINDS = (Kind.MESSAGE, Kind.REVIEWER_MESSAGE)


@dataclass(frozen=True)
class _Recipient:
    user_id: int
    wants_email: bool


def _facts_and_customers(case_ids: set[int]) -> tuple[dict[int, CaseFacts], dict[int, _Recipient]]:
    """The cases' facts and their customers as recipients, in one query."""
    rows = Case.objects.filter(pk__in=case_ids).values_list(
        "pk",
        "customer_id",
        "company_id",
        "company__name",
        "payment__product__name",
        "payment_id",
        "reason",
        "outcome",
        "next_deadline_at",
        "appealed_by_kind",
        F("payment__amount_cents") - F("payment__refunded_cents"),
        "payment__currency",
        "denial_reason",
        "customer__email",
        "customer__is_active",
        "customer__preferences__resolution_center_emails",
    )
    facts, customers = {}, {}
    for *case_columns, email, is_active, emails_on in rows:
        case_facts = CaseFacts(*case_columns)
        facts[case_facts.case_id] = case_facts
        customers[case_facts.customer_id] = _Recipient(
            case_facts.customer_id, wants_email(email=email, is_active=is_active, emails_on=emails_on)
        )
    return facts, customers


def _merchant_members(company_ids: set[int]) -> dict[int, list[_Recipient]]:
    rows = (
        Membership.objects.filter(company_id__in=company_ids, user__is_active=True)
        .order_by("company_id", "user_id")
        .values_list("company_id", "user_id", "user__email", "user__preferences__resolution_center_emails")
    )
    members: dict[int, list[_Recipient]] = {}
    for company_id, user_id, email, on in rows:
        members.setdefault(company_id, []).append(
            _Recipient(user_id, wants_email(email=email, is_active=True, emails_on=on))
        )
    return members


def _reviewers_holding(case_ids: set[int]) -> dict[int, list[_Recipient]]:
    """The reviewers holding each case, those who acted on it (routing.py), in one query; they
    hear of messages in the app only."""
    if not case_ids:
        return {}
    rows = (
        CaseEvent.objects.filter(case_id__in=case_ids, actor_kind=REVIEWER, actor__is_active=True)
        .values_list("case_id", "actor_id")
        .order_by("case_id", "actor_id")
        .distinct()
    )
    reviewers: dict[int, list[_Recipient]] = {}
    for case_id, actor_id in rows:
        reviewers.setdefault(case_id, []).append(_Recipient(actor_id, wants_email=False))
    return reviewers


def _email_state(kind: str, wants: bool, at: datetime) -> tuple[str, datetime | None]:
    """(email_status, email_next_attempt_at) of a new notice: a message's email waits for the
    case's hourly digest (digests.py); any other goes out at once, the sweep retrying after a grace."""
    if not wants:
        return EmailStatus.SKIPPED, None
    if kind == Kind.MESSAGE:
        return EmailStatus.DIGEST, at + timedelta(minutes=settings.RESOLUTION["MESSAGE_EMAIL_MINUTES"])
    return EmailStatus.PENDING, at + timedelta(seconds=conf("EMAIL_GRACE_SECONDS"))


def notifications_for_event(*, event: CaseEvent) -> list[Notification]:
    """Record the notifications one timeline event calls for (called by cases.services for every event)."""
    return notifications_for_events(events=[event])


def notifications_for_events(*, events: list[CaseEvent], told_by_change: bool = False) -> list[Notification]:
    """Record, in the caller's transaction, the notifications a list of timeline events calls for.

    Set-based so that the deadline sweep can notify a whole batch with a handful of queries; the
    per-case services go through the same code with a list of one. The emails are queued when the
    transaction commits: a rolled-back change leaves neither a notification nor an email.
    ``told_by_change``: the events are the message rows of messages posted with a state change,
    whose notice that change's own row carries (cases.signals), so they notify nobody again.
    """
    if told_by_change:
        return []
    wanted = [(event, party, kind) for event in events for party, kind in parties_for(event)]
    wanted = [(e, p, k) for e, p, k in wanted if k != Kind.OPENED or not auto_refund_follows(e)]
    if not wanted:
        return []
    reviewers = _reviewers_holding({e.case_id for e, party, _ in wanted if party == REVIEWER})
    facts, customers = _facts_and_customers({event.case_id for event, _, _ in wanted})
    members = _merchant_members({f.company_id for f in facts.values()})

    notifications: list[Notification] = []
    heard: dict[int, set[int]] = {}
    for event, party, kind in wanted:
        case_facts = facts[event.case_id]
        text = compose(kind=kind, party=party, facts=case_facts, event=event)
        if party == CUSTOMER:
            recipients = [customers[case_facts.customer_id]]
        elif party == REVIEWER:
            recipients = reviewers.get(event.case_id, [])
        else:
            recipients = members.get(case_facts.company_id, [])
        seen = heard.setdefault(id(event), set())
        for recipient in recipients:
            # A customer who is also a member of the selling company hears once, as the customer;
            # nobody hears of their own message.
            if recipient.user_id in seen or (kind in MESSAGE_KINDS and recipient.user_id == event.actor_id):
                continue
            seen.add(recipient.user_id)
            email_status, email_next_attempt_at = _email_state(kind, recipient.wants_email, event.created_at)
            notifications.append(
                Notification(
                    recipient_id=recipient.user_id,
                    party=party,
                    case_id=event.case_id,
                    event=event,
                    kind=kind,
                    subject=text.subject,
                    what_happened=text.what_happened,
                    next_step=text.next_step,
                    deadline=case_facts.deadline,
                    created_at=event.created_at,
                    email_status=email_status,
                    email_next_attempt_at=email_next_attempt_at,
                )
            )
    Notification.objects.bulk_create(notifications)
    pending = [n.pk for n in notifications if n.email_status == EmailStatus.PENDING]
    if pending:
        transaction.on_commit(partial(notifications_enqueue_delivery, ids=pending), robust=True)
    return notifications


# The set-based twin, for the deadline sweep: thousands of cases per statement. The texts come from
# notifications.messages with placeholders filled in by SQL; who is told is parties_for(), as above;
# tests/deadlines/test_bulk_equals_per_case.py holds the rows equal to the per-case path's.
SYSTEM_EVENT_KINDS = {Kind.ESCALATED, Kind.REPLY_EXPIRED, Kind.FINALIZED, Kind.REMINDER}


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def notifications_for_system_events(*, event: CaseEvent, case_ids: list[int], outcome: str = "") -> int:
    """Record the notifications for one timeline row appended to each of ``case_ids`` by the sweep.

    ``event`` is an unsaved model of those rows (same action, states, visibility, note and time);
    ``outcome`` is the cases' outcome where the wording needs it. Returns how many were written.
    """
    parties = parties_for(event)
    if not parties or not case_ids:
        return 0
    if not {kind for _, kind in parties} <= SYSTEM_EVENT_KINDS:
        raise ValueError(f"{event.action} notices depend on more than the case's names; use notifications_for_events")
    both_sides = len({party for party, _ in parties}) > 1
    user_table = _table(get_user_model())
    fill = "REPLACE(REPLACE(REPLACE(%s, %s, CAST(c.id AS TEXT)), %s, product.name), %s, company.name)"
    wants = "(COALESCE(u.email, '') <> '' AND u.is_active AND COALESCE(preferences.resolution_center_emails, TRUE))"
    created_at = connection.ops.adapt_datetimefield_value(event.created_at)
    retry_at = connection.ops.adapt_datetimefield_value(
        event.created_at + timedelta(seconds=conf("EMAIL_GRACE_SECONDS"))
    )
    placeholders = ", ".join(["%s"] * len(case_ids))
    written, pending = 0, []
    for party, kind in parties:
        if party == CUSTOMER:
            recipients = f"JOIN {user_table} u ON u.id = c.customer_id"
        else:
            # As in notifications_for_events: a customer who is also a member hears once, as the customer.
            recipients = (
                f"JOIN {_table(Membership)} m ON m.company_id = c.company_id "
                f"JOIN {user_table} u ON u.id = m.user_id AND u.is_active"
                + (" AND m.user_id <> c.customer_id" if both_sides else "")
            )
        text = compose_template(kind=kind, party=party, event=event, outcome=outcome)
        tokens = [CASE_ID_TOKEN, PRODUCT_TOKEN, COMPANY_TOKEN]
        sql = f"""
            INSERT INTO {_table(Notification)} (
                recipient_id, party, case_id, event_id, kind, subject, what_happened, next_step, deadline,
                created_at, read_at, email_status, email_attempts, email_next_attempt_at, email_claim,
                email_sent_at, email_last_error
            )
            SELECT u.id, %s, c.id, e.id, %s, SUBSTR({fill}, 1, {SUBJECT_LIMIT}), {fill}, {fill}, c.next_deadline_at,
                   %s, NULL, CASE WHEN {wants} THEN %s ELSE %s END, 0, CASE WHEN {wants} THEN %s ELSE NULL END,
                   NULL, NULL, ''
            FROM {_table(CaseEvent)} e
            JOIN {_table(Case)} c ON c.id = e.case_id
            JOIN {_table(Payment)} payment ON payment.id = c.payment_id
            JOIN {_table(Product)} product ON product.id = payment.product_id
            JOIN {_table(Company)} company ON company.id = c.company_id
            {recipients}
            LEFT JOIN {_table(UserPreferences)} preferences ON preferences.user_id = u.id
            WHERE e.case_id IN ({placeholders}) AND e.action = %s AND e.created_at = %s AND e.actor_kind = %s
            RETURNING id, email_status
        """
        params = [
            party,
            kind,
            text.subject,
            *tokens,
            text.what_happened,
            *tokens,
            text.next_step,
            *tokens,
            created_at,
            EmailStatus.PENDING,
            EmailStatus.SKIPPED,
            retry_at,
            *case_ids,
            event.action,
            created_at,
            event.actor_kind,
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        written += len(rows)
        pending.extend(pk for pk, status in rows if status == EmailStatus.PENDING)
    if pending:
        transaction.on_commit(partial(notifications_enqueue_delivery, ids=pending), robust=True)
    return written
