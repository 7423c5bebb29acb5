"""The merchant's Payments tab and a customer's payment history with the company."""

from datetime import datetime

from django.db.models import Q, QuerySet

from payments.models import Payment
from resolution_center.formatting import parse_row_id

from .keyset import KeysetPage, SortKey, keyset_page

PAYMENT_SORT = (SortKey("paid_at", kind=datetime, descending=True), SortKey("id", descending=True))


# --- the Payments tab ----------------------------------------------------------------------------


def payment_list_for_merchant(*, company_id: int, search: str = "") -> QuerySet[Payment]:
    """The company's payments with their case (if any), newest first. ``search`` matches a payment
    reference ("pay-123" or "#123": only that payment; "123" the id or the digits in an email or
    product name), or part of the customer's email or of the product name."""
    payments = Payment.objects.filter(company_id=company_id)
    search = search.strip()
    is_reference = search.lower().startswith(("#", "pay-"))
    number = search.lower().removeprefix("#").removeprefix("pay-").strip()
    payment_id = parse_row_id(number)
    if is_reference:
        # "pay-123" (as the pages write it) or "#123" is unmistakably a payment id.
        payments = payments.filter(pk=payment_id) if payment_id is not None else payments.none()
    elif search:
        matches = Q(customer__email__icontains=search) | Q(product__name__icontains=search)
        if payment_id is not None:
            matches |= Q(pk=payment_id)
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
