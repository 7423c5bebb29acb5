import contextlib
import zoneinfo

from django.db.models import QuerySet
from django.http import Http404

from .models import Notification, UserPreferences


def user_time_zone(user) -> zoneinfo.ZoneInfo:
    """The user's time zone for showing absolute deadlines; UTC when unset or unknown."""
    name = "UTC"
    if user is not None and getattr(user, "is_authenticated", False):
        with contextlib.suppress(UserPreferences.DoesNotExist):
            name = user.preferences.time_zone
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def notification_list_for_user(*, user) -> QuerySet[Notification]:
    """The signed-in user's own notifications, newest first (nobody else's are ever listed)."""
    return Notification.objects.filter(recipient_id=user.pk).select_related("case").order_by("-created_at", "-id")


def notification_get_for_user(*, user, notification_id: int) -> Notification:
    notification = Notification.objects.filter(pk=notification_id, recipient_id=user.pk).first()
    if notification is None:
        raise Http404("No such notification.")
    return notification


def unread_count(*, user) -> int:
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()
