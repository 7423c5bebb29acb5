"""Delivering the outbox, after the commit, by the task cluster.

Each attempt claims its event by compare-and-set (a lease longer than the HTTP timeout), POSTs the
stored body signed afresh (the signature's timestamp is the attempt's), and logs the attempt. A 2xx
delivers the event. Anything else is retried with exponential backoff (RETRY_BASE_SECONDS doubling,
at most RETRY_MAX_SECONDS apart) until RETRY_WINDOW_SECONDS (3 days) after the event, the last try
falling on the window's end; then the event has failed. An endpoint whose attempts have all failed
for DISABLE_AFTER_SECONDS (3 days) is disabled and its owners and admins are emailed.

A worker killed mid-send leaves its claim to run out; the every-minute safety net
(``webhook_events_deliver_due``) then sends the event again under the same id, so a receiver that
got the lost attempt sees a repeat it can recognise, never a different event.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from payments.models import Membership

from .models import DisabledReason, WebhookDelivery, WebhookEndpoint, WebhookEvent
from .signing import signature_headers
from .transport import post

log = logging.getLogger(__name__)
Status = WebhookEvent.Status


def conf(name: str):
    return settings.WEBHOOKS[name]


def webhook_events_enqueue(*, ids: list[int]) -> None:
    """Queue one delivery task per event. If the broker is unreachable the rows stay pending and the
    safety net queues them again."""
    from django_q.tasks import async_task

    for event_id in ids:
        try:
            async_task("webhooks.tasks.webhook_event_deliver", event_id, group="webhooks")
        except Exception:
            log.exception("Could not queue webhook delivery; the safety net will retry it")


def backoff(attempts: int) -> timedelta:
    seconds = conf("RETRY_BASE_SECONDS") * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, conf("RETRY_MAX_SECONDS")))


def _claim(event_id: int, now: datetime) -> datetime | None:
    """Take the event for one attempt; None when it is not due, delivered, or held by another worker."""
    until = now + timedelta(seconds=conf("CLAIM_SECONDS"))
    taken = (
        WebhookEvent.objects.filter(
            pk=event_id, status=Status.PENDING, next_attempt_at__lte=now, endpoint__enabled=True
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=until, attempts=F("attempts") + 1)
    )
    return until if taken else None


def _secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    in_use = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        in_use.append(endpoint.previous_secret)
    return in_use


def webhook_event_deliver(*, event_id: int, now: datetime | None = None) -> bool | None:
    """One attempt at one event: True delivered, False failed, None not attempted (not ours now)."""
    now = now or timezone.now()
    claim = _claim(event_id, now)
    if claim is None:
        return None
    event = WebhookEvent.objects.select_related("endpoint").get(pk=event_id)
    endpoint = event.endpoint
    headers = signature_headers(msg_id=event.public_id, body=event.body, secrets_in_use=_secrets(endpoint, now), at=now)
    answer = post(endpoint.url, body=event.body, headers=headers)
    success = answer.status is not None and 200 <= answer.status < 300
    error = answer.error
    if answer.status is not None and 300 <= answer.status < 400:
        error = "Redirects are not followed: answer with 2xx at the URL itself."
    _record_attempt(
        event,
        endpoint,
        claim=claim,
        now=now,
        status=answer.status,
        body=answer.body,
        error=error,
        latency_ms=answer.latency_ms,
        success=success,
    )
    return success


@transaction.atomic
def _record_attempt(event, endpoint, *, claim, now, status, body, error, latency_ms, success) -> None:
    finished = now + timedelta(milliseconds=latency_ms)
    event = WebhookEvent.objects.select_for_update().get(pk=event.pk)
    next_retry = None
    if success:
        event.status, event.delivered_at, event.next_attempt_at = Status.DELIVERED, finished, None
    elif event.retry_until <= now:
        event.status, event.next_attempt_at = Status.FAILED, None
    else:
        next_retry = min(now + backoff(event.attempts), event.retry_until)
        event.next_attempt_at = next_retry
    event.last_response_status = status
    resent_by = event.resend_by
    event.resend_by = None
    # Only the claim's holder clears it: a worker that outlived its claim must not free another's.
    if event.claimed_until == claim:
        event.claimed_until = None
    event.save(
        update_fields=[
            "status",
            "delivered_at",
            "next_attempt_at",
            "last_response_status",
            "resend_by",
            "claimed_until",
        ]
    )
    WebhookDelivery.objects.create(
        event=event,
        attempt=event.attempts,
        sent_at=now,
        response_status=status,
        response_body=body,
        error=error,
        latency_ms=latency_ms,
        success=success,
        next_retry_at=next_retry,
        resent_by=resent_by,
    )
    _endpoint_health(endpoint.pk, success=success, now=now)


def _endpoint_health(endpoint_id: int, *, success: bool, now: datetime) -> None:
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    if success:
        if endpoint.failing_since or endpoint.consecutive_failures:
            endpoint.failing_since, endpoint.consecutive_failures = None, 0
            endpoint.save(update_fields=["failing_since", "consecutive_failures"])
        return
    endpoint.failing_since = endpoint.failing_since or now
    endpoint.consecutive_failures += 1
    endpoint.last_failure_at = now
    fields = ["failing_since", "consecutive_failures", "last_failure_at"]
    if endpoint.enabled and now - endpoint.failing_since >= timedelta(seconds=conf("DISABLE_AFTER_SECONDS")):
        endpoint.enabled, endpoint.disabled_at = False, now
        endpoint.disabled_reason = DisabledReason.DELIVERY_FAILURES
        endpoint.updated_at = now
        fields += ["enabled", "disabled_at", "disabled_reason", "updated_at"]
        endpoint_id = endpoint.pk

        def email_owners() -> None:
            _email_owners_disabled(endpoint_id=endpoint_id)

        transaction.on_commit(email_owners, robust=True)
    endpoint.save(update_fields=fields)


def _email_owners_disabled(*, endpoint_id: int) -> None:
    endpoint = WebhookEndpoint.objects.select_related("company").get(pk=endpoint_id)
    recipients = list(
        Membership.objects.filter(
            company_id=endpoint.company_id, role__in=Membership.MANAGING_ROLES, user__is_active=True
        )
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if not recipients:
        return
    from django.urls import reverse

    link = settings.SITE_URL.rstrip("/") + reverse(
        "webhooks:endpoint", kwargs={"company_id": endpoint.company_id, "endpoint_id": endpoint.pk}
    )
    days = conf("DISABLE_AFTER_SECONDS") // 86400
    send_mail(
        subject=f"Webhook endpoint disabled: {endpoint.url}"[:150],
        message=(
            f"Every delivery to the webhook endpoint {endpoint.url} of {endpoint.company.name} has failed for "
            f"{days} days, so we have disabled it and stopped sending events to it.\n\n"
            f"Its delivery log says what the endpoint answered. Once it works again, enable it here; events "
            f"still waiting are then sent, and any other can be sent again with Resend:\n{link}\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )


def webhook_events_deliver_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """The safety net (every minute): queue every pending event whose attempt is due and not held —
    a retry whose backoff ran out, or one whose task or worker was lost. Returns how many."""
    now = now or timezone.now()
    ids = list(
        WebhookEvent.objects.filter(status=Status.PENDING, next_attempt_at__lte=now, endpoint__enabled=True)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    webhook_events_enqueue(ids=ids)
    return len(ids)
