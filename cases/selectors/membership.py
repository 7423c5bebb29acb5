"""The merchant's membership of the company in the URL (with what every merchant page shows),
and the currency its settings are shown in."""

from django.db.models import Case as SqlCase
from django.db.models import Count, IntegerField, OuterRef, Subquery, When
from django.db.models.functions import Coalesce

from payments.models import Membership, Payment

from ..models import AWAITING_MERCHANT_STATES, Case
from .access import not_found

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
        raise not_found(user, "company", company_id)
    membership.user_companies = [m.company for m in memberships]
    return membership


def company_display_currency(*, company_id: int) -> str:
    """The currency the company's amounts are shown and entered in. A company has no currency of
    its own, so this is the currency of its latest payment (USD before the first one)."""
    latest = (
        Payment.objects.filter(company_id=company_id).order_by("-paid_at", "-id").values_list("currency", flat=True)
    )
    return latest.first() or "USD"
