"""The Resolution Center list as CSV rows, streamed, safe to open in a spreadsheet."""

from collections.abc import Iterator
from datetime import datetime, tzinfo

from django.utils import timezone

from resolution_center.formatting import minor_units_to_decimal

from .merchant_list import CaseFilters, case_list_for_merchant

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
