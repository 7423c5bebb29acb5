"""Every write on webhook endpoints: made, changed, secret rotated, disabled and enabled, deleted,
an event sent again. Only the company's owners and admins (Membership.MANAGING_ROLES) may."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from payments.models import Membership
from resolution_center.exceptions import ApplicationError, NotAllowedError

from .delivery import webhook_events_enqueue
from .models import EventType, WebhookEndpoint, WebhookEvent
from .recording import retry_window
from .signing import secret_new
from .transport import url_check

MAX_ENDPOINTS_PER_COMPANY = 16


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _require_manager(*, actor, company_id: int) -> None:
    if not Membership.objects.filter(
        company_id=company_id, user=actor, role__in=Membership.MANAGING_ROLES, user__is_active=True
    ).exists():
        raise NotAllowedError("Only the company's owners and admins can manage webhooks.")


def _clean(*, url: str, events: list[str]) -> tuple[str, list[str]]:
    url = (url or "").strip()
    if not url:
        raise ApplicationError("Please give the URL the events should be sent to.")
    if len(url) > 500:
        raise ApplicationError("The URL can be at most 500 characters.")
    url_check(url)
    events = [e for e in EventType.values if e in set(events or [])]
    if not events:
        raise ApplicationError("Please choose at least one event to send.")
    return url, events


def _locked(endpoint_id: int, company_id: int) -> WebhookEndpoint:
    try:
        return WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id, company_id=company_id)
    except WebhookEndpoint.DoesNotExist:
        raise ApplicationError("This webhook endpoint does not exist.") from None


@transaction.atomic
def webhook_endpoint_create(
    *, actor, company_id: int, url: str, events: list[str], description: str = "", now: datetime | None = None
) -> WebhookEndpoint:
    """A new endpoint with a fresh ``ws_…`` secret (shown once by the page that made it)."""
    now = _now(now)
    _require_manager(actor=actor, company_id=company_id)
    url, events = _clean(url=url, events=events)
    if WebhookEndpoint.objects.filter(company_id=company_id).count() >= MAX_ENDPOINTS_PER_COMPANY:
        raise ApplicationError(f"A company can have at most {MAX_ENDPOINTS_PER_COMPANY} webhook endpoints.")
    return WebhookEndpoint.objects.create(
        company_id=company_id,
        url=url,
        events=events,
        description=(description or "").strip()[:200],
        secret=secret_new(),
        created_by=actor,
        created_at=now,
        updated_at=now,
    )


@transaction.atomic
def webhook_endpoint_update(
    *,
    actor,
    company_id: int,
    endpoint_id: int,
    url: str,
    events: list[str],
    description: str = "",
    now: datetime | None = None,
) -> WebhookEndpoint:
    now = _now(now)
    _require_manager(actor=actor, company_id=company_id)
    endpoint = _locked(endpoint_id, company_id)
    endpoint.url, endpoint.events = _clean(url=url, events=events)
    endpoint.description = (description or "").strip()[:200]
    endpoint.updated_at = now
    endpoint.save(update_fields=["url", "events", "description", "updated_at"])
    return endpoint


@transaction.atomic
def webhook_endpoint_secret_rotate(
    *, actor, company_id: int, endpoint_id: int, now: datetime | None = None
) -> WebhookEndpoint:
    """A new secret; the previous one keeps signing too for SECRET_ROTATION_GRACE_SECONDS (24 h), so
    the receiver can change over without rejecting a delivery."""
    now = _now(now)
    _require_manager(actor=actor, company_id=company_id)
    endpoint = _locked(endpoint_id, company_id)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = now + timedelta(seconds=settings.WEBHOOKS["SECRET_ROTATION_GRACE_SECONDS"])
    endpoint.secret = secret_new()
    endpoint.updated_at = now
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until", "updated_at"])
    return endpoint


@transaction.atomic
def webhook_endpoint_enabled_set(
    *, actor, company_id: int, endpoint_id: int, enabled: bool, now: datetime | None = None
) -> WebhookEndpoint:
    """Disable (nothing is recorded or sent for it meanwhile) or enable again: the failure streak is
    forgotten and the events still waiting are sent at once."""
    now = _now(now)
    _require_manager(actor=actor, company_id=company_id)
    endpoint = _locked(endpoint_id, company_id)
    endpoint.enabled = enabled
    endpoint.updated_at = now
    waiting: list[int] = []
    if enabled:
        endpoint.disabled_at, endpoint.disabled_reason = None, ""
        endpoint.failing_since, endpoint.consecutive_failures = None, 0
        waiting = list(endpoint.webhook_events.filter(status=WebhookEvent.Status.PENDING).values_list("pk", flat=True))
        endpoint.webhook_events.filter(pk__in=waiting).update(next_attempt_at=now)
        if waiting:
            transaction.on_commit(lambda: webhook_events_enqueue(ids=waiting), robust=True)
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, actor, company_id: int, endpoint_id: int) -> None:
    """The endpoint goes, with its events and their log."""
    _require_manager(actor=actor, company_id=company_id)
    _locked(endpoint_id, company_id).delete()


@transaction.atomic
def webhook_event_resend(
    *, actor, company_id: int, endpoint_id: int, event_id: int, now: datetime | None = None, queue: bool = True
) -> WebhookEvent:
    """Send an event again now, under its same id, whatever became of it (delivered, failed or still
    retrying); if that attempt fails, the usual retries follow for another 3 days. ``queue=False``:
    the caller makes the attempt itself (the API's replay answers with its result)."""
    now = _now(now)
    _require_manager(actor=actor, company_id=company_id)
    endpoint = _locked(endpoint_id, company_id)
    if not endpoint.enabled:
        raise ApplicationError("This endpoint is disabled. Enable it first, then send the event again.")
    try:
        event = WebhookEvent.objects.select_for_update().get(pk=event_id, endpoint=endpoint)
    except WebhookEvent.DoesNotExist:
        raise ApplicationError("This event does not exist.") from None
    if event.claimed_until and event.claimed_until > now:
        raise ApplicationError("This event is being sent right now. Look at the log again in a moment.")
    event.status = WebhookEvent.Status.PENDING
    event.next_attempt_at = now
    event.retry_until = now + retry_window()
    event.resend_by = actor
    event.save(update_fields=["status", "next_attempt_at", "retry_until", "resend_by"])
    if queue:
        transaction.on_commit(lambda: webhook_events_enqueue(ids=[event.pk]), robust=True)
    return event
