"""The Resolution Center list: the merchant's filters, the sort order and one keyset page of cases."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from django.db.models import QuerySet
from django.utils import timezone

from payments.models import ActorKind

from ..models import ACTIVE_STATES, Case
from .keyset import KeysetPage, SortKey, keyset_page
from .unseen import with_unseen

# --- the Resolution Center list ----------------------------------------------------------------

CASE_SORT = (SortKey("next_deadline_at", kind=datetime, nullable=True), SortKey("id"))


@dataclass(frozen=True)
class CaseFilters:
    """What the merchant narrowed the list to. ``status`` empty means every active case (plus the
    closed ones when ``include_closed``); ``opened_from``/``opened_to`` are whole days in ``tz``."""

    status: str = ""
    reason: str = ""
    opened_from: date | None = None
    opened_to: date | None = None
    include_closed: bool = False
    tz: tzinfo | None = None


def _day_start(day: date, tz: tzinfo | None) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz or timezone.get_current_timezone())


def cases_outside_status(*, company_id: int, filters: CaseFilters) -> QuerySet[Case]:
    """The company's cases narrowed by every filter except the status (which the tabs split)."""
    cases = Case.objects.filter(company_id=company_id)
    if filters.reason:
        cases = cases.filter(reason=filters.reason)
    if filters.opened_from:
        cases = cases.filter(opened_at__gte=_day_start(filters.opened_from, filters.tz))
    if filters.opened_to:
        cases = cases.filter(opened_at__lt=_day_start(filters.opened_to + timedelta(days=1), filters.tz))
    return cases


def case_list_for_merchant(*, company_id: int, filters: CaseFilters) -> QuerySet[Case]:
    """The filtered list, nearest deadline first (cases without a deadline last, then by id)."""
    cases = cases_outside_status(company_id=company_id, filters=filters)
    if filters.status:
        cases = cases.filter(status=filters.status)
    elif not filters.include_closed:
        cases = cases.filter(status__in=ACTIVE_STATES)
    return cases.select_related("payment__product", "customer").order_by(*(key.forward() for key in CASE_SORT))


def case_page_for_merchant(
    *, company_id: int, filters: CaseFilters, cursor: str | None, size: int = 25, viewer_id: int | None = None
) -> KeysetPage:
    """One page of the list; with ``viewer_id``, each case says whether it has activity that
    member has not seen (``has_unseen``, selectors/unseen.py)."""
    cases = case_list_for_merchant(company_id=company_id, filters=filters)
    if viewer_id is not None:
        cases = with_unseen(cases, user_id=viewer_id, side=ActorKind.MERCHANT)
    return keyset_page(cases, keys=CASE_SORT, cursor=cursor, size=size)
