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
from hap_contracting.core.roles import Role
from hap_contracting.tariffs.models import Act
from tests.billing.factories import ClaimFactory
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
        invoice = billing.invoice_approve(invoice=invoice, by=finance)
        invoice = billing.invoice_send(invoice=invoice, by=finance)
        credit = billing.invoice_credit(invoice=invoice, by=finance, reason="Verkeerde locatie.")
        made[f"invoice {key}"] = invoice
        made[f"credit note {key}"] = billing.invoice_approve(invoice=credit, by=finance)
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


def test_the_rules_do_refuse_a_document_without_the_dutch_essentials(documents, si_ubl_rules):
    """The validation is real: without the seller's KvK number and the buyer reference the
    official rules fail it (BR-NL-1, BR-NL-2)."""
    tree = etree.fromstring(invoice_ubl_bytes(documents["invoice with_costs"]))
    for path in (
        ".//cbc:BuyerReference",
        ".//cac:AccountingSupplierParty//cac:PartyLegalEntity/cbc:CompanyID",
    ):
        element = tree.find(path, UBL)
        element.getparent().remove(element)

    fatal = failed(si_ubl_rules(etree.tostring(tree)), "fatal")

    assert {message.split(":")[0] for message in fatal} >= {"BR-NL-1", "BR-NL-2"}
