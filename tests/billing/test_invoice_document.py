"""The invoice as a document: the sender's details an administrator keeps (IBAN, BIC, VAT and
KvK number checked, nothing saved when one is wrong), and what every invoice and credit note
shows: sender, recipient, invoice and due date, payment reference, period, lines and totals, in
Dutch formats; fixed at approval, so later changes leave an approved invoice as it went out."""

import base64
import datetime
import importlib
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from lxml import etree
from PIL import Image
from stdnum import iso11649

from hap_contracting.audit.constants import AccessAction
from hap_contracting.audit.models import AccessLogEntry
from hap_contracting.billing import documents
from hap_contracting.billing.documents import PDF_TEMPLATE, invoice_pdf_context
from hap_contracting.billing.models import AdministrativeCost, Invoice, InvoiceSender
from hap_contracting.billing.selectors import invoice_lines
from hap_contracting.billing.services import invoices as billing
from hap_contracting.billing.services.sender import invoice_sender_save
from hap_contracting.core import pdf
from hap_contracting.core.errors import DomainError
from hap_contracting.core.roles import Role
from tests.billing.factories import second_finance_user as approver
from tests.billing.test_ubl import OCTOBER, SENDER, UBL, _care
from tests.organisations.factories import CareLocationFactory, CareOrganisationFactory
from tests.tariffs.factories import insurer_tariffs

SENDER_ADD = "admin:billing_invoicesender_add"


@pytest.fixture
def finance(make_user):
    return make_user(Role.FINANCE)


@pytest.fixture
def administrator(make_user):
    return make_user(Role.ADMINISTRATOR, is_staff=True)


@pytest.fixture
def sender(administrator):
    return invoice_sender_save(by=administrator, **SENDER)


@pytest.fixture
def invoice(zwolle, finance, sender):
    """October's invoice of one organisation, approved on 1 December 2026 and sent."""
    insurer_tariffs(datetime.date(2026, 1, 1))
    AdministrativeCost.objects.create(amount=Decimal("25.00"), valid_from=OCTOBER)
    organisation = CareOrganisationFactory(name="Zorggroep Groot", with_invoice_address=True)
    location = CareLocationFactory(organisation=organisation, hap_post=zwolle.posts.get())
    _care(location, "VISITE", "2026-10-05 23:15")
    _care(location, "CONSULT", "2026-10-12 02:00")
    billing.invoices_generate(by=finance, period=OCTOBER)
    draft = Invoice.objects.get()
    approved = billing.invoice_approve(
        invoice=draft,
        by=approver(finance),
        at=timezone.make_aware(datetime.datetime(2026, 11, 3, 10)),
    )
    return billing.invoice_send(invoice=approved, by=finance)


def _pdf_html(invoice) -> str:
    invoice = Invoice.objects.select_related("organisation", "corrects").get(pk=invoice.pk)
    return render_to_string(PDF_TEMPLATE, invoice_pdf_context(invoice, invoice_lines(invoice)))


# --- The sender's details -------------------------------------------------------------------


def test_the_sender_is_saved_normalised(sender):
    saved = InvoiceSender.objects.get()
    assert (saved.iban, saved.bic, saved.vat_number) == (
        "NL91ABNA0417164300",
        "ABNANL2A",
        "NL004495445B01",
    )
    assert saved.visiting_postcode == "8025 AB"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "iban",
            "NL91 ABNA 0417 1643 01",
            "Dit IBAN klopt niet: controleer de letters en cijfers.",
        ),
        ("bic", "ABN", "Deze BIC klopt niet: 8 of 11 letters en cijfers, bijvoorbeeld ABNANL2A."),
        ("kvk_number", "1234", "Een KvK-nummer bestaat uit precies 8 cijfers."),
        (
            "vat_number",
            "NL004495446B01",
            "Dit btw-nummer klopt niet: een Nederlands btw-nummer is NL000000000B01.",
        ),
        ("visiting_postcode", "0123 AB", "Vul een Nederlandse postcode in, zoals 8011 AB."),
    ],
)
def test_a_wrong_sender_detail_is_named_in_dutch_in_the_admin_and_nothing_is_saved(
    client, administrator, field, value, message
):
    client.force_login(administrator)
    data = {name: value or "" for name, value in SENDER.items() if name != "logo"}

    response = client.post(reverse(SENDER_ADD), {**data, field: value})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [message]
    assert not InvoiceSender.objects.exists()


def test_the_admin_keeps_one_row_of_sender_details(client, administrator, sender):
    client.force_login(administrator)

    listing = client.get(reverse("admin:billing_invoicesender_changelist"))
    add = client.get(reverse(SENDER_ADD))

    assert listing.status_code == 302
    assert listing.url == reverse("admin:billing_invoicesender_change", args=[sender.pk])
    assert add.status_code == 403


def test_only_an_administrator_keeps_the_sender(finance):
    with pytest.raises(DomainError):
        invoice_sender_save(by=finance, **SENDER)
    assert not InvoiceSender.objects.exists()


# --- What the invoice shows -------------------------------------------------------------------


def test_approval_fixes_invoice_date_due_date_and_a_checked_payment_reference(invoice):
    assert invoice.invoice_date == datetime.date(2026, 11, 3)
    assert invoice.due_date == datetime.date(2026, 12, 3)  # INVOICE_PAYMENT_TERM_DAYS = 30
    assert iso11649.is_valid(invoice.payment_reference)
    assert invoice.payment_reference.endswith("202600001")


def test_the_pdf_shows_sender_recipient_dates_reference_lines_and_totals_in_dutch(invoice):
    html = _pdf_html(invoice)

    for text in (
        "Coöperatie Huisartsenposten Oost U.A.",
        "Dokter van Heesweg 2",
        "8025 AB Zwolle",
        "Postbus 40, 8000 AA Zwolle",
        "KvK 05084411",
        "NL004495445B01",
        "NL91ABNA0417164300",
        "ABNANL2A",
        "Financiële administratie, facturatie@hap-oost.example",
        "Zorggroep Groot",
        "t.a.v. Crediteurenadministratie",
        "Postbus 1234",
        "8000 AA Zwolle",
        "PO-2026-118",
        "3 november 2026",
        "3 december 2026",
        "1 oktober 2026 – 31 oktober 2026",
        invoice.payment_reference,
        "€ 157,20",
        "€ 287,00",
        "Vrijgesteld van btw (art. 11, lid 1, onderdeel g, Wet OB 1968).",
        "Graag € 287,00 uiterlijk 3 december 2026 overmaken",
    ):
        assert text in html, text


def test_a_credit_note_names_the_invoice_it_corrects(invoice, finance):
    credit = billing.invoice_credit(invoice=invoice, by=finance, reason="Verkeerde locatie.")
    credit = billing.invoice_approve(invoice=credit, by=approver(finance))

    html = _pdf_html(credit)

    assert "Creditnota" in html
    assert f"{invoice.number} van 3 november 2026" in html
    assert "€ 287,00 terug" in html
    assert credit.due_date is None


def test_the_sender_and_recipient_stay_as_they_were_at_approval(invoice, administrator):
    invoice_sender_save(by=administrator, **{**SENDER, "iban": "NL20INGB0001234567"})
    invoice.organisation.invoice_address = "Nieuwe Markt 1"
    invoice.organisation.save()

    html = _pdf_html(invoice)

    assert "NL91ABNA0417164300" in html and "NL20INGB0001234567" not in html
    assert "Postbus 1234" in html and "Nieuwe Markt 1" not in html


def test_the_invoice_page_shows_dates_reference_and_the_e_invoice_download(
    client, invoice, make_user
):
    client.force_login(make_user(Role.FINANCE))

    page = client.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()

    assert "3 december 2026" in page
    assert invoice.payment_reference in page
    assert "Postbus 1234, 8000 AA Zwolle" in page
    assert reverse("billing:invoice_ubl", args=[invoice.pk]) in page


def test_finance_downloads_the_e_invoice_with_its_pdf_inside(client, invoice, finance):
    client.force_login(finance)

    response = client.get(reverse("billing:invoice_ubl", args=[invoice.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert f"factuur-{invoice.number}.xml" in response["Content-Disposition"]
    tree = etree.fromstring(response.content)
    pdf = tree.find(".//cbc:EmbeddedDocumentBinaryObject", UBL)
    assert pdf.get("mimeCode") == "application/pdf"
    assert base64.b64decode(pdf.text).startswith(b"%PDF")


def test_a_draft_has_no_e_invoice(client, zwolle, finance, sender):
    insurer_tariffs(datetime.date(2026, 1, 1))
    organisation = CareOrganisationFactory(with_invoice_address=True)
    _care(
        CareLocationFactory(organisation=organisation, hap_post=zwolle.posts.get()),
        "VISITE",
        "2026-10-05 23:15",
    )
    billing.invoices_generate(by=finance, period=OCTOBER)
    draft = Invoice.objects.get()
    client.force_login(finance)

    response = client.get(reverse("billing:invoice_ubl", args=[draft.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("billing:invoice_detail", args=[draft.pk])
    assert "Alleen een goedgekeurde factuur heeft een e-factuur." in response.content.decode()


def test_an_invoice_without_an_invoice_address_says_what_is_missing(
    client, zwolle, finance, sender
):
    insurer_tariffs(datetime.date(2026, 1, 1))
    location = CareLocationFactory(
        hap_post=zwolle.posts.get(), organisation__invoice_address="", organisation__invoice_city=""
    )
    _care(location, "VISITE", "2026-10-05 23:15")
    billing.invoices_generate(by=finance, period=OCTOBER)
    invoice = billing.invoice_approve(invoice=Invoice.objects.get(), by=approver(finance))
    client.force_login(finance)

    page = client.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
    with pytest.raises(DomainError, match="factuuradres"):
        from hap_contracting.billing.documents import invoice_ubl_bytes

        invoice_ubl_bytes(invoice)

    assert "het factuuradres van de organisatie" in page
    assert reverse("billing:invoice_ubl", args=[invoice.pk]) not in page


def test_the_command_writes_the_e_invoice_to_a_file(invoice, tmp_path):
    target = tmp_path / "factuur.xml"

    call_command("invoice_ubl", invoice.number, "-o", str(target))

    tree = etree.fromstring(target.read_bytes())
    assert tree.findtext("cbc:ID", namespaces=UBL) == invoice.number
    with pytest.raises(CommandError):
        call_command("invoice_ubl", "2026-99999")


def test_the_e_invoice_download_is_in_the_access_log(client, invoice, finance):
    client.force_login(finance)

    client.get(reverse("billing:invoice_ubl", args=[invoice.pk]))

    assert AccessLogEntry.objects.filter(
        user=finance, action=AccessAction.EXPORT, what__contains="UBL"
    ).exists()


def test_the_pdf_fetcher_serves_only_the_files_handed_to_it():
    fetch = pdf.static_url_fetcher({"logo": (b"\x89PNG", "image/png")})

    assert fetch("https://app.invalid/_files/logo").read() == b"\x89PNG"
    with pytest.raises(ValueError):
        fetch("https://app.invalid/_files/other")
    with pytest.raises(ValueError):
        pdf.static_url_fetcher()("https://app.invalid/_files/logo")


def test_the_senders_logo_is_printed_on_the_pdf(zwolle, finance, administrator, monkeypatch):
    image = io.BytesIO()
    Image.new("RGB", (40, 20), "navy").save(image, format="PNG")
    logo = SimpleUploadedFile("logo.png", image.getvalue(), "image/png")
    invoice_sender_save(by=administrator, **{**SENDER, "logo": logo})
    insurer_tariffs(datetime.date(2026, 1, 1))
    organisation = CareOrganisationFactory(with_invoice_address=True)
    location = CareLocationFactory(organisation=organisation, hap_post=zwolle.posts.get())
    _care(location, "VISITE", "2026-10-05 23:15")
    billing.invoices_generate(by=finance, period=OCTOBER)
    invoice = billing.invoice_approve(invoice=Invoice.objects.get(), by=approver(finance))
    rendered, fetched = [], []

    def render(*args, **kwargs):
        rendered.append(render_to_string(*args, **kwargs))
        return rendered[-1]

    def fetcher(files=None):
        fetched.append(files)
        return static_url_fetcher(files)

    static_url_fetcher = pdf.static_url_fetcher
    monkeypatch.setattr(pdf, "render_to_string", render)
    monkeypatch.setattr(pdf, "static_url_fetcher", fetcher)
    content = documents.invoice_pdf_bytes(invoice, list(invoice_lines(invoice)))

    assert content.startswith(b"%PDF")
    assert '<img class="logo" src="https://app.invalid/_files/logo"' in rendered[0]
    assert fetched[0] == {"logo": (image.getvalue(), "image/png")}


def test_an_invoice_approved_before_dates_existed_gets_them_as_approval_would_give_them(
    invoice, finance
):
    """Migration 0005: an approved invoice not sent yet is dated as approval would date it."""
    from django.apps import apps

    migration = importlib.import_module(
        "hap_contracting.billing.migrations.0005_approved_invoices_dated"
    )
    credit = billing.invoice_credit(invoice=invoice, by=finance, reason="Verkeerde locatie.")
    credit = billing.invoice_approve(invoice=credit, by=approver(finance))
    Invoice.objects.filter(pk=credit.pk).update(invoice_date=None, payment_reference="")

    migration.date_approved_invoices(apps, None)

    credit = Invoice.objects.get(pk=credit.pk)
    assert credit.invoice_date == timezone.localdate(credit.approved_at)
    assert credit.payment_reference == billing.payment_reference(credit.number)
    assert credit.due_date is None  # a credit note is paid back, not due
