"""How often one customer may file claims.

Counted from the cases table itself, so the limit holds across every web process and survives
restarts; no cache or extra table is needed. Two claims racing in the same instant may both pass
the check (the limit is a brake on abuse, not an invariant like the one-case-per-payment rule).
"""

from datetime import datetime, timedelta
from math import ceil

from django.conf import settings

from resolution_center.exceptions import RateLimitedError

from .models import Case

WINDOW = timedelta(hours=1)


def case_open_rate_check(*, customer, now: datetime) -> None:
    """Refuse a new claim when this customer opened MAX_CASES_PER_HOUR cases in the last hour."""
    if customer is None or not getattr(customer, "is_authenticated", False):
        return
    limit = settings.RESOLUTION["MAX_CASES_PER_HOUR"]
    recent = list(
        Case.objects.filter(customer_id=customer.pk, opened_at__gt=now - WINDOW, opened_at__lte=now)
        .order_by("-opened_at")
        .values_list("opened_at", flat=True)[:limit]
    )
    if len(recent) < limit:
        return
    # The oldest of the last `limit` claims leaves the window first.
    minutes = max(1, ceil((recent[-1] + WINDOW - now).total_seconds() / 60))
    raise RateLimitedError(
        f"You have opened {limit} cases in the last hour, the most allowed. "
        f"Please wait {minutes} minute{'s' if minutes != 1 else ''} before opening another."
    )
