import contextlib
import zoneinfo

from .models import UserPreferences


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
