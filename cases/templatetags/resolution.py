from django import template

from payments.formatting import format_money

register = template.Library()


@register.simple_tag
def money(amount_cents, currency):
    return format_money(amount_cents, currency)
