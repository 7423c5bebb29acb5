"""Every non-trivial read of cases, by job: access-checked reads scoped to who asks (access), the
Resolution Center list (merchant_list) with its keyset paging (keyset), the cached counts above it
(counts), its CSV export (export), the Payments tab (merchant_payments), the merchant's
membership (membership) and the merchant's denial message (denials)."""

from .access import (
    UserSides,
    attachment_get_for_user,
    case_get_for_customer,
    case_get_for_merchant,
    case_list_for_customer,
    case_messages,
    case_timeline,
    payment_get_for_customer,
    user_sides,
    visibilities_for,
)
from .counts import (
    DISPUTE_RATE_WARNING,
    DISPUTE_RATE_WINDOW,
    DisputeRate,
    StatusTab,
    case_status_tabs,
    company_dispute_rate,
    merchant_counts_forget,
)
from .denials import case_denial_message
from .export import CSV_HEADER, case_export_rows, csv_safe
from .keyset import InvalidCursor, KeysetPage, SortKey, cursor_decode, cursor_encode, keyset_page
from .membership import company_display_currency, membership_get_for_merchant
from .merchant_list import CASE_SORT, CaseFilters, case_list_for_merchant, case_page_for_merchant
from .merchant_payments import (
    PAYMENT_SORT,
    payment_history_for_customer,
    payment_list_for_merchant,
    payment_page_for_merchant,
)
from .unseen import unseen_activity, with_unseen

__all__ = [
    "CASE_SORT",
    "CSV_HEADER",
    "DISPUTE_RATE_WARNING",
    "DISPUTE_RATE_WINDOW",
    "PAYMENT_SORT",
    "CaseFilters",
    "DisputeRate",
    "InvalidCursor",
    "KeysetPage",
    "SortKey",
    "StatusTab",
    "UserSides",
    "attachment_get_for_user",
    "case_denial_message",
    "case_export_rows",
    "case_get_for_customer",
    "case_get_for_merchant",
    "case_list_for_customer",
    "case_list_for_merchant",
    "case_messages",
    "case_page_for_merchant",
    "case_status_tabs",
    "case_timeline",
    "company_display_currency",
    "company_dispute_rate",
    "csv_safe",
    "cursor_decode",
    "cursor_encode",
    "keyset_page",
    "membership_get_for_merchant",
    "merchant_counts_forget",
    "payment_get_for_customer",
    "payment_history_for_customer",
    "payment_list_for_merchant",
    "payment_page_for_merchant",
    "user_sides",
    "unseen_activity",
    "visibilities_for",
    "with_unseen",
]
