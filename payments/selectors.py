from django.db.models import QuerySet

from .models import Company, Membership, Payment


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
