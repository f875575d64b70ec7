"""The cooperative's details as sender of its invoices, kept by an administrator: the IBAN, BIC
and VAT number checked with python-stdnum, postcodes written as 1234 AB."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.nl import btw as stdnum_btw

from hap_contracting.core.errors import DomainError
from hap_contracting.core.predicates import is_administrator
from hap_contracting.core.validators import normalise_postcode

from ..models import INVOICE_SENDER_PK, InvoiceSender

SENDER_FIELDS = (
    "legal_name",
    "visiting_address",
    "visiting_postcode",
    "visiting_city",
    "postal_address",
    "postal_postcode",
    "postal_city",
    "kvk_number",
    "vat_number",
    "vat_exemption_text",
    "iban",
    "bic",
    "contact_name",
    "contact_email",
    "contact_phone",
    "logo",
)


def _checked(fields: dict) -> tuple[dict, dict]:
    """The values as stored, and a message per field that is wrong."""
    errors: dict[str, str] = {}
    values = {
        name: value.strip() if isinstance(value, str) else value for name, value in fields.items()
    }
    for name in ("visiting_postcode", "postal_postcode"):
        if values.get(name):
            try:
                values[name] = normalise_postcode(values[name])
            except ValidationError as error:
                errors[name] = error.messages[0]
    if values.get("iban"):
        try:
            values["iban"] = stdnum_iban.validate(values["iban"])
        except StdnumValidationError:
            errors["iban"] = _("This IBAN is not valid: check the letters and digits.")
    if values.get("bic"):
        try:
            values["bic"] = stdnum_bic.validate(values["bic"])
        except StdnumValidationError:
            errors["bic"] = _("This BIC is not valid: 8 or 11 letters and digits, e.g. ABNANL2A.")
    if values.get("vat_number"):
        try:
            values["vat_number"] = "NL" + stdnum_btw.validate(values["vat_number"])
        except StdnumValidationError:
            errors["vat_number"] = _(
                "This VAT number is not valid: a Dutch one reads NL000000000B01."
            )
    postal = [values.get(name) for name in ("postal_address", "postal_postcode", "postal_city")]
    if any(postal) and not all(postal):
        errors.setdefault(
            "postal_address",
            _("Give the whole postal address (address, postcode and city) or none."),
        )
    return values, errors


def invoice_sender_save(*, by, **fields) -> InvoiceSender:
    """Save the one row of sender details; nothing is saved when a field is wrong, and each wrong
    field has its message."""
    if not is_administrator.test(by) and not by.is_superuser:
        raise DomainError(_("Only an administrator keeps the invoice sender's details."))
    values, errors = _checked(fields)
    with transaction.atomic():
        sender = InvoiceSender.objects.select_for_update().filter(
            pk=INVOICE_SENDER_PK
        ).first() or InvoiceSender(pk=INVOICE_SENDER_PK)
        for name, value in values.items():
            if name == "logo" and value is None:
                continue  # no new logo: the one there is stays
            if name == "logo" and value is False:
                value = ""  # the admin's "clear" box
            setattr(sender, name, value)
        try:
            sender.full_clean(exclude=list(errors))
        except ValidationError as error:
            errors.update(
                (name, " ".join(messages)) for name, messages in error.message_dict.items()
            )
        if errors:
            raise DomainError(" ".join(errors.values()), errors=errors)
        sender.save()
    return sender
