"""The hourly message email (DOMAIN.md, "Messages reach people"): a message tells the other side at
once in the app; its email waits, so that a person gets at most one email per case every
``RESOLUTION["MESSAGE_EMAIL_MINUTES"]``, listing every message that arrived since.

A message's notice is recorded with ``email_status = digest`` and ``email_next_attempt_at`` = its
time + the interval (recording.py). The first message after an email opens a window; when it is
due, the task cluster (``message_digests_send_due``, every minute, ``manage.py setup_schedules``)
sends ONE email for the whole (case, recipient) group, every message that arrived meanwhile
included. So two emails of one case to one person are always at least the interval apart.

Exactly once, as for the other emails (delivery.py): a sender claims the whole group by
compare-and-set (``digest`` -> ``sending`` with its own claim token, only while some row of the
group is due), so two clusters never send the same digest; it marks the rows ``sent`` only while
its claim holds. A failed send hands the rows back (``digest``, exponential backoff); a dead
worker's claim is handed back when its lease runs out. A retry of the same rows carries the same
Message-ID (made of the group and its first and last notice), so mail systems drop the duplicate
of the one gap no database closes (a crash after the mail server accepted the email).
"""

import logging
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Exists, F
from django.template.loader import render_to_string
from django.utils import timezone

from cases.models import Message
from resolution_center.formatting import DATE_TIME, format_local, format_money

from ..links import case_url, notifications_settings_url
from ..messages import message_author
from ..models import EmailStatus, Notification, NotificationKind
from ..selectors import user_time_zone
from .delivery import conf, email_sent_event, retry_backoff, still_wants_email

log = logging.getLogger("notifications.services")
EXCERPT_LIMIT = 300
MESSAGE = NotificationKind.MESSAGE


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_LIMIT else text[: EXCERPT_LIMIT - 1] + "…"


def _message_id(rows: list[Notification]) -> str:
    first, last = rows[0], rows[-1]
    host = urlsplit(settings.SITE_URL).hostname or "resolution-center.invalid"
    return f"<messages-{first.case_id}-{first.recipient_id}-{first.pk}-{last.pk}@{host}>"


def message_digest_render(*, rows: list[Notification]) -> EmailMultiAlternatives:
    """One email listing the messages ``rows`` tell of (one case, one recipient, oldest first):
    who wrote, when (in the recipient's own time zone), an excerpt, the files, and the link."""
    first = rows[0]
    recipient, case = first.recipient, first.case
    tz = user_time_zone(recipient)
    events = [row.event for row in rows]
    # The files came with the messages (a message's row and its events share the instant and author).
    files: dict[tuple, list[str]] = {}
    posted = Message.objects.filter(case_id=case.pk, created_at__in={e.created_at for e in events})
    for message in posted.prefetch_related("attachments"):
        names = [a.original_name for a in message.attachments.all()]
        files.setdefault((message.created_at, message.author_kind), []).extend(names)
    items = [
        {
            "who": message_author(case.company.name, event.actor_kind, first.party),
            "when": format_local(event.created_at, DATE_TIME, tz),
            "excerpt": _excerpt(event.note),
            "files": ", ".join(files.get((event.created_at, event.actor_kind), [])),
        }
        for event in events
    ]
    count = len(items)
    product = case.payment.product.name
    subject = f"Case #{case.pk} ({product}): {count} new message{'s' if count > 1 else ''}"
    context = {
        "subject": subject,
        "recipient_name": recipient.get_full_name() or recipient.get_username(),
        "case": case,
        "items": items,
        "company_name": case.company.name,
        "product_name": product,
        "amount": format_money(case.payment.amount_cents, case.payment.currency),
        "case_url": case_url(case=case, party=first.party),
        "settings_url": notifications_settings_url(),
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/message_digest.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
        headers={"Message-ID": _message_id(rows)},
    )
    message.attach_alternative(render_to_string("emails/message_digest.html", context), "text/html")
    return message


def message_digest_send(*, case_id: int, recipient_id: int, connection=None, now: datetime | None = None) -> str:
    """Send one (case, recipient) group's message email if it is due and nobody else has it;
    returns sent, skipped, retry, failed or not_claimed. Run outside a transaction."""
    now = now or timezone.now()
    claim = uuid.uuid4()
    group = Notification.objects.filter(case_id=case_id, recipient_id=recipient_id, kind=MESSAGE)
    waiting = group.filter(email_status=EmailStatus.DIGEST)
    claimed = waiting.filter(Exists(waiting.filter(email_next_attempt_at__lte=now))).update(
        email_status=EmailStatus.SENDING,
        email_claim=claim,
        email_next_attempt_at=now + timedelta(seconds=conf("EMAIL_CLAIM_SECONDS")),
        email_attempts=F("email_attempts") + 1,
    )
    if not claimed:
        return "not_claimed"
    ours = Notification.objects.filter(email_claim=claim)
    rows = list(
        ours.select_related(
            "event", "recipient", "recipient__preferences", "case__company", "case__payment__product"
        ).order_by("event__created_at", "id")
    )
    if not rows:  # the recipient was deleted meanwhile
        return "not_claimed"
    if not still_wants_email(rows[0]):
        # Turned off (or the address removed) after the messages: the in-app entries are enough.
        ours.update(email_status=EmailStatus.SKIPPED, email_claim=None, email_next_attempt_at=None)
        return "skipped"
    try:
        email = message_digest_render(rows=rows)
        email.connection = connection
        email.send()
    except Exception as error:
        attempts = max(row.email_attempts for row in rows)
        gave_up = attempts >= conf("EMAIL_MAX_ATTEMPTS")
        log.warning(
            "Message email of case %s to user %s failed (attempt %s): %r", case_id, recipient_id, attempts, error
        )
        ours.update(
            email_status=EmailStatus.FAILED if gave_up else EmailStatus.DIGEST,
            email_claim=None,
            email_next_attempt_at=None if gave_up else now + retry_backoff(attempts),
            email_last_error=repr(error)[:1000],
        )
        return "failed" if gave_up else "retry"
    with transaction.atomic():
        marked = ours.update(
            email_status=EmailStatus.SENT,
            email_claim=None,
            email_next_attempt_at=None,
            email_sent_at=now,
            email_last_error="",
        )
        if not marked:
            log.error("Message email of case %s was sent after its claim expired; raise EMAIL_CLAIM_SECONDS", case_id)
            return "sent"
        email_sent_event(rows[0], subject=email.subject, now=now)
    return "sent"


def message_digests_send_due(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Every minute: hand back the claims of dead workers, then send each due (case, recipient)
    group's email. Returns how many ended how."""
    now = now or timezone.now()
    Notification.objects.filter(kind=MESSAGE, email_status=EmailStatus.SENDING, email_next_attempt_at__lt=now).update(
        email_status=EmailStatus.DIGEST, email_claim=None
    )
    due = (
        Notification.objects.filter(email_status=EmailStatus.DIGEST, email_next_attempt_at__lte=now)
        .order_by()
        .values_list("case_id", "recipient_id")
        .distinct()[:limit]
    )
    outcomes: dict[str, int] = {}
    for case_id, recipient_id in list(due):
        outcome = message_digest_send(case_id=case_id, recipient_id=recipient_id, now=now)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
