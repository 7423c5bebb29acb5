"""Webhook endpoints a company registers, the outbox of events owed to each endpoint, and the log
of every delivery attempt.

An event row is written in the same transaction as the case change it reports (webhooks.recording)
and is delivered after the commit by the task cluster (webhooks.delivery). Its ``public_id`` is the
Standard Webhooks ``webhook-id`` and the payload's ``id``: every attempt and every Resend of it
carries the same one, so a receiver can drop repeats.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q


def new_public_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def new_endpoint_id() -> str:
    return new_public_id("hook")


def new_event_id() -> str:
    return new_public_id("msg")


def new_delivery_id() -> str:
    return new_public_id("whd")


class EventType(models.TextChoices):
    CREATED = "resolution_center_case.created", "A case was opened"
    UPDATED = "resolution_center_case.updated", "A case changed state or got a message"
    DECIDED = "resolution_center_case.decided", "A case's outcome was settled"


class DisabledReason(models.TextChoices):
    DELIVERY_FAILURES = "delivery_failures", "Every delivery failed for 3 days"


class WebhookEndpoint(models.Model):
    """Where a company wants its events POSTed, and the secret they are signed with.

    The secret must be kept readable (every delivery is signed with it); the pages show it once, when
    it is made or rotated. After a rotation the previous secret also signs deliveries until
    ``previous_secret_until``, so a receiver can switch over without dropping any."""

    public_id = models.CharField(max_length=40, unique=True, default=new_endpoint_id, editable=False)
    company = models.ForeignKey("payments.Company", on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    # Set only when we disabled it (3 days of failures); an owner's own disabling leaves these empty.
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=32, choices=DisabledReason.choices, blank=True)
    # The start of the current streak of failed attempts (None while healthy).
    failing_since = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["company", "enabled"], name="webhookendpoint_company")]

    def __str__(self) -> str:
        return f"{self.public_id} → {self.url}"


class WebhookEvent(models.Model):
    """One event owed to one endpoint (the outbox row): the exact body to send and where delivery stands."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be delivered"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Gave up after 3 days"

    public_id = models.CharField(max_length=40, unique=True, default=new_event_id, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="webhook_events")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+", db_index=False)
    type = models.CharField(max_length=64, choices=EventType.choices)
    # The JSON body exactly as signed and sent (the signature covers these bytes).
    body = models.TextField()
    created_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # Retries run until this moment (3 days after the event, or after a Resend).
    retry_until = models.DateTimeField()
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A worker holds the event while it sends it; one that dies mid-send leaves it to be taken again
    # once this passes (longer than the HTTP timeout, so a slow answer is never sent twice at once).
    claimed_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # Who pressed Resend, until the attempt it asked for has been made (it is logged on that attempt).
    resend_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(type__in=EventType.values), name="webhookevent_type_known"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "delivered", "failed"]), name="webhookevent_status_known"
            ),
        ]
        indexes = [
            # The every-minute safety net reads only what is still owed.
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhookevent_due"),
            models.Index(fields=["endpoint", "-created_at", "-id"], name="webhookevent_endpoint_log"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.type})"


class WebhookDelivery(models.Model):
    """One attempt to POST an event: what came back and how long it took. Append-only."""

    public_id = models.CharField(max_length=40, unique=True, default=new_delivery_id, editable=False)
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    attempt = models.PositiveIntegerField()
    sent_at = models.DateTimeField()
    # None when no HTTP answer came (refused address, timeout, connection error): see ``error``.
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.CharField(max_length=300, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    success = models.BooleanField(default=False)
    # When the next attempt is due after this one failed (None: delivered, or no more retries).
    next_retry_at = models.DateTimeField(null=True, blank=True)
    # A Resend pressed by a person (not the retry schedule).
    resent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["event", "attempt"], name="webhookdelivery_event")]

    def __str__(self) -> str:
        return f"{self.event.public_id} attempt {self.attempt}"
