"""What every request of a signed-in person needs before the page's own content: their time zone,
the sides the header offers (customer, merchant) and the unread-notification count, read in ONE
query and kept on the request.

Three separate reads (preferences, two EXISTS, a COUNT) cost three round trips on every page;
one query with subqueries costs one. The count uses the partial index on unread notifications.
Everything that changes these values (preferences, reading notifications) answers with a
redirect, so the next request reads them afresh.
"""

import zoneinfo
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

UTC = zoneinfo.ZoneInfo("UTC")


@dataclass(frozen=True)
class PageFrame:
    time_zone_name: str
    is_customer: bool
    is_merchant: bool
    unread: int

    @property
    def time_zone(self) -> zoneinfo.ZoneInfo:
        """The user's zone; UTC when unset or unknown (as notifications.selectors.user_time_zone)."""
        try:
            return zoneinfo.ZoneInfo(self.time_zone_name or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return UTC


def _read(user_id: int) -> PageFrame:
    from notifications.models import Notification, UserPreferences
    from payments.models import Membership, Payment

    unread = (
        Notification.objects.filter(recipient_id=OuterRef("pk"), read_at__isnull=True)
        .order_by()
        .values("recipient_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    row = (
        get_user_model()
        .objects.filter(pk=user_id)
        .annotate(
            frame_zone=Subquery(UserPreferences.objects.filter(user_id=OuterRef("pk")).values("time_zone")[:1]),
            frame_customer=Exists(Payment.objects.filter(customer_id=OuterRef("pk"))),
            frame_merchant=Exists(Membership.objects.filter(user_id=OuterRef("pk"))),
            frame_unread=Coalesce(Subquery(unread, output_field=IntegerField()), 0),
        )
        .values_list("frame_zone", "frame_customer", "frame_merchant", "frame_unread")
        .first()
    )
    if row is None:
        return PageFrame("UTC", False, False, 0)
    zone, customer, merchant, count = row
    return PageFrame(zone or "UTC", bool(customer), bool(merchant), int(count or 0))


def page_frame(request) -> PageFrame | None:
    """The signed-in user's frame for this request (read once), or None for anonymous visitors."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    frame = getattr(request, "_page_frame", None)
    if frame is None or getattr(request, "_page_frame_user", None) != user.pk:
        frame = _read(user.pk)
        request._page_frame = frame
        request._page_frame_user = user.pk
    return frame
