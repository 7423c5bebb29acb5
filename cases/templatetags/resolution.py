from django import template

from resolution_center.formatting import format_money

register = template.Library()


@register.simple_tag
def money(amount_cents, currency):
    return format_money(amount_cents, currency)
