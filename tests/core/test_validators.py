import pytest
from django.core.exceptions import ValidationError

from hap_contracting.core.validators import normalise_postcode
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
