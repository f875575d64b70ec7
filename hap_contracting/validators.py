"""Validators for Dutch identifiers; messages name the field's rule in Dutch via gettext."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

# Dutch postcodes: four digits (no leading zero), two letters; SA, SD and SS are never issued.
_POSTCODE_RE = re.compile(r"^\s*([1-9][0-9]{3})\s?([A-Za-z]{2})\s*$")
_UNUSED_POSTCODE_LETTERS = {"SA", "SD", "SS"}


def normalise_postcode(value: str) -> str:
    """Return the postcode as ``1234 AB``, or raise ValidationError."""
    match = _POSTCODE_RE.match(value or "")
    if not match or match.group(2).upper() in _UNUSED_POSTCODE_LETTERS:
        raise ValidationError(_("Enter a Dutch postcode such as 8011 AB."), code="invalid_postcode")
    return f"{match.group(1)} {match.group(2).upper()}"


def validate_postcode(value: str) -> None:
    if value != normalise_postcode(value):
        raise ValidationError(_("Write the postcode as 1234 AB."), code="postcode_format")


validate_kvk_number = RegexValidator(
    r"^[0-9]{8}$", _("A KvK number has exactly 8 digits."), code="invalid_kvk"
)
validate_agb_code = RegexValidator(
    r"^[0-9]{8}$", _("An AGB code has exactly 8 digits."), code="invalid_agb"
)
validate_house_number_addition = RegexValidator(
    r"^[A-Za-z0-9-]{0,6}$",
    _("A house number addition has at most 6 letters or digits, such as A or 2-bis."),
    code="invalid_addition",
)
