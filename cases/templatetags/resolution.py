from django import template

from cases.presentation import payment_label, status_text
from payments.models import ActorKind
from resolution_center.formatting import format_money

register = template.Library()


@register.simple_tag
def money(amount_cents, currency):
    return format_money(amount_cents, currency)


@register.filter
def payment_ref(payment_id) -> str:
    """A payment's number as every page writes it ("pay-15"), never like a case's ("Case #2")."""
    return payment_label(payment_id)


@register.filter
def merchant_status(case) -> str:
    """A case's status badge as the merchant reads it (the words of the status tabs)."""
    return status_text(case, ActorKind.MERCHANT).headline
