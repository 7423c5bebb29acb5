"""Notifications are recorded in the same transaction as the change they report and emailed afterwards.

Who hears about what (DOMAIN.md, Notifications) is decided in ``_parties``; what each one says is in
``notifications.messages``. Each notification is one row per recipient: an in-app entry for everyone
concerned, and an email unless the recipient turned Resolution Center emails off. Platform reviewers
are not emailed: they work from the reviewer queue in the admin, which shows how long each case has
waited, and one email per escalation to every reviewer would drown them.

Delivery: a deliverer claims a row by compare-and-set (``pending`` -> ``sending`` with its own claim
token), sends, and marks it ``sent`` only while its claim holds, so racing deliverers send it once. A
failed send goes back to ``pending`` with exponential backoff; the every-minute sweep
(``notifications_deliver_due``) re-queues anything due, including claims left by a crashed worker.
The one gap no database can close: a crash between the mail server accepting a message and the row
being marked sent resends it, with the same Message-ID, so mail systems can drop the duplicate.
"""

import logging
import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from cases.models import CaseEvent, Visibility
from payments.formatting import format_money
from payments.models import ActorKind, Company, Membership, Payment, Product
from resolution_center.exceptions import ApplicationError

from .links import case_url, notifications_settings_url
from .messages import (
    CASE_ID_TOKEN,
    COMPANY_TOKEN,
    PRODUCT_TOKEN,
    SUBJECT_LIMIT,
    CaseFacts,
    compose,
    compose_template,
)
from .models import EmailStatus, Notification, NotificationKind, UserPreferences
from .selectors import user_time_zone

log = logging.getLogger(__name__)

Action = CaseEvent.Action
Kind = NotificationKind
CUSTOMER = ActorKind.CUSTOMER
MERCHANT = ActorKind.MERCHANT

DEFAULTS = {
    # Give up on an email after this many tries (about four and a half hours with the backoff below).
    "EMAIL_MAX_ATTEMPTS": 8,
    "EMAIL_RETRY_BASE_SECONDS": 60,
    "EMAIL_RETRY_MAX_SECONDS": 2 * 60 * 60,
    # How long a deliverer's claim lasts; must comfortably exceed EMAIL_TIMEOUT, or a slow send
    # could be claimed again and sent twice.
    "EMAIL_CLAIM_SECONDS": 300,
    # How long the task queued on commit has before the sweep steps in, and how far the sweep
    # pushes the emails it queues so the next sweep does not queue them again.
    "EMAIL_GRACE_SECONDS": 60,
    "EMAIL_REQUEUE_SECONDS": 120,
    "DELIVERY_CHUNK": 50,
}


def conf(key: str):
    return {**DEFAULTS, **getattr(settings, "NOTIFICATIONS", {})}[key]


def _now(now: datetime | None) -> datetime:
    return timezone.now() if now is None else now


# --- who hears about what ------------------------------------------------------------------------

BOTH = (CUSTOMER, MERCHANT)
_BY_ACTION = {
    Action.OPENED: BOTH,
    Action.INFO_REQUESTED: (CUSTOMER,),
    Action.REPLIED: (MERCHANT,),
    Action.ACCEPTED: (CUSTOMER,),
    Action.DENIED: (CUSTOMER,),
    Action.WITHDRAWN: (MERCHANT,),
    Action.AUTO_REFUNDED: BOTH,
    Action.ESCALATED: BOTH,
    Action.REPLY_EXPIRED: BOTH,
    Action.DECIDED: BOTH,
    Action.FINALIZED: BOTH,
}
_VISIBLE_TO = {
    Visibility.EVERYONE: (CUSTOMER, MERCHANT),
    Visibility.CUSTOMER: (CUSTOMER,),
    Visibility.MERCHANT: (MERCHANT,),
    Visibility.REVIEWERS: (),
}


def _other_party(actor_kind: str) -> tuple[str, ...]:
    return (MERCHANT,) if actor_kind == CUSTOMER else (CUSTOMER,) if actor_kind == MERCHANT else ()


def _parties(event: CaseEvent) -> list[tuple[str, str]]:
    """(party, notification kind) pairs this timeline event notifies; [] for most events."""
    action = event.action
    if action in _BY_ACTION:
        return [(party, action) for party in _BY_ACTION[action]]
    if action in (Action.APPEALED, Action.APPEAL_WAIVED):
        # The appellant knows what they did; the other side needs to hear it.
        return [(party, action) for party in _other_party(event.actor_kind)]
    if action == Action.MESSAGE and event.actor_kind == ActorKind.REVIEWER:
        # A reviewer's message (often a question to one party) is otherwise never seen in time.
        return [(party, Kind.REVIEWER_MESSAGE) for party in _VISIBLE_TO[event.visibility]]
    if action == Action.REMINDER:
        return [(party, Kind.REMINDER) for party in _VISIBLE_TO[event.visibility]]
    # Messages between the parties, files, money rows and notification records notify nobody:
    # DOMAIN.md lists the events that do.
    return []


def _auto_refund_follows(event: CaseEvent) -> bool:
    """A case opened under an automatic refund is settled in the same transaction; its one
    notification is the "refunded automatically" one, not a "please answer" to the merchant."""
    from cases.services import _auto_refund_applies  # the rule lives with case_open

    # case_open's case holds the payment (with its company) it just locked.
    return _auto_refund_applies(event.case.payment)[0]


# --- recording (inside the change's transaction) ---------------------------------------------------


@dataclass(frozen=True)
class _Recipient:
    user_id: int
    wants_email: bool


def _wants_email(*, email: str, is_active: bool, emails_on: bool | None) -> bool:
    # No preferences row yet means the default: emails on.
    return bool(email) and is_active and emails_on is not False


def _facts_and_customers(case_ids: set[int]) -> tuple[dict[int, CaseFacts], dict[int, _Recipient]]:
    """The cases' facts and their customers as recipients, in one query."""
    from cases.models import Case

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
        "customer__email",
        "customer__is_active",
        "customer__preferences__resolution_center_emails",
    )
    facts, customers = {}, {}
    for *case_columns, email, is_active, emails_on in rows:
        case_facts = CaseFacts(*case_columns)
        facts[case_facts.case_id] = case_facts
        customers[case_facts.customer_id] = _Recipient(
            case_facts.customer_id, _wants_email(email=email, is_active=is_active, emails_on=emails_on)
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
            _Recipient(user_id, _wants_email(email=email, is_active=True, emails_on=on))
        )
    return members


def notifications_for_event(*, event: CaseEvent) -> list[Notification]:
    """Record the notifications one timeline event calls for (called by cases.services for every event)."""
    return notifications_for_events(events=[event])


def notifications_for_events(*, events: list[CaseEvent]) -> list[Notification]:
    """Record, in the caller's transaction, the notifications a list of timeline events calls for.

    Set-based so that the deadline sweep can notify a whole batch with a handful of queries; the
    per-case services go through the same code with a list of one. The emails are queued when the
    transaction commits: a rolled-back change leaves neither a notification nor an email.
    """
    wanted = [(event, party, kind) for event in events for party, kind in _parties(event)]
    wanted = [(e, p, k) for e, p, k in wanted if k != Kind.OPENED or not _auto_refund_follows(e)]
    if not wanted:
        return []
    facts, customers = _facts_and_customers({event.case_id for event, _, _ in wanted})
    members = _merchant_members({f.company_id for f in facts.values()})
    grace = timedelta(seconds=conf("EMAIL_GRACE_SECONDS"))

    notifications: list[Notification] = []
    told: dict[int, set[int]] = {}
    for event, party, kind in wanted:
        case_facts = facts[event.case_id]
        text = compose(kind=kind, party=party, facts=case_facts, event=event)
        if party == CUSTOMER:
            recipients = [customers[case_facts.customer_id]]
        else:
            recipients = members.get(case_facts.company_id, [])
        seen = told.setdefault(id(event), set())
        for recipient in recipients:
            # A customer who is also a member of the selling company hears once, as the customer.
            if recipient.user_id in seen:
                continue
            seen.add(recipient.user_id)
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
                    email_status=EmailStatus.PENDING if recipient.wants_email else EmailStatus.SKIPPED,
                    email_next_attempt_at=event.created_at + grace if recipient.wants_email else None,
                )
            )
    Notification.objects.bulk_create(notifications)
    pending = [n.pk for n in notifications if n.email_status == EmailStatus.PENDING]
    if pending:
        transaction.on_commit(partial(notifications_enqueue_delivery, ids=pending), robust=True)
    return notifications


# The set-based twin, for the deadline sweep: thousands of cases per statement. The texts come from
# notifications.messages with placeholders filled in by SQL; who is told is _parties(), as above;
# tests/deadlines/test_bulk_equals_per_case.py holds the rows equal to the per-case path's.
SYSTEM_EVENT_KINDS = {Kind.ESCALATED, Kind.REPLY_EXPIRED, Kind.FINALIZED, Kind.REMINDER}


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def notifications_for_system_events(*, event: CaseEvent, case_ids: list[int], outcome: str = "") -> int:
    """Record the notifications for one timeline row appended to each of ``case_ids`` by the sweep.

    ``event`` is an unsaved model of those rows (same action, states, visibility, note and time);
    ``outcome`` is the cases' outcome where the wording needs it. Returns how many were written.
    """
    parties = _parties(event)
    if not parties or not case_ids:
        return 0
    from cases.models import Case

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


# --- delivery (after commit, by tasks) -------------------------------------------------------------


def notifications_enqueue_delivery(*, ids: list[int]) -> None:
    """Queue delivery tasks in chunks. If the broker is unreachable the rows stay ``pending`` and the
    every-minute sweep queues them again, so nothing is lost."""
    from django_q.conf import Conf
    from django_q.tasks import async_task

    chunk = conf("DELIVERY_CHUNK")
    chunks = [ids[start : start + chunk] for start in range(0, len(ids), chunk)]
    if Conf.ORM and not Conf.SYNC and len(chunks) > 1:
        # The database broker: one transaction for all the chunks (one commit, not one per task;
        # the sweep queues dozens per batch). If it fails, none is queued and the sweep re-queues them.
        try:
            with transaction.atomic(using=Conf.ORM):
                for part in chunks:
                    async_task("notifications.tasks.notifications_deliver", part, group="notifications")
        except Exception:
            log.exception("Could not queue notification delivery; the sweep will retry it")
        return
    for part in chunks:
        try:
            async_task("notifications.tasks.notifications_deliver", part, group="notifications")
        except Exception:
            log.exception("Could not queue notification delivery; the sweep will retry it")


def _backoff(attempts: int) -> timedelta:
    seconds = conf("EMAIL_RETRY_BASE_SECONDS") * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, conf("EMAIL_RETRY_MAX_SECONDS")))


def _format_deadline(deadline: datetime | None, tz: zoneinfo.ZoneInfo) -> str:
    if deadline is None:
        return ""
    local = deadline.astimezone(tz)
    zone = local.tzname() or tz.key
    where = "" if zone == tz.key else f" ({tz.key})"
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} {zone}{where}"


def _message_id(notification: Notification) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "resolution-center.invalid"
    return f"<notification-{notification.pk}@{host}>"


def notification_email_render(*, notification: Notification) -> EmailMultiAlternatives:
    """The email for one notification: text and HTML parts, the deadline in the recipient's time zone."""
    recipient = notification.recipient
    case = notification.case
    tz = user_time_zone(recipient)
    context = {
        "notification": notification,
        "recipient_name": recipient.get_full_name() or recipient.get_username(),
        "case": case,
        "company_name": case.company.name,
        "product_name": case.payment.product.name,
        "amount": format_money(case.payment.amount_cents, case.payment.currency),
        "deadline_text": _format_deadline(notification.deadline, tz),
        "case_url": case_url(case=case, party=notification.party),
        "settings_url": notifications_settings_url(),
    }
    text = render_to_string("emails/notification.txt", context)
    html = render_to_string("emails/notification.html", context)
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
        headers={"Message-ID": _message_id(notification)},
    )
    message.attach_alternative(html, "text/html")
    return message


def _still_wants_email(notification: Notification) -> bool:
    recipient = notification.recipient
    try:
        emails_on = recipient.preferences.resolution_center_emails
    except UserPreferences.DoesNotExist:
        emails_on = True
    return _wants_email(email=recipient.email, is_active=recipient.is_active, emails_on=emails_on)


def notification_deliver(*, notification_id: int, connection=None, now: datetime | None = None) -> str:
    """Send one notification's email at most once; returns what happened (sent, skipped, retry,
    failed, or not_claimed when someone else has it or it is done). Run outside a transaction."""
    now = _now(now)
    claim = uuid.uuid4()
    claimed = (
        Notification.objects.filter(pk=notification_id)
        .filter(
            Q(email_status=EmailStatus.PENDING) | Q(email_status=EmailStatus.SENDING, email_next_attempt_at__lt=now)
        )
        .update(
            email_status=EmailStatus.SENDING,
            email_claim=claim,
            email_next_attempt_at=now + timedelta(seconds=conf("EMAIL_CLAIM_SECONDS")),
            email_attempts=F("email_attempts") + 1,
        )
    )
    if not claimed:
        return "not_claimed"
    ours = Notification.objects.filter(pk=notification_id, email_claim=claim)
    notification = (
        Notification.objects.select_related(
            "recipient", "recipient__preferences", "case__company", "case__payment__product"
        )
        .filter(pk=notification_id)
        .first()
    )
    if notification is None:  # its recipient was deleted meanwhile
        return "not_claimed"
    if not _still_wants_email(notification):
        # Turned off (or the address removed) after the change: the in-app entry is enough.
        ours.update(email_status=EmailStatus.SKIPPED, email_claim=None, email_next_attempt_at=None)
        return "skipped"
    try:
        message = notification_email_render(notification=notification)
        message.connection = connection
        message.send()
    except Exception as error:
        attempts = notification.email_attempts
        gave_up = attempts >= conf("EMAIL_MAX_ATTEMPTS")
        log.warning("Email for notification %s failed (attempt %s): %r", notification_id, attempts, error)
        ours.update(
            email_status=EmailStatus.FAILED if gave_up else EmailStatus.PENDING,
            email_claim=None,
            email_next_attempt_at=None if gave_up else now + _backoff(attempts),
            email_last_error=repr(error)[:1000],
        )
        return "failed" if gave_up else "retry"
    _sent_record(notification, claim=claim, now=now)
    return "sent"


def _sent_record(notification: Notification, *, claim: uuid.UUID, now: datetime) -> None:
    """Mark the email sent and put it on the case's timeline (visible to the recipient's side),
    together. The timeline row is written directly: it notifies nobody in turn."""
    with transaction.atomic():
        marked = Notification.objects.filter(pk=notification.pk, email_claim=claim).update(
            email_status=EmailStatus.SENT,
            email_claim=None,
            email_next_attempt_at=None,
            email_sent_at=now,
            email_last_error="",
        )
        if not marked:
            log.error("Notification %s was sent after its claim expired; raise EMAIL_CLAIM_SECONDS", notification.pk)
            return
        if notification.party == CUSTOMER:
            who, visibility = f"the customer ({notification.recipient.email})", Visibility.CUSTOMER
        else:
            who, visibility = f"{notification.recipient.email} ({notification.case.company.name})", Visibility.MERCHANT
        CaseEvent.objects.create(
            case_id=notification.case_id,
            actor_kind=ActorKind.SYSTEM,
            action=Action.NOTIFICATION,
            from_state=notification.case.status,
            to_state=notification.case.status,
            visibility=visibility,
            note=f"Email sent to {who}: {notification.subject}",
            created_at=now,
        )


def notifications_deliver(*, ids: list[int]) -> dict[str, int]:
    """Deliver a chunk, one at a time; returns how many ended how."""
    outcomes: dict[str, int] = {}
    for notification_id in ids:
        outcome = notification_deliver(notification_id=notification_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def notifications_deliver_due(*, now: datetime | None = None, limit: int = 2000) -> int:
    """The sweep's safety net: queue every email that is due — retries whose backoff has passed,
    ones whose on-commit task never ran (a crash, a broker outage), and ones a crashed worker had
    claimed. Returns how many were queued."""
    now = _now(now)
    # A claim that outlived its lease belongs to a worker that died: hand the email back.
    Notification.objects.filter(email_status=EmailStatus.SENDING, email_next_attempt_at__lt=now).update(
        email_status=EmailStatus.PENDING, email_claim=None
    )
    due = Notification.objects.filter(email_status=EmailStatus.PENDING, email_next_attempt_at__lte=now)
    ids = list(due.order_by("email_next_attempt_at", "id").values_list("pk", flat=True)[:limit])
    if not ids:
        return 0
    # Pushed forward so that the next minute's sweep does not queue them again while they wait.
    Notification.objects.filter(pk__in=ids, email_status=EmailStatus.PENDING, email_next_attempt_at__lte=now).update(
        email_next_attempt_at=now + timedelta(seconds=conf("EMAIL_REQUEUE_SECONDS"))
    )
    notifications_enqueue_delivery(ids=ids)
    return len(ids)


# --- the in-app list and the settings page --------------------------------------------------------


def notification_mark_read(*, user, notification_id: int, now: datetime | None = None) -> Notification:
    now = _now(now)
    notification = Notification.objects.filter(pk=notification_id, recipient_id=user.pk).first()
    if notification is None:
        raise ApplicationError("This notification does not exist.")
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
    notification.refresh_from_db(fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user, now: datetime | None = None) -> int:
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).update(read_at=_now(now))


def user_preferences_update(*, user, time_zone: str, resolution_center_emails: bool) -> UserPreferences:
    """Change a user's time zone and Resolution Center emails toggle (in-app entries are always kept)."""
    if time_zone not in zoneinfo.available_timezones():
        raise ApplicationError("Please choose a time zone from the list, for example Europe/Berlin.")
    preferences, _ = UserPreferences.objects.update_or_create(
        user=user, defaults={"time_zone": time_zone, "resolution_center_emails": bool(resolution_center_emails)}
    )
    return preferences


__all__ = [
    "notification_deliver",
    "notification_email_render",
    "notification_mark_read",
    "notifications_deliver",
    "notifications_deliver_due",
    "notifications_enqueue_delivery",
    "notifications_for_event",
    "notifications_for_events",
    "notifications_for_system_events",
    "notifications_mark_all_read",
    "user_preferences_update",
]
