"""The in-app list and the settings page: marking notifications read, and a user's preferences."""

import zoneinfo
from datetime import datetime

from django.utils import timezone

from resolution_center.exceptions import ApplicationError

from ..models import Notification, UserPreferences


def notification_mark_read(*, user, notification_id: int, now: datetime | None = None) -> Notification:
    now = now or timezone.now()
    notification = Notification.objects.filter(pk=notification_id, recipient_id=user.pk).first()
    if notification is None:
        raise ApplicationError("This notification does not exist.")
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
    notification.refresh_from_db(fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user, now: datetime | None = None) -> int:
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).update(read_at=now or timezone.now())


def user_preferences_update(*, user, time_zone: str, resolution_center_emails: bool) -> UserPreferences:
    """Change a user's time zone and Resolution Center emails toggle (in-app entries are always kept)."""
    if time_zone not in zoneinfo.available_timezones():
        raise ApplicationError("Please choose a time zone from the list, for example Europe/Berlin.")
    preferences, _ = UserPreferences.objects.update_or_create(
        user=user, defaults={"time_zone": time_zone, "resolution_center_emails": bool(resolution_center_emails)}
    )
    return preferences
