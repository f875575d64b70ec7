"""The e-invoice: every kind of document billing makes (invoice, credit note, with and without
administrative costs, several locations and acts) is a UBL 2.1 document that passes the official
SI-UBL 2.0 rules (NLCIUS with EN 16931) without a fatal failed assertion, its PDF inside."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from lxml import etree

from hap_contracting.billing.constants import InvoiceKind
from hap_contracting.billing.documents import invoice_ubl_bytes
from hap_contracting.billing.models import AdministrativeCost, Invoice
from hap_contracting.billing.services import invoices as billing
from hap_contracting.billing.services.sender import invoice_sender_save
from hap_contracting.billing.ubl import CUSTOMIZATION_ID
from hap_contracting.core.roles import Role
from hap_contracting.tariffs.models import Act
from tests.billing.factories import ClaimFactory
from tests.billing.factories import second_finance_user as approver
from tests.billing.si_ubl import failed
from tests.organisations.factories import CareLocationFactory, CareOrganisationFactory
from tests.tariffs.factories import insurer_tariffs

SEPTEMBER = datetime.date(2026, 9, 1)
OCTOBER = datetime.date(2026, 10, 1)
UBL = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}
SENDER = {
    "legal_name": "Coöperatie Huisartsenposten Oost U.A.",
    "visiting_address": "Dokter van Heesweg 2",
    "visiting_postcode": "8025ab",
    "visiting_city": "Zwolle",
    "postal_address": "Postbus 40",
    "postal_postcode": "8000 AA",
    "postal_city": "Zwolle",
    "kvk_number": "05084411",
    "vat_number": "NL004495445B01",
    "vat_exemption_text": "Vrijgesteld van btw (art. 11, lid 1, onderdeel g, Wet OB 1968).",
    "iban": "NL91 ABNA 0417 1643 00",
    "bic": "ABNANL2A",
    "contact_name": "Financiële administratie",
    "contact_email": "facturatie@hap-oost.example",
    "contact_phone": "038 123 45 67",
    "logo": None,
}


# --- What billing makes ---------------------------------------------------------------------


@pytest.fixture
def finance(make_user):
    return make_user(Role.FINANCE)


@pytest.fixture
def administrator(make_user):
    return make_user(Role.ADMINISTRATOR, is_staff=True)


@pytest.fixture
def sender(administrator):
    return invoice_sender_save(by=administrator, **SENDER)


def _care(location, act: str, when: str):
    at = timezone.make_aware(datetime.datetime.fromisoformat(when))
    return ClaimFactory(location=location, act=Act.objects.get(code=act), care_at=at)


@pytest.fixture
def documents(zwolle, finance, sender):
    """Every kind of document: by kind and costs, approved (and the invoices sent)."""
    insurer_tariffs(datetime.date(2026, 1, 1))
    AdministrativeCost.objects.create(amount=Decimal("25.00"), valid_from=OCTOBER)
    post = zwolle.posts.get()
    large = CareOrganisationFactory(name="Zorggroep Groot", with_invoice_address=True)
    first, second = (
        CareLocationFactory(organisation=large, hap_post=post, name=name)
        for name in ("De Linde", "Het Anker")
    )
    small = CareOrganisationFactory(
        name="Stichting Klein", with_invoice_address=True, invoice_reference=""
    )
    only = CareLocationFactory(organisation=small, hap_post=post, name="De Eik")
    _care(first, "VISITE", "2026-10-05 23:15")
    _care(first, "CONSULT", "2026-10-12 02:00")
    _care(second, "TELEFOON", "2026-10-20 19:30")
    _care(only, "VISITE", "2026-09-14 21:00")
    billing.invoices_generate(by=finance, period=OCTOBER)
    billing.invoices_generate(by=finance, period=SEPTEMBER)
    made = {}
    for key, period in (("with_costs", OCTOBER), ("without_costs", SEPTEMBER)):
        invoice = Invoice.objects.get(period=period, kind=InvoiceKind.INVOICE)
        invoice = billing.invoice_approve(invoice=invoice, by=approver(finance))
        invoice = billing.invoice_send(invoice=invoice, by=finance)
        credit = billing.invoice_credit(invoice=invoice, by=finance, reason="Verkeerde locatie.")
        made[f"invoice {key}"] = invoice
        made[f"credit note {key}"] = billing.invoice_approve(invoice=credit, by=approver(finance))
    return {name: Invoice.objects.get(pk=invoice.pk) for name, invoice in made.items()}


KINDS = [
    "invoice with_costs",
    "invoice without_costs",
    "credit note with_costs",
    "credit note without_costs",
]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_document_passes_the_si_ubl_rules(documents, si_ubl_rules, kind):
    report = si_ubl_rules(invoice_ubl_bytes(documents[kind]))

    assert failed(report, "fatal") == []
    assert failed(report, "warning") == []


@pytest.mark.parametrize(
    ("removed", "rules"),
    [
        # The Dutch essentials: the seller's KvK number and the buyer reference.
        (
            [
                ".//cbc:BuyerReference",
                ".//cac:AccountingSupplierParty//cac:PartyLegalEntity/cbc:CompanyID",
            ],
            {"BR-NL-1", "BR-NL-2"},
        ),
        # VAT-exempt lines and charges need the seller's VAT number, and the breakdown its text.
        ([".//cac:AccountingSupplierParty//cac:PartyTaxScheme"], {"BR-E-02", "BR-E-04"}),
        ([".//cac:TaxSubtotal//cbc:TaxExemptionReason"], {"BR-E-10"}),
    ],
)
def test_the_rules_refuse_a_document_without_what_they_require(
    documents, si_ubl_rules, removed, rules
):
    """The validation is real: taking out what the e-invoice carries because the official rules
    require it makes them fail it."""
    tree = etree.fromstring(invoice_ubl_bytes(documents["invoice with_costs"]))
    for path in removed:
        element = tree.find(path, UBL)
        element.getparent().remove(element)

    fatal = failed(si_ubl_rules(etree.tostring(tree)), "fatal")

    assert {message.split(":")[0] for message in fatal} >= rules


def test_a_credit_note_is_a_creditnote_with_positive_amounts_naming_the_invoice(documents):
    invoice = documents["invoice with_costs"]
    tree = etree.fromstring(invoice_ubl_bytes(documents["credit note with_costs"]))

    assert etree.QName(tree).localname == "CreditNote"
    assert tree.findtext("cbc:CreditNoteTypeCode", namespaces=UBL) == "381"
    assert tree.findtext(".//cac:InvoiceDocumentReference/cbc:ID", namespaces=UBL) == invoice.number
    assert tree.findtext(".//cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=UBL) == (
        f"{invoice.total:.2f}"
    )
    assert tree.findtext(".//cac:AllowanceCharge/cbc:Amount", namespaces=UBL) == "25.00"
    assert len(tree.findall("cac:CreditNoteLine", UBL)) == 3


def test_an_invoice_carries_due_date_reference_kvk_iban_and_every_line(documents):
    invoice = documents["invoice with_costs"]
    tree = etree.fromstring(invoice_ubl_bytes(invoice))

    assert tree.findtext("cbc:CustomizationID", namespaces=UBL) == CUSTOMIZATION_ID
    assert tree.findtext("cbc:DueDate", namespaces=UBL) == invoice.due_date.isoformat()
    assert tree.findtext("cbc:BuyerReference", namespaces=UBL) == "PO-2026-118"
    assert tree.findtext(".//cbc:PaymentID", namespaces=UBL) == invoice.payment_reference
    assert tree.findtext(".//cac:PayeeFinancialAccount/cbc:ID", namespaces=UBL) == (
        "NL91ABNA0417164300"
    )
    legal = tree.find(".//cac:AccountingCustomerParty//cac:PartyLegalEntity/cbc:CompanyID", UBL)
    assert (legal.text, legal.get("schemeID")) == (invoice.organisation.kvk_number, "0106")
    names = [
        line.findtext(".//cbc:Name", namespaces=UBL)
        for line in tree.findall("cac:InvoiceLine", UBL)
    ]
    assert len(names) == 3 and len(set(names)) == 3  # three acts


def test_without_its_own_reference_the_buyer_reference_is_the_kvk_number(documents):
    invoice = documents["invoice without_costs"]
    tree = etree.fromstring(invoice_ubl_bytes(invoice))

    assert tree.findtext("cbc:BuyerReference", namespaces=UBL) == invoice.organisation.kvk_number
    assert tree.find(".//cac:AllowanceCharge", UBL) is None
