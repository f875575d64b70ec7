"""Amounts: Decimal cents rounded half up, shown in the reader's language."""

from decimal import Decimal

from django.utils import translation

from hap_contracting.core.money import euro, money


def test_amounts_round_half_up_to_cents():
    assert money(Decimal("52.405")) == Decimal("52.41")


def test_an_amount_reads_in_dutch_form_with_thousands_grouped():
    with translation.override("nl"):
        assert euro(Decimal("1234.56")) == "€ 1.234,56"
        assert euro(Decimal("52.4")) == "€ 52,40"


def test_an_amount_reads_in_english_form_when_the_user_reads_english():
    with translation.override("en"):
        assert euro(Decimal("1234.56")) == "€ 1,234.56"
