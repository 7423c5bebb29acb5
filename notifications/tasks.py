"""django-q2 entry points for notifications: load by id, call the service. Idempotent."""

from . import services


def notifications_deliver(ids: list[int]) -> dict[str, int]:
    """Email a chunk of notifications; each one is claimed first, so a repeat sends nothing twice."""
    return services.notifications_deliver(ids=ids)


def notifications_deliver_due() -> int:
    """Scheduled every minute (``manage.py setup_schedules``): queue any email still waiting — a
    retry whose backoff ran out, or one whose task was lost in a crash (the delivery safety net)."""
    return services.notifications_deliver_due()


def message_digests_send_due() -> dict[str, int]:
    """Scheduled every minute (``manage.py setup_schedules``): send each case's hourly message email
    that is due (one per case and recipient, listing every message since; claimed, so sent once)."""
    return services.message_digests_send_due()
