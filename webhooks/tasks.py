"""django-q2 entry points for webhooks: load by id, call the service. Idempotent (each attempt
claims its event first, so a repeated task sends nothing twice at once)."""

from .delivery import webhook_event_deliver as _deliver
from .delivery import webhook_events_deliver_due as _deliver_due


def webhook_event_deliver(event_id: int) -> bool | None:
    return _deliver(event_id=event_id)


def webhook_events_deliver_due() -> int:
    """Scheduled every minute (``manage.py setup_schedules``): retries whose backoff ran out, and
    events whose task or worker was lost."""
    return _deliver_due()
