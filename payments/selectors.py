from datetime import datetime

from django.db.models import Q, QuerySet

from .models import REFUND_DELAYED_AFTER, Company, Membership, Payment, Refund


def membership_role(*, user, company: Company) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(user=user, company=company).values_list("role", flat=True).first()


def is_member(*, user, company_id: int) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return Membership.objects.filter(user=user, company_id=company_id).exists()


def companies_for_merchant(*, user) -> QuerySet[Company]:
    return Company.objects.filter(memberships__user=user).order_by("name")


def payment_list_for_customer(*, customer) -> QuerySet[Payment]:
    return Payment.objects.filter(customer=customer).select_related("company", "product", "case")


def refunds_needing_attention(queryset=None, *, now: datetime):
    """Refunds the processor refused, did not answer, or that have waited too long
    (REFUND_DELAYED_AFTER): what the reviewers' admin lists under "Refunds needing attention"."""
    queryset = Refund.objects.all() if queryset is None else queryset
    return queryset.exclude(status=Refund.Status.SUCCEEDED).filter(
        Q(status=Refund.Status.FAILED) | Q(attempts__gte=2) | Q(created_at__lte=now - REFUND_DELAYED_AFTER)
    )
