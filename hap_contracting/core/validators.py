"""Dutch identifiers: postcode, house number and addition, KvK number, AGB code and BSN. One
place for each rule; messages name the rule in Dutch via gettext.

python-stdnum checks the postcode (no leading zero, never SA, SD or SS) and the BSN (the
11-test); KvK numbers and AGB codes are eight digits (stdnum has neither). The postcode's and
the addition's shapes are also written as patterns, which the triage API's OpenAPI description
publishes as they are: a client that follows the description is never refused.
"""

import hashlib
import hmac
import re
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.nl import bsn as stdnum_bsn
from stdnum.nl import postcode as stdnum_postcode

# Dutch house numbers have at most five digits; the bound also keeps the value inside an integer
# column on every database.
HOUSE_NUMBER_MAX = 99999
# ECMA-262 patterns (what OpenAPI uses), matched here with ``fullmatch`` so that ``$`` does not
# let a trailing newline through. The letters exclude SA, SD and SS, as stdnum does.
POSTCODE_PATTERN = r"^[1-9][0-9]{3} ?(?:[A-RT-Za-rt-z][A-Za-z]|[Ss][B-CE-RT-Zb-ce-rt-z])$"
HOUSE_NUMBER_PATTERN = r"^[1-9][0-9]{0,4}$"
HOUSE_NUMBER_ADDITION_PATTERN = r"^[A-Za-z0-9-]{0,6}$"


def matches(pattern: str, value) -> bool:
    """Whether ``value`` is a text that ``pattern`` (anchored) matches whole."""
    return isinstance(value, str) and re.fullmatch(pattern, value) is not None


def normalise_postcode(value: str) -> str:
    """Return the postcode as ``1234 AB``, or raise ValidationError."""
    try:
        text = (value or "").strip()
        if not matches(POSTCODE_PATTERN, text):
            raise StdnumValidationError()
        return stdnum_postcode.validate(text)
    except StdnumValidationError:
        raise ValidationError(
            _("Enter a Dutch postcode such as 8011 AB."), code="invalid_postcode"
        ) from None


def validate_postcode(value: str) -> None:
    if value != normalise_postcode(value):
        raise ValidationError(_("Write the postcode as 1234 AB."), code="postcode_format")


def normalise_house_number(value) -> int:
    """A house number from 1 to 99999, from a text or a number; else ValidationError."""
    text = str(value if value is not None else "").strip()
    if not matches(HOUSE_NUMBER_PATTERN, text):
        raise ValidationError(
            _("Enter a house number from 1 to %(max)s.") % {"max": HOUSE_NUMBER_MAX},
            code="invalid_house_number",
        )
    return int(text)


validate_house_number_addition = RegexValidator(
    HOUSE_NUMBER_ADDITION_PATTERN,
    _("A house number addition has at most 6 letters or digits, such as A or 2-bis."),
    code="invalid_addition",
)


def normalise_house_number_addition(value: str) -> str:
    """The addition as stored and compared: trimmed, in capitals; else ValidationError."""
    addition = (value or "").strip().upper()
    validate_house_number_addition(addition)
    return addition


validate_kvk_number = RegexValidator(
    r"^[0-9]{8}$", _("A KvK number has exactly 8 digits."), code="invalid_kvk"
)
validate_agb_code = RegexValidator(
    r"^[0-9]{8}$", _("An AGB code has exactly 8 digits."), code="invalid_agb"
)


def bsn_is_valid(bsn: str) -> bool:
    """Nine digits that pass the 11-test (elfproef) of a Dutch citizen service number."""
    return bool(re.fullmatch(r"[0-9]{9}", bsn or "")) and stdnum_bsn.is_valid(bsn)


def digits_of(text: str) -> str:
    """The digits of ``text`` after Unicode NFKC (full-width ``１２３`` are ``123``); every other
    character (spaces, dots, dashes, letters such as a ``BSN`` prefix) left out."""
    text = text or ""
    if text.isascii():
        # The same answer, faster: the import asks this of every line of a file.
        return "".join(filter(str.isdigit, text))
    normalised = unicodedata.normalize("NFKC", text)
    return "".join(
        str(unicodedata.digit(c)) for c in normalised if unicodedata.digit(c, None) is not None
    )


def bsn_digits(text: str) -> str:
    """A BSN as typed (``111.222.333``, ``111 222 333``, a spreadsheet's 8 digits), as its nine
    digits; empty when nothing was typed."""
    digits = digits_of(text)
    return digits.lstrip("0").zfill(9) if digits else ""


def looks_like_a_bsn(reference: str) -> bool:
    """Whether the digits of a reference form a valid BSN, however written: with separators,
    a prefix (``BSN111222333``), full-width digits, a leading zero too many or one dropped by a
    spreadsheet. Another numeric reference passes the 11-test by chance one time in eleven:
    refusing that one too is the lesser mistake than storing a BSN in clear."""
    significant = digits_of(reference).lstrip("0")
    return 7 <= len(significant) <= 9 and bsn_is_valid(significant.zfill(9))


def bsn_hash(bsn: str) -> str:
    """The keyed hash (HMAC-SHA256 with ``BSN_HASH_KEY``) under which a BSN is kept."""
    return hmac.new(settings.BSN_HASH_KEY.encode(), bsn.encode(), hashlib.sha256).hexdigest()
