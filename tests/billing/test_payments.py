"""Payments of invoices: recorded by hand (and the refusals), reversed, imported from a CAMT.053
bank statement (matched on payment reference and amount, unmatched lines matched by hand,
nothing recorded twice, a bad file stores nothing), and the payment state that follows."""

import datetime
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hap_contracting.audit.models import AccessLogEntry
from hap_contracting.billing import selectors
from hap_contracting.billing.constants import InvoiceState, PaymentSource, PaymentState
from hap_contracting.billing.models import (
    AdministrativeCost,
    BankStatementEntry,
    BankStatementImport,
    Invoice,
    Payment,
)
from hap_contracting.billing.services import invoices as billing
from hap_contracting.billing.services import payments
from hap_contracting.billing.services.camt053 import CamtError, parse_statement
from hap_contracting.core.errors import DomainError
from hap_contracting.core.roles import Role
from tests.billing.camt import Entry, statement
from tests.billing.factories import ClaimFactory, ClaimImportFactory
from tests.organisations.factories import CareLocationFactory, CareOrganisationFactory
from tests.tariffs.factories import insurer_tariffs

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("invoice_sender")]


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def finance(staff):
    return staff[Role.FINANCE]


@pytest.fixture
def tariffs(today):
    AdministrativeCost.objects.create(
        amount=Decimal("25.00"), valid_from=today - relativedelta(years=2)
    )
    return insurer_tariffs(valid_from=today - relativedelta(years=2))


def _approver():
    """A second finance user: who made the invoices does not approve them (four eyes)."""
    from tests.accounts.factories import UserFactory

    return UserFactory(roles=[Role.FINANCE], region=None)


def _invoices(finance, locations, *, send=True) -> list[Invoice]:
    claim_import = ClaimImportFactory()
    for location in locations:
        ClaimFactory(location=location, claim_import=claim_import)
    last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    billing.invoices_generate(by=finance, period=last_month)
    result = []
    for invoice in Invoice.objects.filter(state=InvoiceState.DRAFT).order_by("pk"):
        invoice = billing.invoice_approve(invoice=invoice, by=_approver())
        if send:
            invoice = billing.invoice_send(invoice=invoice, by=finance)
        result.append(invoice)
    return result


@pytest.fixture
def invoice(finance, location, tariffs) -> Invoice:
    """A sent invoice: one visit (2 × 78.60) and administrative costs, € 182.20."""
    (invoice,) = _invoices(finance, [location])
    assert invoice.total == Decimal("182.20")
    return invoice


@pytest.fixture
def two_invoices(finance, zwolle, tariffs) -> list[Invoice]:
    locations = [
        CareLocationFactory(
            hap_post=zwolle.posts.get(),
            organisation=CareOrganisationFactory(),
            postcode="8011 AB",
            house_number=20 + n,
            wlz_treatment_admission=True,
        )
        for n in range(2)
    ]
    return _invoices(finance, locations)


def record(invoice, by, **kwargs):
    arguments = {
        "amount": Decimal("100.00"),
        "paid_on": timezone.localdate(),
        "reference": "NL91ABNA0417164300 factuur",
        **kwargs,
    }
    return payments.payment_record(invoice=invoice, by=by, **arguments)


def state(invoice) -> Invoice:
    return selectors.invoice_payment_state(invoice)


# --- Recording by hand ----------------------------------------------------------------------


def test_a_partial_and_then_the_rest_make_the_invoice_paid(invoice, finance):
    assert state(invoice).payment_state == PaymentState.OPEN

    record(invoice, finance, amount=Decimal("100.00"))
    partly = state(invoice)
    assert (partly.payment_state, partly.outstanding) == (
        PaymentState.PARTLY_PAID,
        Decimal("82.20"),
    )

    record(invoice, finance, amount=Decimal("82.20"))
    paid = state(invoice)
    assert (paid.payment_state, paid.outstanding) == (PaymentState.PAID, Decimal("0.00"))


def test_payments_in_cents_that_add_up_to_the_total_make_it_paid_exactly(invoice, finance):
    # 0.10 + 0.20 is not 0.30 in floating point, as SQLite (the demo) computes decimals: the
    # amounts are rounded to cents there, exact on PostgreSQL.
    for amount in ("0.10", "0.20", "181.90"):
        record(invoice, finance, amount=Decimal(amount))

    paid = state(invoice)

    assert (paid.payment_state, paid.outstanding) == (PaymentState.PAID, Decimal("0.00"))


def test_more_than_owed_is_recorded_and_flagged_as_paid_too_much(invoice, finance):
    record(invoice, finance, amount=Decimal("200.00"))

    summary = state(invoice)
    assert summary.payment_state == PaymentState.OVERPAID
    assert summary.outstanding == Decimal("-17.80")


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"amount": Decimal("0")}, "amount"),
        ({"amount": Decimal("-5")}, "amount"),
        ({"paid_on": timezone.localdate() + datetime.timedelta(days=1)}, "paid_on"),
        ({"paid_on": timezone.localdate() - datetime.timedelta(days=1)}, "paid_on"),
        ({"reference": "  "}, "reference"),
        ({"note": "x" * 501}, "note"),
    ],
    ids=["zero", "negative", "future", "before-approval", "no-reference", "long-note"],
)
def test_a_payment_that_breaks_a_rule_is_refused_on_its_field(invoice, finance, arguments, field):
    with pytest.raises(DomainError) as error:
        record(invoice, finance, **arguments)

    assert error.value.field == field
    assert not Payment.objects.exists()


def test_a_draft_and_a_credit_note_are_not_paid(finance, location, tariffs):
    (draft,) = _invoices(finance, [location], send=False)
    # Approved (not marked sent): money that arrives is recorded.
    record(draft, finance)
    sent = billing.invoice_send(invoice=draft, by=finance)
    credit = billing.invoice_credit(invoice=sent, by=finance, reason="Verkeerd adres")

    with pytest.raises(DomainError):
        record(credit, finance)
    assert Payment.objects.count() == 1


def test_a_draft_invoice_is_not_paid(finance, location, tariffs):
    ClaimFactory(location=location)
    last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    billing.invoices_generate(by=finance, period=last_month)
    draft = Invoice.objects.get()

    with pytest.raises(DomainError):
        record(draft, finance)
    assert not Payment.objects.exists()
    assert state(draft).payment_state == ""


def test_only_finance_records_payments(invoice, staff):
    with pytest.raises(DomainError):
        record(invoice, staff[Role.LOCATION_MANAGER])
    assert not Payment.objects.exists()


def test_a_reversal_undoes_a_payment_once(invoice, finance):
    payment = record(invoice, finance, amount=Decimal("182.20"))

    reversal = payments.payment_reverse(payment=payment, by=finance, reason="Verkeerde factuur")

    assert reversal.amount == Decimal("-182.20")
    assert state(invoice).payment_state == PaymentState.OPEN
    with pytest.raises(DomainError):
        payments.payment_reverse(payment=payment, by=finance, reason="nogmaals")
    with pytest.raises(DomainError):
        payments.payment_reverse(payment=reversal, by=finance, reason="terug")
    assert Payment.objects.count() == 2


def test_a_credited_invoice_is_credited_and_a_paid_one_then_paid_too_much(invoice, finance):
    credit = billing.invoice_credit(invoice=invoice, by=finance, reason="Contract was er al")
    # A draft credit note does not count yet.
    assert state(invoice).payment_state == PaymentState.OPEN
    billing.invoice_approve(invoice=credit, by=_approver())

    assert state(invoice).payment_state == PaymentState.CREDITED
    assert state(invoice).outstanding == Decimal("0.00")
    record(invoice, finance, amount=Decimal("182.20"))
    assert state(invoice).payment_state == PaymentState.OVERPAID


def test_an_unpaid_invoice_is_overdue_from_the_day_after_its_due_date(invoice):
    summary = Invoice.objects.filter(pk=invoice.pk)
    due = Invoice.objects.get(pk=invoice.pk).due_date

    on_the_day = selectors.with_payment_state(summary, today=due).get()
    the_day_after = selectors.with_payment_state(
        summary, today=due + datetime.timedelta(days=1)
    ).get()

    assert due is not None
    assert on_the_day.is_overdue is False
    assert the_day_after.is_overdue is True


def test_a_paid_invoice_is_never_overdue(invoice, finance):
    record(invoice, finance, amount=Invoice.objects.get(pk=invoice.pk).total)
    due = Invoice.objects.get(pk=invoice.pk).due_date

    late = selectors.with_payment_state(
        Invoice.objects.filter(pk=invoice.pk), today=due + relativedelta(years=5)
    ).get()

    assert late.is_overdue is False


@pytest.mark.postgres
def test_payments_are_append_only_on_postgresql(invoice, finance):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    payment = record(invoice, finance)

    with pytest.raises(DatabaseError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(amount=Decimal("1.00"))
    with pytest.raises(DatabaseError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).delete()
    assert Payment.objects.get().amount == Decimal("100.00")


# --- The payment reference ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["Factuur {n}", "fact {compact}", "{spaced} HAP", "betreft {slashed} okt"],
)
def test_the_invoice_number_is_found_in_the_description_as_banks_write_it(invoice, text):
    year, number = invoice.number.split("-")
    written = text.format(
        n=invoice.number,
        compact=f"{year}{number}",
        spaced=f"{year} {number}",
        slashed=f"{year}/{number}",
    )

    assert selectors.invoice_for_payment_reference(written) == invoice


def creditor_reference(number: str) -> str:
    """The ISO 11649 reference of an invoice number's digits (RF, two check digits, digits)."""
    from stdnum.iso7064 import mod_97_10

    digits = number.replace("-", "")
    return "RF" + mod_97_10.calc_check_digits(digits + "RF") + digits


def test_a_structured_creditor_reference_of_the_invoice_number_finds_the_invoice(invoice):
    reference = creditor_reference(invoice.number)
    grouped = " ".join(reference[i : i + 4] for i in range(0, len(reference), 4))
    wrong = reference[:2] + f"{(int(reference[2:4]) + 1) % 100:02d}" + reference[4:]

    assert selectors.invoice_for_payment_reference(reference) == invoice
    assert selectors.invoice_for_payment_reference(f"{grouped.lower()} zorg") == invoice
    assert selectors.invoice_for_payment_reference(wrong) is None


def test_a_description_naming_two_invoices_or_none_finds_none(two_invoices):
    first, second = two_invoices

    assert selectors.invoice_for_payment_reference(f"{first.number} {second.number}") is None
    assert selectors.invoice_for_payment_reference("contributie november") is None
    assert selectors.invoice_for_payment_reference(f"1{first.number}9") is None


# --- The bank statement ---------------------------------------------------------------------


def upload(content: bytes, name="afschrift.xml") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, "application/xml")


def import_statement(finance, *entries: Entry, **kwargs) -> BankStatementImport:
    return payments.bank_statement_import(
        by=finance, uploaded_file=upload(statement(*entries, **kwargs))
    )


@pytest.mark.parametrize("version", ["02", "08"])
def test_a_statement_records_the_credits_that_name_an_invoice_and_pay_what_it_owes(
    two_invoices, finance, version
):
    first, second = two_invoices

    result = import_statement(
        finance,
        Entry("182.20", f"Factuur {first.number}", reference="A1", end_to_end="E2E-1"),
        Entry("50.00", f"Factuur {second.number}", reference="A2"),  # not what it owes
        Entry("99.00", "Onbekende betaling", reference="A3"),
        Entry("1250.00", "Huur november", indicator="DBIT", reference="A4"),
        Entry("182.20", second.number, reference="A5", structured=True, status="PDNG"),
        version=version,
    )

    assert (result.credit_count, result.matched_count, result.debit_count) == (3, 1, 1)
    assert result.unbooked_count == 1
    payment = Payment.objects.get()
    assert (payment.invoice, payment.amount, payment.source) == (
        first,
        Decimal("182.20"),
        PaymentSource.BANK,
    )
    assert payment.reference == "E2E-1"
    assert state(first).payment_state == PaymentState.PAID
    unmatched = [e for e in selectors.bank_import_entries(result) if e.invoice_id is None]
    assert sorted(e.amount for e in unmatched) == [Decimal("50.00"), Decimal("99.00")]


def test_the_structured_creditor_reference_is_read(invoice, finance):
    import_statement(finance, Entry("182.20", invoice.number, reference="S1", structured=True))

    assert Payment.objects.get().invoice == invoice


def test_importing_the_same_statement_twice_records_nothing_twice(invoice, finance):
    entries = [
        Entry("100.00", f"Factuur {invoice.number} deel 1"),  # no bank reference: hashed
        Entry("82.20", "iets", reference="B2"),
    ]
    first = import_statement(finance, *entries)
    second = import_statement(finance, *entries)

    assert (first.new_count, second.new_count, second.known_count) == (2, 0, 2)
    assert BankStatementEntry.objects.count() == 2
    assert Payment.objects.count() == 0  # 100.00 is not what the invoice owes


def test_two_equal_lines_without_a_bank_reference_are_two_lines(invoice, finance):
    entry = Entry("91.10", "termijn")

    result = import_statement(finance, entry, entry)

    assert result.new_count == 2


def test_a_second_line_for_an_invoice_already_paid_stays_unmatched(invoice, finance):
    result = import_statement(
        finance,
        Entry("182.20", invoice.number, reference="C1"),
        Entry("182.20", invoice.number, reference="C2"),
    )

    assert result.matched_count == 1
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"<Document><BkToCstmrStmt>", ["regel"]),
        (
            b'<?xml version="1.0"?>'
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"/>',
            ["CAMT.053", "Document"],
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]>'
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&a;</Document>',
            ["DOCTYPE"],
        ),
        (statement(Entry("12,50", "x")), ["regel 1", "Amt", "12,50"]),
        (statement(Entry("12.50", "x", currency="USD")), ["Amt", "USD"]),
        (statement(Entry("12.50", "x", booked_on="20-11-2026")), ["Dt", "20-11-2026"]),
        (statement(Entry("12.50", "x", indicator="CRD")), ["CdtDbtInd"]),
    ],
    ids=["not-xml", "not-camt", "doctype", "amount", "currency", "date", "indicator"],
)
def test_a_bad_file_is_refused_in_dutch_naming_line_and_element_and_stores_nothing(
    invoice, finance, content, words
):
    with pytest.raises(DomainError) as error:
        payments.bank_statement_import(by=finance, uploaded_file=upload(content))

    message = str(error.value)
    for word in words:
        assert word.lower() in message.lower(), message
    assert not BankStatementImport.objects.exists()
    assert not BankStatementEntry.objects.exists()
    assert not Payment.objects.exists()


def test_the_line_of_a_bad_element_is_its_line_in_the_file():
    content = statement(Entry("1.00", "goed"), Entry("abc", "fout"))
    bad_line = next(
        number
        for number, text in enumerate(content.decode().splitlines(), start=1)
        if ">abc<" in text
    )

    with pytest.raises(CamtError) as error:
        parse_statement(content)

    assert f"regel {bad_line}" in str(error.value).lower()


def test_only_finance_imports_statements(staff, invoice):
    with pytest.raises(DomainError):
        payments.bank_statement_import(
            by=staff[Role.SECRETARIAT], uploaded_file=upload(statement(Entry("1.00", "x")))
        )
    assert not BankStatementImport.objects.exists()


def test_an_unmatched_line_is_matched_by_hand_once(invoice, finance):
    result = import_statement(finance, Entry("100.00", "Zorggroep termijn", reference="D1"))
    entry = BankStatementEntry.objects.get()

    payment = payments.bank_entry_match(entry=entry, invoice=invoice, by=finance)

    assert (payment.amount, payment.paid_on, payment.bank_entry) == (
        Decimal("100.00"),
        entry.booked_on,
        entry,
    )
    assert [e.invoice_id for e in selectors.bank_import_entries(result)] == [invoice.pk]
    with pytest.raises(DomainError):
        payments.bank_entry_match(entry=entry, invoice=invoice, by=finance)
    assert Payment.objects.count() == 1
    # Reversed (the wrong invoice), the line is open to match again.
    payments.payment_reverse(payment=payment, by=finance, reason="Verkeerde factuur")
    assert [e.invoice_id for e in selectors.bank_import_entries(result)] == [None]


# --- The pages ------------------------------------------------------------------------------


def test_finance_records_a_payment_on_the_invoice_page(client, finance, invoice, today):
    client.force_login(finance)
    url = reverse("billing:invoice_detail", args=[invoice.pk])

    response = client.post(
        url,
        {
            "form": "payment",
            "payment-amount": "100,00",
            "payment-paid_on": today.isoformat(),
            "payment-reference": "Overboeking",
        },
        follow=True,
    )

    assert "€ 82,20" in response.content.decode()
    assert Payment.objects.get().amount == Decimal("100.00")
    page = client.get(url).content.decode()
    assert "Deels betaald" in page
    # The invoice page shows claim references, so its view is logged as before.
    assert AccessLogEntry.objects.filter(user=finance).exists()


def test_a_refused_payment_on_the_page_names_the_field_and_saves_nothing(
    client, finance, invoice, today
):
    client.force_login(finance)

    response = client.post(
        reverse("billing:invoice_detail", args=[invoice.pk]),
        {
            "form": "payment",
            "payment-amount": "100,00",
            "payment-paid_on": (today + datetime.timedelta(days=2)).isoformat(),
            "payment-reference": "Overboeking",
        },
    )

    assert response.status_code == 200
    assert "toekomst" in response.content.decode()
    assert not Payment.objects.exists()


def test_a_payment_is_reversed_on_the_invoice_page(client, finance, invoice):
    payment = record(invoice, finance)
    client.force_login(finance)

    client.post(
        reverse("billing:invoice_detail", args=[invoice.pk]),
        {"form": "reverse", "reverse-payment": payment.pk, "reverse-reason": "Dubbel geboekt"},
    )

    assert Payment.objects.get(reverses=payment).amount == Decimal("-100.00")


def test_the_invoice_list_shows_and_filters_the_payment_state(
    client, finance, two_invoices, django_assert_max_num_queries
):
    first, second = two_invoices
    record(first, finance, amount=first.total)
    client.force_login(finance)
    url = reverse("billing:invoice_list")

    with django_assert_max_num_queries(12):
        page = client.get(url).content.decode()
    assert "Betaald" in page and "Open" in page

    paid = client.get(url, {"payment": PaymentState.PAID}).context["page"].object_list
    assert [invoice.pk for invoice in paid] == [first.pk]
    open_ = client.get(url, {"payment": PaymentState.OPEN}).context["page"].object_list
    assert [invoice.pk for invoice in open_] == [second.pk]
    assert not client.get(url, {"payment": "overdue"}).context["page"].object_list


def test_the_invoice_list_runs_a_constant_number_of_queries_with_payments(
    client, finance, zwolle, tariffs
):
    client.force_login(finance)

    def count_for_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(reverse("billing:invoice_list"))
        return len(captured)

    location = CareLocationFactory(
        hap_post=zwolle.posts.get(),
        postcode="8011 AB",
        house_number=30,
        wlz_treatment_admission=True,
    )
    (one,) = _invoices(finance, [location])
    record(one, finance)
    few = count_for_list()
    more = [
        CareLocationFactory(
            hap_post=zwolle.posts.get(),
            organisation=CareOrganisationFactory(),
            postcode="8011 AB",
            house_number=40 + n,
            wlz_treatment_admission=True,
        )
        for n in range(4)
    ]
    claim_import = ClaimImportFactory()
    for location in more:
        ClaimFactory(location=location, claim_import=claim_import)
    for invoice in _invoices_of_new_month(finance):
        record(invoice, finance)

    assert Invoice.objects.count() == 5
    assert count_for_list() == few


def _invoices_of_new_month(finance) -> list[Invoice]:
    last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    billing.invoices_generate(by=finance, period=last_month)
    return [
        billing.invoice_approve(invoice=invoice, by=_approver())
        for invoice in Invoice.objects.filter(state=InvoiceState.DRAFT).order_by("pk")
    ]


def test_finance_imports_a_statement_and_matches_a_line_by_hand_on_its_page(
    client, finance, two_invoices, django_assert_max_num_queries
):
    first, second = two_invoices
    client.force_login(finance)
    content = statement(
        Entry("182.20", f"Factuur {first.number}", reference="P1"),
        Entry("60.00", f"Deel van {second.number}", reference="P2"),
        Entry("12.00", "Gift", reference="P3"),
        Entry("500.00", "Huur", indicator="DBIT", reference="P4"),
    )

    response = client.post(
        reverse("billing:bank_import_list"), {"file": upload(content)}, follow=True
    )

    statement_import = BankStatementImport.objects.get()
    assert response.redirect_chain[-1][0] == reverse(
        "billing:bank_import_detail", args=[statement_import.pk]
    )
    page = response.content.decode()
    assert "Gift" in page and "Deel van" in page
    url = reverse("billing:bank_import_detail", args=[statement_import.pk])
    with django_assert_max_num_queries(12):
        client.get(url)
    entry = BankStatementEntry.objects.get(remittance__startswith="Deel van")

    client.post(url, {"entry": entry.pk, "invoice": second.pk})

    payment = Payment.objects.get(bank_entry=entry)
    assert (payment.invoice, payment.amount) == (second, Decimal("60.00"))
    assert state(second).payment_state == PaymentState.PARTLY_PAID
    # Importing it again on the page records nothing twice.
    client.post(reverse("billing:bank_import_list"), {"file": upload(content)})
    assert Payment.objects.count() == 2
    assert BankStatementEntry.objects.count() == 3


def test_a_bad_statement_on_the_page_says_why_on_the_field(client, finance):
    client.force_login(finance)

    response = client.post(reverse("billing:bank_import_list"), {"file": upload(b"geen xml")})

    assert response.status_code == 200
    assert "regel 1" in response.content.decode()
    assert not BankStatementImport.objects.exists()


@pytest.mark.parametrize("name", ["billing:bank_import_list"])
def test_only_finance_opens_the_bank_pages(client, staff, name):
    client.force_login(staff[Role.LOCATION_MANAGER])
    assert client.get(reverse(name)).status_code == 403
    client.force_login(staff[Role.FINANCE])
    assert client.get(reverse(name)).status_code == 200


def test_the_demo_statement_in_fixtures_reads_with_its_credits_and_its_debit():
    """The sample file the README offers for trying the import."""
    content = (settings.BASE_DIR / "fixtures" / "camt053-demo.xml").read_bytes()

    read = parse_statement(content)

    assert read.statement_ids == ["DEMO-2026-334"]
    assert [credit.amount for credit in read.credits] == [
        Decimal("287.00"),
        Decimal("117.30"),
        Decimal("234.00"),
        Decimal("150.00"),
    ]
    assert read.debit_count == 1
    assert [credit.remittance for credit in read.credits][:2] == [
        "Factuur 2026-00003 oktober",
        "2026-00002",
    ]


def test_the_invoice_list_export_has_the_payment_state_and_amounts(client, finance, invoice):
    record(invoice, finance, amount=Decimal("100.00"))
    client.force_login(finance)

    response = client.get(reverse("billing:invoice_list_export", args=["csv"]))

    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, row = text.splitlines()[:2]
    assert header.split(";")[-3:] == ["betaalstatus", "betaald", "openstaand"]
    assert row.split(";")[-3:] == ["Deels betaald", "100,00", "82,20"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_payment_pages_are_accessible_and_fit_narrow_screens(
    page, client, live_server, finance, two_invoices
):
    """The import's page with lines to match by hand, and an invoice with payments (its
    reversal form folded out), for axe-core and at 390 and 768 px."""
    from tests.system.test_accessibility import check_pages, log_in_by_cookie

    first, second = two_invoices
    record(first, finance, amount=Decimal("50.00"))
    statement_import = import_statement(
        finance,
        Entry("132.20", f"Factuur {first.number}", reference="X1"),
        Entry("60.00", f"Deel van {second.number}", reference="X2"),
        Entry("12.00", "Zonder kenmerk", reference="X3"),
    )
    log_in_by_cookie(page, client, live_server, finance)

    problems, _violations = check_pages(
        page,
        {
            "bank_import_list": reverse("billing:bank_import_list"),
            "bank_import_detail": reverse("billing:bank_import_detail", args=[statement_import.pk]),
            "invoice_detail": reverse("billing:invoice_detail", args=[first.pk]),
            "invoice_list": reverse("billing:invoice_list"),
        },
    )

    assert problems == []


def test_a_reversal_without_a_reason_is_refused_on_the_page_and_changes_nothing(
    client, finance, invoice
):
    payment = record(invoice, finance)
    client.force_login(finance)

    response = client.post(
        reverse("billing:invoice_detail", args=[invoice.pk]),
        {"form": "reverse", "reverse-payment": payment.pk, "reverse-reason": " "},
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert f'aria-describedby="reverse-reason-error-{payment.pk}"' in content
    assert Payment.objects.count() == 1


def test_reversing_a_payment_of_another_invoice_is_not_found(client, finance, two_invoices):
    first, second = two_invoices
    payment = record(first, finance)
    client.force_login(finance)

    response = client.post(
        reverse("billing:invoice_detail", args=[second.pk]),
        {"form": "reverse", "reverse-payment": payment.pk, "reverse-reason": "fout"},
    )

    assert response.status_code == 404
    assert Payment.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_statement_imported_twice_at_once_records_its_payment_once(invoice, finance):
    """The second import waits on the first one's lines (their unique key) and then either
    finds them imported or is told to try again; the invoice is paid once."""
    import threading

    content = statement(Entry("182.20", f"Factuur {invoice.number}", reference="T1"))
    barrier = threading.Barrier(2)
    outcomes = []

    def run():
        try:
            barrier.wait()
            outcomes.append(
                payments.bank_statement_import(by=finance, uploaded_file=upload(content))
            )
        except DomainError as error:
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Payment.objects.count() == 1
    assert BankStatementEntry.objects.count() == 1
    assert any(isinstance(o, BankStatementImport) and o.matched_count == 1 for o in outcomes)
