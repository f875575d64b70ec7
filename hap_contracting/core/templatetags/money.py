"""``{{ amount|euro }}``: an amount as the user reads it (``core.money.euro``)."""

from django import template

from hap_contracting.core.money import euro as euro_text

register = template.Library()


@register.filter
def euro(amount) -> str:
    if amount is None or amount == "":
        return ""
    return euro_text(amount)
