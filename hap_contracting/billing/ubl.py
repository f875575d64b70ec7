"""The e-invoice: an approved invoice or credit note as a UBL 2.1 Invoice or CreditNote that
conforms to SI-UBL 2.0 (NLCIUS, the Dutch use of EN 16931), with its PDF embedded.

Built with lxml from the invoice, its lines and the parties as kept at approval; no UBL library
(the maintained Python ones target Peppol BIS or generate the whole UBL schema as classes, more
to learn than the thirty elements written here). Element order follows the UBL 2.1 schema.
Choices that the SI-UBL rules make (tests/billing/test_ubl.py runs the official rules):

- seller and buyer are identified by their KvK number (legal entity and electronic address,
  scheme 0106; BR-NL-1, BR-NL-10);
- the care is exempt from VAT: category E, rate 0, with the sender's exemption text (BR-E-*);
  the seller's VAT number is required with it (BR-E-02);
- the buyer reference (BT-10) is the organisation's own reference or order number, else its KvK
  number (BR-NL-2 requires one of the two references);
- payment by SEPA credit transfer (58) to the IBAN, with the payment reference; no BIC
  (BR-NL-31 advises against it for SEPA) and no account name (BR-NL-30);
- a credit note is a CreditNote (381) with positive amounts and the invoice it corrects
  (BillingReference, without that invoice's date: BR-NL-24).
"""

from __future__ import annotations

import base64
import datetime
from decimal import Decimal

from lxml import etree

from .constants import InvoiceKind

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:nen.nl:nlcius:v1.0"
KVK_SCHEME = "0106"
CURRENCY = "EUR"
NS_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
SEPA_CREDIT_TRANSFER = "58"
VAT_EXEMPT = "E"


def _cbc(parent, name: str, text, **attributes):
    element = etree.SubElement(parent, f"{{{NS_CBC}}}{name}", **attributes)
    element.text = str(text)
    return element


def _cac(parent, name: str):
    return etree.SubElement(parent, f"{{{NS_CAC}}}{name}")


def _amount(parent, name: str, value: Decimal):
    return _cbc(parent, name, f"{value:.2f}", currencyID=CURRENCY)


def _address(parent, address: str, postcode: str, city: str) -> None:
    postal = _cac(parent, "PostalAddress")
    _cbc(postal, "StreetName", address)
    _cbc(postal, "CityName", city)
    _cbc(postal, "PostalZone", postcode)
    _cbc(_cac(postal, "Country"), "IdentificationCode", "NL")


def _tax_category(parent, name: str, exemption_text: str | None = None) -> None:
    category = _cac(parent, name)
    _cbc(category, "ID", VAT_EXEMPT)
    _cbc(category, "Percent", "0")
    if exemption_text is not None:
        _cbc(category, "TaxExemptionReason", exemption_text)
    _cbc(_cac(category, "TaxScheme"), "ID", "VAT")


def _supplier(root, sender: dict) -> None:
    party = _cac(_cac(root, "AccountingSupplierParty"), "Party")
    _cbc(party, "EndpointID", sender["kvk_number"], schemeID=KVK_SCHEME)
    _cbc(_cac(party, "PartyName"), "Name", sender["legal_name"])
    _address(party, sender["postal_address"], sender["postal_postcode"], sender["postal_city"])
    tax_scheme = _cac(party, "PartyTaxScheme")
    _cbc(tax_scheme, "CompanyID", sender["vat_number"])
    _cbc(_cac(tax_scheme, "TaxScheme"), "ID", "VAT")
    legal = _cac(party, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", sender["legal_name"])
    _cbc(legal, "CompanyID", sender["kvk_number"], schemeID=KVK_SCHEME)
    contact = _cac(party, "Contact")
    _cbc(contact, "Name", sender["contact_name"])
    if sender.get("contact_phone"):
        _cbc(contact, "Telephone", sender["contact_phone"])
    _cbc(contact, "ElectronicMail", sender["contact_email"])


def _customer(root, recipient: dict) -> None:
    party = _cac(_cac(root, "AccountingCustomerParty"), "Party")
    _cbc(party, "EndpointID", recipient["kvk_number"], schemeID=KVK_SCHEME)
    _cbc(_cac(party, "PartyName"), "Name", recipient["name"])
    _address(party, recipient["address"], recipient["postcode"], recipient["city"])
    legal = _cac(party, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", recipient["name"])
    _cbc(legal, "CompanyID", recipient["kvk_number"], schemeID=KVK_SCHEME)
    if recipient.get("attention") or recipient.get("email"):
        contact = _cac(party, "Contact")
        if recipient.get("attention"):
            _cbc(contact, "Name", recipient["attention"])
        if recipient.get("email"):
            _cbc(contact, "ElectronicMail", recipient["email"])


def _line(root, *, is_credit_note: bool, number: int, line, sign: int) -> None:
    element = _cac(root, "CreditNoteLine" if is_credit_note else "InvoiceLine")
    _cbc(element, "ID", number)
    location = line.location
    _cbc(
        element,
        "Note",
        f"{line.claim_reference} {line.care_on:%d-%m-%Y} {location.name}, {location.address}",
    )
    _cbc(element, "CreditedQuantity" if is_credit_note else "InvoicedQuantity", "1", unitCode="C62")
    amount = sign * line.amount
    _amount(element, "LineExtensionAmount", amount)
    period = _cac(element, "InvoicePeriod")
    _cbc(period, "StartDate", line.care_on.isoformat())
    _cbc(period, "EndDate", line.care_on.isoformat())
    item = _cac(element, "Item")
    _cbc(item, "Description", f"2 x tarief zorgverzekeraar {sign * line.tariff:.2f}")
    _cbc(item, "Name", line.act.name)
    _cbc(_cac(item, "SellersItemIdentification"), "ID", line.act.code)
    _tax_category(item, "ClassifiedTaxCategory")
    for name, value in (
        ("Declaratie", line.claim_reference),
        ("Datum zorg", f"{line.care_on:%d-%m-%Y}"),
        ("Locatie", f"{location.name}, {location.address}"),
        ("Tarief zorgverzekeraar", f"{sign * line.tariff:.2f}"),
    ):
        property_ = _cac(item, "AdditionalItemProperty")
        _cbc(property_, "Name", name)
        _cbc(property_, "Value", value)
    _amount(_cac(element, "Price"), "PriceAmount", amount)


def invoice_ubl(
    *,
    invoice,
    lines: list,
    sender: dict,
    recipient: dict,
    pdf: bytes,
    period_end: datetime.date,
) -> bytes:
    """The UBL document of an approved ``invoice``; ``lines`` are ``selectors.invoice_lines``,
    ``sender`` and ``recipient`` ``selectors.invoice_parties``."""
    is_credit_note = invoice.kind == InvoiceKind.CREDIT_NOTE
    # A credit note stores its amounts negative; its UBL document states them positive.
    sign = -1 if is_credit_note else 1
    namespace = NS_CREDIT_NOTE if is_credit_note else NS_INVOICE
    root = etree.Element(
        f"{{{namespace}}}{'CreditNote' if is_credit_note else 'Invoice'}",
        nsmap={None: namespace, "cac": NS_CAC, "cbc": NS_CBC},
    )
    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    _cbc(root, "ID", invoice.number)
    _cbc(root, "IssueDate", invoice.invoice_date.isoformat())
    if is_credit_note:
        _cbc(root, "CreditNoteTypeCode", "381")
    else:
        if invoice.due_date:
            _cbc(root, "DueDate", invoice.due_date.isoformat())
        _cbc(root, "InvoiceTypeCode", "380")
    if is_credit_note and invoice.reason:
        _cbc(root, "Note", invoice.reason)
    _cbc(root, "DocumentCurrencyCode", CURRENCY)
    _cbc(root, "BuyerReference", recipient.get("reference") or recipient["kvk_number"])
    period = _cac(root, "InvoicePeriod")
    _cbc(period, "StartDate", invoice.period.isoformat())
    _cbc(period, "EndDate", period_end.isoformat())
    if is_credit_note and invoice.corrects_id:
        reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(reference, "ID", invoice.corrects.number)
    document = _cac(root, "AdditionalDocumentReference")
    _cbc(document, "ID", invoice.number)
    _cbc(document, "DocumentDescription", f"Factuur {invoice.number} (PDF)")
    _cbc(
        _cac(document, "Attachment"),
        "EmbeddedDocumentBinaryObject",
        base64.b64encode(pdf).decode("ascii"),
        mimeCode="application/pdf",
        filename=f"factuur-{invoice.number}.pdf",
    )
    _supplier(root, sender)
    _customer(root, recipient)
    means = _cac(root, "PaymentMeans")
    _cbc(means, "PaymentMeansCode", SEPA_CREDIT_TRANSFER)
    _cbc(means, "PaymentID", invoice.payment_reference or invoice.number)
    _cbc(_cac(means, "PayeeFinancialAccount"), "ID", sender["iban"])
    if not is_credit_note and invoice.due_date:
        _cbc(
            _cac(root, "PaymentTerms"),
            "Note",
            f"Betalen uiterlijk {invoice.due_date:%d-%m-%Y} op {sender['iban']} onder "
            f"vermelding van betalingskenmerk {invoice.payment_reference}.",
        )
    lines_total = sign * invoice.lines_total
    charges = sign * invoice.administrative_costs
    if charges:
        charge = _cac(root, "AllowanceCharge")
        _cbc(charge, "ChargeIndicator", "true")
        _cbc(charge, "AllowanceChargeReason", "Administratiekosten")
        _amount(charge, "Amount", charges)
        _tax_category(charge, "TaxCategory")
    total = lines_total + charges
    tax_total = _cac(root, "TaxTotal")
    _amount(tax_total, "TaxAmount", Decimal("0"))
    subtotal = _cac(tax_total, "TaxSubtotal")
    _amount(subtotal, "TaxableAmount", total)
    _amount(subtotal, "TaxAmount", Decimal("0"))
    _tax_category(subtotal, "TaxCategory", exemption_text=sender["vat_exemption_text"])
    monetary = _cac(root, "LegalMonetaryTotal")
    _amount(monetary, "LineExtensionAmount", lines_total)
    _amount(monetary, "TaxExclusiveAmount", total)
    _amount(monetary, "TaxInclusiveAmount", total)
    if charges:
        _amount(monetary, "ChargeTotalAmount", charges)
    _amount(monetary, "PayableAmount", total)
    for number, line in enumerate(lines, start=1):
        _line(root, is_credit_note=is_credit_note, number=number, line=line, sign=sign)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
