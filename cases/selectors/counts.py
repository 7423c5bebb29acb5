"""The numbers above the merchant's list, kept a few seconds: the status-tab counts and the
30-day dispute rate."""

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.cache import caches
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from payments.models import ActorKind, Company, Payment

from ..models import ACTIVE_STATES, Case
from ..presentation import status_choices
from .merchant_list import CaseFilters, cases_outside_status

DISPUTE_RATE_WINDOW = timedelta(days=30)
# Above this share of payments disputed, card networks start to look at a merchant.
DISPUTE_RATE_WARNING = Decimal("0.02")


@dataclass(frozen=True)
class StatusTab:
    status: str  # "" for every active case
    label: str
    count: int


# The merchant's words for each state, as the filter dropdown and the list badges say them.
TAB_LABELS = [("", "All active"), *status_choices(ActorKind.MERCHANT)]


# --- short-lived counts ---------------------------------------------------------------------------
# The status tabs' counts and the dispute rate cost two aggregate queries over a busy company's
# cases and payments on every list view, yet change slowly: the "page_counts" cache keeps them a few
# seconds (settings: a dummy, i.e. always counted afresh, outside production). Each company's keys
# carry a version that merchant_counts_forget() bumps after the merchant's own action, so the
# merchant sees its change at once. The "N open resolutions" button is never cached.


def _counts_version(cache, company_id: int) -> int:
    return cache.get_or_set(f"merchant-counts-version:{company_id}", 1)


def _remembered(company_id: int, name: str, compute):
    cache = caches["page_counts"]
    key = f"merchant-counts:{company_id}:{_counts_version(cache, company_id)}:{name}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value)
    return value


def merchant_counts_forget(*, company_id: int) -> None:
    """Drop the company's cached tab counts and dispute rate (call after a change to its cases)."""
    cache = caches["page_counts"]
    key = f"merchant-counts-version:{company_id}"
    with contextlib.suppress(ValueError):  # not cached: nothing to forget
        cache.incr(key)


def case_status_tabs(*, company_id: int, filters: CaseFilters) -> list[StatusTab]:
    """Counts per status tab from ONE grouped query (kept a few seconds, see _remembered); they
    follow the reason and date filters so each tab's number is what clicking it would list."""
    scope = f"tabs:{filters.reason}:{filters.opened_from}:{filters.opened_to}:{filters.tz}"
    return _remembered(company_id, scope, lambda: _case_status_tabs(company_id=company_id, filters=filters))


def _case_status_tabs(*, company_id: int, filters: CaseFilters) -> list[StatusTab]:
    counts = dict(
        cases_outside_status(company_id=company_id, filters=filters)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    active = sum(n for status, n in counts.items() if status in ACTIVE_STATES)
    return [StatusTab(status, label, active if status == "" else counts.get(status, 0)) for status, label in TAB_LABELS]


@dataclass(frozen=True)
class DisputeRate:
    cases_opened: int
    payments: int
    since: datetime

    @property
    def rate(self) -> Decimal | None:
        if self.payments == 0:
            return None
        return Decimal(self.cases_opened) / Decimal(self.payments)

    @property
    def percent(self) -> Decimal | None:
        rate = self.rate
        return None if rate is None else (rate * 100).quantize(Decimal("0.01"))

    @property
    def is_high(self) -> bool:
        rate = self.rate
        if rate is None:
            return self.cases_opened > 0
        return rate > DISPUTE_RATE_WARNING


def company_dispute_rate(*, company_id: int, now: datetime | None = None) -> DisputeRate:
    """Cases opened in the last 30 days divided by payments made in the last 30 days (both
    counted in one query, each over its own (company, time) index range). Without ``now``, the
    rate is kept a few seconds (see _remembered)."""
    if now is None:
        return _remembered(company_id, "dispute-rate", lambda: _company_dispute_rate(company_id, timezone.now()))
    return _company_dispute_rate(company_id, now)


def _company_dispute_rate(company_id: int, now: datetime) -> DisputeRate:
    since = now - DISPUTE_RATE_WINDOW

    def counted(queryset):
        # COUNT(*), not COUNT(id): the (company, time) index alone answers it (an index-only scan).
        return Coalesce(Subquery(queryset.order_by().values("company_id").annotate(n=Count("*")).values("n")), 0)

    cases_opened, payments = (
        Company.objects.filter(pk=company_id)
        .annotate(
            cases_opened=counted(
                Case.objects.filter(company_id=OuterRef("pk"), opened_at__gt=since, opened_at__lte=now)
            ),
            payments_made=counted(
                Payment.objects.filter(company_id=OuterRef("pk"), paid_at__gt=since, paid_at__lte=now)
            ),
        )
        .values_list("cases_opened", "payments_made")
        .first()
    ) or (0, 0)
    return DisputeRate(cases_opened=cases_opened, payments=payments, since=since)
