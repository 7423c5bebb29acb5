"""Delivery, after commit, by tasks: a deliverer claims a row by compare-and-set (``pending`` ->
``sending`` with its own claim token), sends, and marks it ``sent`` only while its claim holds, so
racing deliverers send it once. A failed send goes back to ``pending`` with exponential backoff;
the every-minute safety net (``notifications_deliver_due``) re-queues anything due, including
claims left by a crashed worker. The one gap no database can close: a crash between the mail
server accepting a message and the row being marked sent resends it, with the same Message-ID,
so mail systems can drop the duplicate.
"""

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cases.models import CaseEvent, Visibility
from payments.models import ActorKind

from ..models import EmailStatus, Notification, NotificationKind, UserPreferences
from .emails import notification_email_render

log = logging.getLogger("notifications.services")
CUSTOMER = ActorKind.CUSTOMER

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


def wants_email(*, email: str, is_active: bool, emails_on: bool | None) -> bool:
    # No preferences row yet means the default: emails on.
    return bool(email) and is_active and emails_on is not False


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


def retry_backoff(attempts: int) -> timedelta:
    seconds = conf("EMAIL_RETRY_BASE_SECONDS") * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, conf("EMAIL_RETRY_MAX_SECONDS")))


def still_wants_email(notification: Notification) -> bool:
    recipient = notification.recipient
    try:
        emails_on = recipient.preferences.resolution_center_emails
    except UserPreferences.DoesNotExist:
        emails_on = True
    return wants_email(email=recipient.email, is_active=recipient.is_active, emails_on=emails_on)


def notification_deliver(*, notification_id: int, connection=None, now: datetime | None = None) -> str:
    """Send one notification's email at most once; returns what happened (sent, skipped, retry,
    failed, or not_claimed when someone else has it or it is done). Run outside a transaction."""
    now = now or timezone.now()
    claim = uuid.uuid4()
    claimed = (
        Notification.objects.filter(pk=notification_id)
        .exclude(kind=NotificationKind.MESSAGE)  # a message's email is its case's digest (digests.py)
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
    if not still_wants_email(notification):
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
            email_next_attempt_at=None if gave_up else now + retry_backoff(attempts),
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
        email_sent_event(notification, subject=notification.subject, now=now)


def email_sent_event(notification: Notification, *, subject: str, now: datetime) -> None:
    """The timeline row of a sent email (the one of a notification, or of a message digest)."""
    if notification.party == CUSTOMER:
        who, visibility = f"the customer ({notification.recipient.email})", Visibility.CUSTOMER
    else:
        who, visibility = f"{notification.recipient.email} ({notification.case.company.name})", Visibility.MERCHANT
    CaseEvent.objects.create(
        case_id=notification.case_id,
        actor_kind=ActorKind.SYSTEM,
        action=CaseEvent.Action.NOTIFICATION,
        from_state=notification.case.status,
        to_state=notification.case.status,
        visibility=visibility,
        note=f"Email sent to {who}: {subject}",
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
    now = now or timezone.now()
    # A claim that outlived its lease belongs to a worker that died: hand the email back.
    # (A message digest's own claims are handed back by digests.py.)
    Notification.objects.filter(email_status=EmailStatus.SENDING, email_next_attempt_at__lt=now).exclude(
        kind=NotificationKind.MESSAGE
    ).update(email_status=EmailStatus.PENDING, email_claim=None)
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
