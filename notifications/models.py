from django.conf import settings
from django.db import models

from cases.models import CaseEvent


class UserPreferences(models.Model):
    """Per-user settings: the time zone deadlines are shown in, and the Resolution Center emails toggle."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences")
    time_zone = models.CharField(max_length=64, default="UTC")
    resolution_center_emails = models.BooleanField(
        default=True, help_text="Send me Resolution Center emails (in-app notifications are always kept)."
    )

    class Meta:
        verbose_name_plural = "user preferences"

    def __str__(self) -> str:
        return f"Preferences of {self.user}"


# The timeline actions that notify someone (notifications.services.routing decides whom), with the
# timeline's own values and labels, plus the one kind that is not a timeline action.
_NOTIFYING_ACTIONS = (
    CaseEvent.Action.OPENED,
    CaseEvent.Action.INFO_REQUESTED,
    CaseEvent.Action.REPLIED,
    CaseEvent.Action.MESSAGE,
    CaseEvent.Action.OFFER_MADE,
    CaseEvent.Action.OFFER_ACCEPTED,
    CaseEvent.Action.OFFER_DECLINED,
    CaseEvent.Action.ACCEPTED,
    CaseEvent.Action.REFUNDED_IN_FULL,
    CaseEvent.Action.DENIED,
    CaseEvent.Action.WITHDRAWN,
    CaseEvent.Action.AUTO_REFUNDED,
    CaseEvent.Action.ESCALATED,
    CaseEvent.Action.REPLY_EXPIRED,
    CaseEvent.Action.DECIDED,
    CaseEvent.Action.APPEALED,
    CaseEvent.Action.APPEAL_WAIVED,
    CaseEvent.Action.FINALIZED,
    CaseEvent.Action.REMINDER,
)
NotificationKind = models.TextChoices(
    "NotificationKind",
    [(action.name, (action.value, action.label)) for action in _NOTIFYING_ACTIONS]
    + [("REVIEWER_MESSAGE", ("reviewer_message", "Message from a reviewer"))],
)


class EmailStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    # A message's notice: emailed with the case's others in one email at most once an hour.
    DIGEST = "digest", "Waiting for the hourly message email"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Not emailed (emails off or no address)"
    FAILED = "failed", "Gave up after retries"


class Notification(models.Model):
    """One person's notice of one timeline event: an entry in their in-app list and, unless they
    turned Resolution Center emails off, one email.

    Written in the same transaction as the event it reports; the email goes out afterwards. The
    ``email_*`` fields are the delivery state machine: a deliverer claims the row by
    compare-and-set (``pending`` -> ``sending`` with a fresh ``email_claim``), sends, and marks it
    ``sent`` only if its claim still holds, so two deliverers never both send it.
    """

    # No single-column indexes on recipient and event: the list index and the unique constraint
    # below lead with them, and every index costs the sweep's bulk inserts.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    # Which side of the case the recipient is on: decides the wording and the link.
    party = models.CharField(
        max_length=16, choices=[("customer", "Customer"), ("merchant", "Merchant"), ("reviewer", "Reviewer")]
    )
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="notifications")
    event = models.ForeignKey("cases.CaseEvent", on_delete=models.PROTECT, related_name="notifications", db_index=False)
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    subject = models.CharField(max_length=200)
    what_happened = models.TextField()
    next_step = models.TextField()
    # The deadline the recipient should know about (shown in their own time zone), if any.
    deadline = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(max_length=16, choices=EmailStatus.choices, default=EmailStatus.PENDING)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    # pending: when the sweep should (re)try it; sending: when the current claim expires.
    email_next_attempt_at = models.DateTimeField(null=True, blank=True)
    email_claim = models.UUIDField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "recipient"], name="notification_once_per_event_recipient"),
            models.CheckConstraint(
                condition=models.Q(email_status__in=EmailStatus.values), name="notification_email_status_known"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_recipient_list"),
            models.Index(
                fields=["recipient"], condition=models.Q(read_at__isnull=True), name="notification_recipient_unread"
            ),
            # The delivery safety net only ever looks at emails still to send.
            models.Index(
                fields=["email_next_attempt_at"],
                condition=models.Q(email_status__in=["pending", "sending"]),
                name="notification_email_due",
            ),
            # The hourly message emails waiting for their hour (notifications.services.digests).
            models.Index(
                fields=["email_next_attempt_at"],
                condition=models.Q(email_status="digest"),
                name="notification_digest_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.recipient} on case #{self.case_id}"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None
