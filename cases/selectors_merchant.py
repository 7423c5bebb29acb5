"""Reads behind the merchant's pages: the Resolution Center list (tab counts, filters, keyset
pagination, CSV rows), the Payments tab, a customer's history with the company and the dispute rate.

Every function takes a ``company_id`` the caller has already checked the user belongs to; none of
them looks outside that company. Each page costs a fixed number of queries whatever the row count
(related rows come through ``select_related``).
"""

import base64
import binascii
import contextlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from django.core.cache import caches
from django.db.models import Case as SqlCase
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from payments.models import Company, Membership, Payment
from resolution_center.formatting import MINOR_UNITS

from .models import ACTIVE_STATES, AWAITING_MERCHANT_STATES, Case, CaseStatus
from .selectors import _not_found

DISPUTE_RATE_WINDOW = timedelta(days=30)
# Above this share of payments disputed, card networks start to look at a merchant.
DISPUTE_RATE_WARNING = Decimal("0.02")


# --- keyset pagination -------------------------------------------------------------------------
#
# A page is "the N rows after (or before) this position in the sort order", found with a WHERE
# on the sort keys instead of OFFSET: the database walks the index from the position, the cost
# does not grow with the page number, and a row inserted or moved meanwhile does not shift every
# later page by one (no row shown twice or skipped because the list changed under the reader).


class InvalidCursor(ValueError):
    """A cursor that was not made by this code (edited, truncated, or from another list)."""


@dataclass(frozen=True)
class SortKey:
    """One column of a keyset ordering. Null values sort after every other value going forward.
    The last key of an ordering must be unique (the primary key) so that positions are total."""

    name: str
    descending: bool = False
    nullable: bool = False

    def forward(self):
        expression = F(self.name)
        return expression.desc(nulls_last=True) if self.descending else expression.asc(nulls_last=True)

    def backward(self):
        expression = F(self.name)
        return expression.asc(nulls_first=True) if self.descending else expression.desc(nulls_first=True)

    def equal(self, value) -> Q:
        return Q(**{f"{self.name}__isnull": True}) if value is None else Q(**{self.name: value})

    def after(self, value) -> Q:
        if value is None:  # nulls come last: nothing follows a null on this key
            return Q(pk__in=[])
        beyond = Q(**{f"{self.name}__{'lt' if self.descending else 'gt'}": value})
        return beyond | Q(**{f"{self.name}__isnull": True}) if self.nullable else beyond

    def before(self, value) -> Q:
        if value is None:
            return Q(**{f"{self.name}__isnull": False})
        return Q(**{f"{self.name}__{'gt' if self.descending else 'lt'}": value})


def _keyset_condition(keys: Sequence[SortKey], values: Sequence, *, after: bool) -> Q:
    """Rows strictly after (or before) ``values``: (k1 > v1) or (k1 = v1 and k2 > v2) or ..."""
    condition = Q(pk__in=[])
    prefix = Q()
    for key, value in zip(keys, values, strict=True):
        condition |= prefix & (key.after(value) if after else key.before(value))
        prefix &= key.equal(value)
    return condition


def _encode_value(value) -> str | int | None:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _decode_value(key: SortKey, raw):
    if raw is None:
        if not key.nullable:
            raise InvalidCursor("null for a key that is never null")
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        try:
            parsed = parse_datetime(raw)
        except ValueError:
            parsed = None
        if parsed is None or timezone.is_naive(parsed):
            raise InvalidCursor("not an aware datetime")
        return parsed
    raise InvalidCursor("unexpected value type")


def cursor_encode(*, direction: str, values: Sequence) -> str:
    """An opaque, URL-safe token for a position. It only carries sort-key values, never a filter,
    so an edited cursor can at worst move the reader within the list they may already see."""
    payload = json.dumps([direction, [_encode_value(v) for v in values]], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def cursor_decode(token: str, keys: Sequence[SortKey]) -> tuple[str, list]:
    try:
        padded = token + "=" * (-len(token) % 4)
        direction, raw_values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor("unreadable cursor") from None
    if direction not in ("next", "prev") or not isinstance(raw_values, list) or len(raw_values) != len(keys):
        raise InvalidCursor("malformed cursor")
    return direction, [_decode_value(key, raw) for key, raw in zip(keys, raw_values, strict=True)]


@dataclass
class KeysetPage:
    rows: list
    next_cursor: str | None
    prev_cursor: str | None
    is_first: bool = field(default=True)


def keyset_page(queryset: QuerySet, *, keys: Sequence[SortKey], cursor: str | None, size: int) -> KeysetPage:
    """One page of ``queryset`` in ``keys`` order, starting at ``cursor`` (None: the first page).
    Raises InvalidCursor for a token this function did not hand out."""
    direction, values = cursor_decode(cursor, keys) if cursor else ("next", None)
    going_back = direction == "prev"
    ordered = queryset.order_by(*(key.backward() if going_back else key.forward() for key in keys))
    if values is not None:
        ordered = ordered.filter(_keyset_condition(keys, values, after=not going_back))
    rows = list(ordered[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if going_back:
        rows.reverse()

    def position(row) -> list:
        return [getattr(row, key.name) for key in keys]

    has_next = (more and not going_back) or (going_back and values is not None)
    has_prev = (values is not None and not going_back) or (more and going_back)
    next_cursor = cursor_encode(direction="next", values=position(rows[-1])) if rows and has_next else None
    prev_cursor = cursor_encode(direction="prev", values=position(rows[0])) if rows and has_prev else None
    return KeysetPage(rows=rows, next_cursor=next_cursor, prev_cursor=prev_cursor, is_first=not has_prev)


# --- the Resolution Center list ----------------------------------------------------------------

CASE_SORT = (SortKey("next_deadline_at", nullable=True), SortKey("id"))
PAYMENT_SORT = (SortKey("paid_at", descending=True), SortKey("id", descending=True))


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


def _cases_outside_status(*, company_id: int, filters: CaseFilters) -> QuerySet[Case]:
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
    cases = _cases_outside_status(company_id=company_id, filters=filters)
    if filters.status:
        cases = cases.filter(status=filters.status)
    elif not filters.include_closed:
        cases = cases.filter(status__in=ACTIVE_STATES)
    return cases.select_related("payment__product", "customer").order_by(*(key.forward() for key in CASE_SORT))


def case_page_for_merchant(*, company_id: int, filters: CaseFilters, cursor: str | None, size: int = 25) -> KeysetPage:
    return keyset_page(
        case_list_for_merchant(company_id=company_id, filters=filters), keys=CASE_SORT, cursor=cursor, size=size
    )


@dataclass(frozen=True)
class StatusTab:
    status: str  # "" for every active case
    label: str
    count: int


TAB_LABELS = [
    ("", "All active"),
    (CaseStatus.OPEN, "Awaiting you"),
    (CaseStatus.INFO_REQUESTED, "Info requested"),
    (CaseStatus.ESCALATED, "Escalated"),
    (CaseStatus.ACCEPTED, "Refund decided"),
    (CaseStatus.DENIED, "Denied"),
    (CaseStatus.APPEALED, "Appealed"),
    (CaseStatus.FINAL, "Closed"),
]


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
        _cases_outside_status(company_id=company_id, filters=filters)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    active = sum(n for status, n in counts.items() if status in ACTIVE_STATES)
    return [StatusTab(status, label, active if status == "" else counts.get(status, 0)) for status, label in TAB_LABELS]


# --- CSV export ----------------------------------------------------------------------------------

CSV_HEADER = [
    "Case",
    "Status",
    "Outcome",
    "Reason",
    "Opened at",
    "Next deadline",
    "Payment",
    "Paid at",
    "Amount",
    "Currency",
    "Method",
    "Product",
    "Customer email",
    "Description",
]
# A cell a spreadsheet would read as a formula (OWASP "CSV injection"): = + - @, and tab or
# carriage return, which some spreadsheets strip before looking at the first character.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


def minor_units_to_decimal(amount_cents: int, currency: str) -> Decimal:
    return Decimal(amount_cents).scaleb(-MINOR_UNITS.get(currency, 2))


def case_export_rows(*, company_id: int, filters: CaseFilters, tz: tzinfo) -> Iterator[list[str]]:
    """Every case matching the filters (no page limit), in list order, read in chunks so that a
    large export streams with bounded memory. Times in ``tz`` with their offset."""

    def when(moment: datetime | None) -> str:
        return timezone.localtime(moment, tz).isoformat(timespec="seconds") if moment else ""

    yield CSV_HEADER
    cases = case_list_for_merchant(company_id=company_id, filters=filters)
    for case in cases.iterator(chunk_size=500):
        payment = case.payment
        row = [
            case.pk,
            case.get_status_display(),
            case.get_outcome_display() if case.outcome else "",
            case.get_reason_display(),
            when(case.opened_at),
            when(case.next_deadline_at),
            payment.pk,
            when(payment.paid_at),
            minor_units_to_decimal(payment.amount_cents, payment.currency),
            payment.currency,
            payment.get_method_display(),
            payment.product.name,
            case.customer.email,
            case.description,
        ]
        yield [csv_safe(cell) for cell in row]


# --- the Payments tab ----------------------------------------------------------------------------


def payment_list_for_merchant(*, company_id: int, search: str = "") -> QuerySet[Payment]:
    """The company's payments with their case (if any), newest first. ``search`` matches a payment
    id ("#123" only the id; "123" the id or the digits in an email or product name), or part of
    the customer's email or of the product name."""
    payments = Payment.objects.filter(company_id=company_id)
    search = search.strip()
    number = search.removeprefix("#").strip()
    is_number = number.isdigit() and len(number) < 19
    if search.startswith("#"):
        # "#123" is unmistakably a payment id.
        payments = payments.filter(pk=int(number)) if is_number else payments.none()
    elif search:
        matches = Q(customer__email__icontains=search) | Q(product__name__icontains=search)
        if is_number:
            matches |= Q(pk=int(number))
        payments = payments.filter(matches)
    return payments.select_related("product", "customer", "case")


def payment_page_for_merchant(*, company_id: int, search: str, cursor: str | None, size: int = 25) -> KeysetPage:
    return keyset_page(
        payment_list_for_merchant(company_id=company_id, search=search), keys=PAYMENT_SORT, cursor=cursor, size=size
    )


def payment_history_for_customer(*, company_id: int, customer_id: int, limit: int = 20) -> list[Payment]:
    """What this customer bought from this company (newest first), with each payment's case."""
    return list(
        Payment.objects.filter(company_id=company_id, customer_id=customer_id)
        .select_related("product", "case")
        .order_by("-paid_at", "-id")[:limit]
    )


# --- the company -------------------------------------------------------------------------------


def membership_get_for_merchant(*, user, company_id: int) -> Membership:
    """The user's membership of this company, with the company. A non-member gets the same 404
    as for a company that does not exist (logged for the audit trail).

    The same query brings what the merchant bar shows on every page: the user's other companies
    (``membership.user_companies``, for the switcher) and this company's "N open resolutions"
    (``membership.open_resolutions``), counted for this company only."""
    memberships: list[Membership] = []
    if getattr(user, "is_authenticated", False):
        open_count = (
            Case.objects.filter(company_id=OuterRef("company_id"), status__in=AWAITING_MERCHANT_STATES)
            .order_by()
            .values("company_id")
            .annotate(n=Count("pk"))
            .values("n")
        )
        memberships = list(
            Membership.objects.select_related("company")
            .filter(user=user)
            .annotate(
                open_resolutions=SqlCase(
                    When(company_id=company_id, then=Coalesce(Subquery(open_count), 0)),
                    default=None,
                    output_field=IntegerField(),
                )
            )
            .order_by("company__name")
        )
    membership = next((m for m in memberships if m.company_id == company_id), None)
    if membership is None:
        raise _not_found(user, "company", company_id)
    membership.user_companies = [m.company for m in memberships]
    return membership


def company_display_currency(*, company_id: int) -> str:
    """The currency the company's amounts are shown and entered in. A company has no currency of
    its own, so this is the currency of its latest payment (USD before the first one)."""
    latest = (
        Payment.objects.filter(company_id=company_id).order_by("-paid_at", "-id").values_list("currency", flat=True)
    )
    return latest.first() or "USD"


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
