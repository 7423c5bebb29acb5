"""Template helpers for the page frame: which sides the header offers, and deadlines in words."""

from datetime import datetime

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.timesince import timeuntil

from cases.policy import user_is_reviewer
from cases.selectors import UserSides
from resolution_center.page_frame import page_frame

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_sides(context) -> dict:
    """The header's view of the user: customer and/or merchant (a switch when both), reviewer."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return {}
    cached = getattr(request, "_nav_sides", None)
    if cached is not None:
        return cached
    frame = page_frame(request)  # read with the time zone, one query for the whole frame
    sides = UserSides(customer=frame.is_customer, merchant=frame.is_merchant, reviewer=user_is_reviewer(user))
    try:
        merchant_url = reverse("merchant:home") if sides.merchant else None
    except NoReverseMatch:
        merchant_url = None
    match = getattr(request, "resolver_match", None)
    # The notifications and settings pages under a company bar are the merchant's side too.
    on_merchant = bool(match and (match.namespace == "merchant" or (match.url_name or "").startswith("merchant-")))
    result = {
        "customer": sides.customer or not sides.merchant,
        "merchant_url": merchant_url,
        "reviewer": sides.reviewer,
        "both": bool(merchant_url) and sides.customer,
        "active": "merchant" if on_merchant else "customer",
    }
    request._nav_sides = result
    return result


@register.filter
def time_left(deadline: datetime | None) -> str:
    """'3 days, 4 hours left' or 'passed' for a deadline."""
    if deadline is None:
        return ""
    if deadline <= timezone.now():
        return "the deadline has passed"
    return f"{timeuntil(deadline)} left"
