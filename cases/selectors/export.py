"""The Resolution Center list as CSV rows, streamed, safe to open in a spreadsheet."""

import itertools
import logging
from collections.abc import Iterable, Iterator
from datetime import datetime, tzinfo

from django.utils import timezone

from payments.models import ActorKind
from resolution_center.formatting import minor_units_to_decimal

from ..presentation import payment_label, status_name
from .merchant_list import CaseFilters, case_page_for_merchant

log = logging.getLogger(__name__)

# --- CSV export ----------------------------------------------------------------------------------

# Payments are named "pay-N" everywhere, so a case number and a payment number never look alike.
CSV_HEADER = [
    "Case number",
    "Status",
    "Outcome",
    "Reason",
    "Opened at",
    "Next deadline",
    "Payment reference",
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


EXPORT_PAGE_SIZE = 500


def _cases_in_pages(*, company_id: int, filters: CaseFilters) -> Iterator:
    """Every matching case in list order, read a keyset page at a time: each page is one short
    query, so memory stays bounded and no database cursor stays open between rows (a server-side
    cursor would be left open by a download nobody reads to the end, until garbage collection
    closed it at some unrelated later moment)."""
    cursor = None
    while True:
        page = case_page_for_merchant(company_id=company_id, filters=filters, cursor=cursor, size=EXPORT_PAGE_SIZE)
        yield from page.rows
        if not page.next_cursor:
            return
        cursor = page.next_cursor


def case_export_rows(*, company_id: int, filters: CaseFilters, tz: tzinfo) -> Iterator[list[str]]:
    """Every case matching the filters (no page limit), in list order, read in chunks so that a
    large export streams with bounded memory. Times in ``tz`` with their offset."""

    def when(moment: datetime | None) -> str:
        return timezone.localtime(moment, tz).isoformat(timespec="seconds") if moment else ""

    yield CSV_HEADER
    for case in _cases_in_pages(company_id=company_id, filters=filters):
        payment = case.payment
        row = [
            case.pk,
            status_name(case.status, ActorKind.MERCHANT),
            case.get_outcome_display() if case.outcome else "",
            case.get_reason_display(),
            when(case.opened_at),
            when(case.next_deadline_at),
            payment_label(payment.pk),
            when(payment.paid_at),
            minor_units_to_decimal(payment.amount_cents, payment.currency),
            payment.currency,
            payment.get_method_display(),
            payment.product.name,
            case.customer.email,
            case.description,
        ]
        yield [csv_safe(cell) for cell in row]


# --- guarding the stream --------------------------------------------------------------------------

# The last row of an export that broke off. One cell, not a case id, so a program reading the file
# can tell; first column, so a person sees it at the bottom of the spreadsheet.
EXPORT_INCOMPLETE = (
    "EXPORT INCOMPLETE: the export stopped after {count} cases because of an error on our side. "
    "Download it again; if it keeps failing, contact support."
)


def export_rows_guarded(rows: Iterable[list[str]], *, header_rows: int = 1) -> Iterator[list[str]]:
    """``rows`` made safe to stream: once a streamed response has sent its status and headers, an
    error can no longer become an error page, and an exception escaping into the WSGI server only
    cuts the download short, leaving a truncated file that looks complete.

    So the header and the first data row are produced now, eagerly (that runs the query): an error
    there raises here, before the response exists, and becomes the normal error page. An error
    after that is logged with its traceback and the file ends with one ``EXPORT INCOMPLETE`` row
    instead; the stream then ends normally."""
    rows = iter(rows)
    first = list(itertools.islice(rows, header_rows + 1))
    return _rest_guarded(first, rows, written=max(len(first) - header_rows, 0))


def _rest_guarded(first: list[list[str]], rest: Iterator[list[str]], *, written: int) -> Iterator[list[str]]:
    yield from first
    while True:
        # Only producing the next row is guarded: an exception thrown in at the yield (the server
        # closing the generator when the client goes away) must go on as before.
        try:
            row = next(rest)
        except StopIteration:
            return
        except Exception:
            log.exception("CSV export stopped after %d rows; the file ends with the incomplete mark", written)
            yield [EXPORT_INCOMPLETE.format(count=written)]
            return
        yield row
        written += 1
