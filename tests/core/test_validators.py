import pytest
from django.core.exceptions import ValidationError

from hap_contracting.core.validators import (
    looks_like_a_bsn,
    normalise_house_number,
    normalise_house_number_addition,
    normalise_postcode,
)
from hap_contracting.organisations.models import CareOrganisation


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [("8011AB", "8011 AB"), ("8011 ab", "8011 AB"), (" 1315 ht ", "1315 HT")],
)
def test_postcodes_are_normalised(raw, normalised):
    assert normalise_postcode(raw) == normalised


@pytest.mark.parametrize(
    "raw", ["", "801 AB", "0801 AB", "8011 A", "8011 SA", "8011 SD", "80111AB"]
)
def test_invalid_postcodes_are_refused(raw):
    with pytest.raises(ValidationError):
        normalise_postcode(raw)


@pytest.mark.parametrize(
    ("field", "value"),
    [("kvk_number", "1234567"), ("kvk_number", "1234567a"), ("agb_code", "123456789")],
)
def test_kvk_and_agb_need_eight_digits(field, value):
    organisation = CareOrganisation(
        name="Zorggroep",
        kvk_number="12345678",
        agb_code="12345678",
        organisation_type="wlz_institution",
    )
    setattr(organisation, field, value)

    with pytest.raises(ValidationError) as error:
        organisation.full_clean(validate_unique=False)

    assert field in error.value.message_dict


@pytest.mark.parametrize(("raw", "number"), [("7", 7), (" 12 ", 12), (99999, 99999)])
def test_house_numbers_run_from_1_to_99999(raw, number):
    assert normalise_house_number(raw) == number


@pytest.mark.parametrize("raw", ["", "0", "012", "100000", "12a", "-3", "1.5", "١٢", None])
def test_other_house_numbers_are_refused(raw):
    with pytest.raises(ValidationError):
        normalise_house_number(raw)


def test_an_addition_is_compared_in_capitals_and_has_at_most_six_characters():
    assert normalise_house_number_addition(" bis ") == "BIS"
    assert normalise_house_number_addition("") == ""
    with pytest.raises(ValidationError):
        normalise_house_number_addition("1234567")
    with pytest.raises(ValidationError):
        normalise_house_number_addition("a b")


@pytest.mark.parametrize(
    ("reference", "is_bsn"),
    [
        ("111222333", True),
        ("111 222 333", True),
        ("1112.22.333", True),
        ("12345678", False),  # 012345678 fails the 11-test
        ("11222333", False),
        ("ZK-000123", False),
        ("111222334", False),
    ],
)
def test_a_reference_that_is_a_bsn_is_recognised(reference, is_bsn):
    assert looks_like_a_bsn(reference) is is_bsn
