"""Payments and money rows in admin. Money rows (payments, refunds, balance credits) are ledgers
written only by payments.services: the admin lets people see and search them, never add, change
or delete them, whatever their permissions (superusers included). Companies, their members and
products are ordinary admin for superusers."""

from django.contrib import admin
from django.utils import timezone

from resolution_center.formatting import format_money, parse_row_id

from .models import BalanceCredit, Company, Membership, Payment, Product, Refund
from .selectors import refunds_needing_attention


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Viewable and searchable; no add, change or delete, for anyone (the view permission stays)."""

    actions = None
    show_full_result_count = False  # skip the second COUNT(*) over the whole table
    show_facets = admin.ShowFacets.NEVER

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class IdSearchMixin:
    """A search that is just a number (optionally "#42") finds the row whose ``search_id_field``
    equals it, by an indexed equality, and nothing else: not every email or name that happens to
    contain those digits. Any other search is admin's usual text search. (Admin's own "=field"
    search on an integer column raises on a non-number, or casts the column and misses its index.)"""

    search_id_field = "pk"

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().removeprefix("#")
        if term.isascii() and term.isdigit():
            number = parse_row_id(term)
            if number is None:  # beyond a bigint: no such row
                return queryset.none(), False
            return queryset.filter(**{self.search_id_field: number}), False
        return super().get_search_results(request, queryset, search_term)


def _money(amount_cents: int, currency: str) -> str:
    return format_money(amount_cents, currency)


@admin.register(Payment)
class PaymentAdmin(IdSearchMixin, ReadOnlyModelAdmin):
    list_display = ("id", "paid_at", "amount", "refunded", "method", "company", "customer_email", "product")
    list_select_related = ("company", "customer", "product")
    # No company filter: thousands of companies would not fit a sidebar; search by name instead.
    list_filter = ("method", ("paid_at", admin.DateFieldListFilter))
    search_fields = ("customer__email", "company__name")
    search_help_text = "Payment id, customer email or company name."
    ordering = ("-paid_at", "-id")
    readonly_fields = ("amount", "refunded")
    fields = ("company", "customer", "product", "amount", "refunded", "method", "paid_at")

    @admin.display(description="Amount", ordering="amount_cents")
    def amount(self, payment):
        return _money(payment.amount_cents, payment.currency)

    @admin.display(description="Refunded", ordering="refunded_cents")
    def refunded(self, payment):
        return _money(payment.refunded_cents, payment.currency) if payment.refunded_cents else "—"

    @admin.display(description="Customer", ordering="customer__email")
    def customer_email(self, payment):
        return payment.customer.email


class RefundAttentionFilter(admin.SimpleListFilter):
    """Refunds the processor refused or did not answer, or that waited too long (a reviewer retries
    them from the case page)."""

    title = "attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("needed", "Refunds needing attention")]

    def queryset(self, request, queryset):
        if self.value() == "needed":
            return refunds_needing_attention(queryset, now=timezone.now())
        return queryset


@admin.register(Refund)
class RefundAdmin(IdSearchMixin, ReadOnlyModelAdmin):
    search_id_field = "payment_id"
    list_display = (
        "idempotency_key",
        "created_at",
        "amount",
        "status",
        "attempts",
        "next_attempt_at",
        "payment",
        "case",
        "initiated_by_kind",
    )
    list_select_related = ("payment", "case")
    list_filter = (RefundAttentionFilter, "status", "initiated_by_kind", ("created_at", admin.DateFieldListFilter))
    search_fields = ("idempotency_key", "processor_reference", "payment__customer__email", "payment__company__name")
    search_help_text = "Payment id, idempotency key, processor reference, customer email or company name."
    ordering = ("-created_at", "-id")
    readonly_fields = ("amount",)
    fields = (
        "payment",
        "case",
        "amount",
        "status",
        "idempotency_key",
        "processor_reference",
        "initiated_by_kind",
        "initiated_by",
        "created_at",
        "attempts",
        "last_attempt_at",
        "next_attempt_at",
        "failure_message",
        "succeeded_at",
    )

    @admin.display(description="Amount", ordering="amount_cents")
    def amount(self, refund):
        return _money(refund.amount_cents, refund.currency)


@admin.register(BalanceCredit)
class BalanceCreditAdmin(IdSearchMixin, ReadOnlyModelAdmin):
    search_id_field = "case_id"
    list_display = ("idempotency_key", "created_at", "amount", "customer_email", "case", "granted_by")
    list_select_related = ("customer", "case", "granted_by")
    list_filter = (("created_at", admin.DateFieldListFilter),)
    search_fields = ("idempotency_key", "customer__email")
    search_help_text = "Case id, idempotency key or customer email."
    ordering = ("-created_at", "-id")
    readonly_fields = ("amount",)
    fields = ("customer", "case", "amount", "idempotency_key", "granted_by", "created_at")

    @admin.display(description="Amount", ordering="amount_cents")
    def amount(self, credit):
        return _money(credit.amount_cents, credit.currency)

    @admin.display(description="Customer", ordering="customer__email")
    def customer_email(self, credit):
        return credit.customer.email


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


class ProductInline(admin.TabularInline):
    model = Product
    extra = 0


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ("name", "auto_refund_card_below_cents", "auto_refund_paypal_below_cents", "created_at")
    search_fields = ("name",)
    inlines = (MembershipInline, ProductInline)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "company", "role")
    list_select_related = ("user", "company")
    list_filter = ("role",)
    search_fields = ("user__email", "company__name")
    raw_id_fields = ("user", "company")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "company")
    list_select_related = ("company",)
    search_fields = ("name", "company__name")
