"""Amounts are ``Decimal`` euros, rounded half up to cents (never floats)."""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format

CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def euro(amount, decimals: int = 2) -> str:
    """An amount as the user reads it, in the active language's format: € 1.234,56 in Dutch."""
    return "€ " + number_format(amount, decimals, use_l10n=True, force_grouping=True)
