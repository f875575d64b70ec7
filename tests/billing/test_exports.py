"""Finance's invoice-line export (CSV): on PostgreSQL the database writes it (``COPY``), elsewhere
Python does, and the bytes are the same either way, for values a spreadsheet chokes on too; one
query whatever its length; the lines the list selects, no others; in the access log before a
byte is sent."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hap_contracting.audit.constants import AccessAction, AccessOutcome
from hap_contracting.audit.models import AccessLogEntry, AccessLogReference
from hap_contracting.billing import selectors
from hap_contracting.billing.constants import (
    OVERDUE,
    InvoiceKind,
    InvoiceState,
    NotificationChannel,
    PaymentState,
)
from hap_contracting.billing.exports import (
    INVESTIGATION_COLUMNS,
    INVOICE_COLUMNS,
    INVOICE_LINE_COLUMNS,
)
from hap_contracting.billing.models import Invoice, InvoiceLine
from hap_contracting.billing.selectors import InvestigationFilters, InvoiceFilters
from hap_contracting.core import spreadsheets
from hap_contracting.core.roles import Role
from tests.billing.factories import AddressInvestigationFactory, ClaimFactory, ClaimImportFactory
from tests.organisations.factories import CareLocationFactory, CareOrganisationFactory

pytestmark = pytest.mark.django_db

EXPORT = reverse("billing:invoice_export_csv")

# What a spreadsheet or a CSV writer trips over: the separator and quotes, line breaks inside a
# value, a formula's first characters, non-ASCII, backslashes, spaces at either end.
AWKWARD_NAMES = [
    'Huisartsen "De Linde"; Zwolle',
    "Zorggroep\nNoord",
    "Zorg\r\nOost",
    '=HYPERLINK("http://evil.example","klik")',
    "-Min",
    "+Plus",
    "@Apenstaartje",
    "\tTab vooraan",
    "\rTerug vooraan",
    "Ééntje ’s-Hertogenbosch — zorg ✓ 🏥",
    " spatie ervoor en erna ",
    "backslash \\ en \\N en \\.",
]


def month(months_ago: int) -> datetime.date:
    first = timezone.localdate().replace(day=1)
    for _ in range(months_ago):
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    return first


@pytest.fixture
def finance(staff):
    return staff[Role.FINANCE]


def charge(invoice: Invoice, location, amount: str, *, claim=None, tariff: str = "78.60"):
    claim = claim or ClaimFactory(location=location, claim_import=ClaimImportFactory())
    return InvoiceLine.objects.create(
        invoice=invoice,
        claim=claim,
        location=location,
        act=claim.act,
        care_on=claim.care_on,
        tariff=Decimal(tariff),
        amount=Decimal(amount),
        is_credit=Decimal(amount) < 0,
    )


@pytest.fixture
def awkward_lines(zwolle):
    """Per awkward name an organisation and a location of that name with: a draft (no number
    yet) of last month; a sent invoice of the month before, with a line of 0.00 and one of
    more than a million; and an approved credit note of it, its lines negative."""
    post = zwolle.posts.get()
    lines = []
    for i, name in enumerate(AWKWARD_NAMES):
        organisation = CareOrganisationFactory(name=name)
        location = CareLocationFactory(organisation=organisation, name=name, hap_post=post)
        draft = Invoice.objects.create(organisation=organisation, period=month(1))
        sent = Invoice.objects.create(
            organisation=organisation,
            period=month(2),
            state=InvoiceState.SENT,
            year=2026,
            sequence=2 * i + 1,
            number=f"2026-{2 * i + 1:05d}",
            total=Decimal("1234567.89"),
            due_date=month(1),
            approved_at=datetime.datetime(2026, 3, 31, 22, 30, tzinfo=datetime.UTC),
            sent_at=datetime.datetime(2026, 4, 1, 8, 0, tzinfo=datetime.UTC),
        )
        credit_note = Invoice.objects.create(
            organisation=organisation,
            period=month(2),
            kind=InvoiceKind.CREDIT_NOTE,
            state=InvoiceState.APPROVED,
            corrects=sent,
            year=2026,
            sequence=2 * i + 2,
            number=f"2026-{2 * i + 2:05d}",
            total=Decimal("-157.20"),
        )
        lines.append(charge(draft, location, "157.20"))
        charged = charge(sent, location, "0.00", tariff="0.05")
        lines.append(charged)
        lines.append(charge(sent, location, "1234567.89", tariff="617283.95"))
        lines.append(charge(credit_note, location, "-157.20", claim=charged.claim))
    return lines


def copied(queryset, columns=INVOICE_LINE_COLUMNS, **options) -> bytes:
    return b"".join(spreadsheets.csv_copied_bytes(queryset, columns, **options))


def written_by_python(queryset, columns=INVOICE_LINE_COLUMNS, **options) -> bytes:
    rows = spreadsheets.rows_of(queryset, columns)
    return b"".join(spreadsheets.csv_bytes(columns, rows, **options))


def records(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))


# --- The same bytes from PostgreSQL as from Python ------------------------------------------

FILTERS = {
    "all": InvoiceFilters(),
    "month": InvoiceFilters(month=month(2)),
    "state": InvoiceFilters(state=InvoiceState.SENT),
    "kind": InvoiceFilters(kind=InvoiceKind.CREDIT_NOTE),
    "search with quote, percent, underscore, backslash": InvoiceFilters(search="\"De'%_\\"),
    "search": InvoiceFilters(search="Zorg"),
    "payment": InvoiceFilters(payment_state=PaymentState.OPEN),
    "overdue": InvoiceFilters(payment_state=OVERDUE),
}


@pytest.mark.postgres
@pytest.mark.parametrize("filters", FILTERS.values(), ids=FILTERS.keys())
def test_postgresql_writes_the_invoice_lines_byte_for_byte_as_python_does(
    finance, awkward_lines, filters
):
    lines = selectors.export_lines(finance, filters)

    content = copied(lines)

    assert content == written_by_python(lines)
    assert content.startswith(spreadsheets.BYTE_ORDER_MARK.encode())
    assert len(records(content)) == 1 + lines.count()


@pytest.mark.postgres
def test_the_awkward_values_come_through_quoted_escaped_and_whole(finance, awkward_lines):
    content = copied(selectors.export_lines(finance))

    rows = records(content)
    assert len(rows) == 1 + len(awkward_lines)
    names = {row[3] for row in rows[1:]}
    assert names == {spreadsheets.escape_formula(name) for name in AWKWARD_NAMES}
    assert '\'=HYPERLINK("http://evil.example","klik")' in names
    assert "'-Min" in names and "'\rTerug vooraan" in names
    assert {row[11] for row in rows[1:]} == {"157,20", "0,00", "1234567,89", "-157,20"}
    assert {row[0] for row in rows[1:] if row[2] == "Concept"} == {""}
    # A line ends with CR LF; a line break inside a quoted value stays as it was (the
    # organisation and the location named "Zorg\r\nOost" are on four lines).
    assert content.count(b"\r\n") == len(rows) + 2 * 4
    assert b'"Zorggroep\nNoord"' in content
    for line in awkward_lines:
        assert line.claim.patient_reference not in content.decode("utf-8")


@pytest.mark.postgres
@pytest.mark.parametrize("dutch_dates", [False, True], ids=["iso", "dutch dates"])
def test_every_column_kind_is_written_alike_by_postgresql_and_python(
    finance, awkward_lines, zwolle, dutch_dates
):
    """The invoice list (moments written as Amsterdam days: approved 31 March 22:30 UTC is
    1 April; amounts computed in SQL; empty columns of invoices without a corrected invoice or
    a payment state) and the address investigations (numbers, empty dates and locations)."""
    AddressInvestigationFactory(post=zwolle.posts.get(), house_number_addition='A;"b"')
    AddressInvestigationFactory(
        post=zwolle.posts.get(),
        location=awkward_lines[0].location,
        notified_on=month(1),
        notified_how=NotificationChannel.choices[0][0],
    )
    invoices = selectors.invoice_list(finance)
    investigations = selectors.investigation_list(finance, InvestigationFilters())

    for queryset, columns in ((invoices, INVOICE_COLUMNS), (investigations, INVESTIGATION_COLUMNS)):
        content = copied(queryset, columns, dutch_dates=dutch_dates)
        assert content == written_by_python(queryset, columns, dutch_dates=dutch_dates)
        assert len(records(content)) == 1 + queryset.count()
    approved = records(copied(invoices, INVOICE_COLUMNS, dutch_dates=dutch_dates))
    assert ("01-04-2026" if dutch_dates else "2026-04-01") in {row[10] for row in approved}


@pytest.mark.postgres
def test_a_value_without_a_label_is_written_as_it_is_by_both(finance, awkward_lines):
    columns = (
        spreadsheets.Column("invoice__state", "state", spreadsheets.LABEL, {"draft": "Concept"}),
        spreadsheets.Column("invoice__kind", "kind", spreadsheets.LABEL),
    )
    lines = selectors.export_lines(finance)

    content = copied(lines, columns)

    assert content == written_by_python(lines, columns)
    assert {tuple(row) for row in records(content)[1:]} == {
        ("Concept", "invoice"),
        ("sent", "invoice"),
        ("approved", "credit_note"),
    }


@pytest.mark.postgres
def test_an_export_of_nothing_visible_is_the_header_alone(make_user, awkward_lines, zwolle):
    regional = make_user(Role.FINANCE, region=zwolle)  # finance bound to a region bills nothing
    lines = selectors.export_lines(regional)

    assert (
        copied(lines)
        == written_by_python(lines)
        == spreadsheets._csv_header(INVOICE_LINE_COLUMNS).encode("utf-8")
    )


@pytest.mark.postgres
def test_the_download_is_one_copy_on_postgresql(client, finance, awkward_lines):
    client.force_login(finance)

    with CaptureQueriesContext(connection) as queries:
        content = b"".join(client.get(EXPORT, {"state": "sent"}).streaming_content)

    copies = [q["sql"] for q in queries if q["sql"].startswith("COPY (")]
    assert len(copies) == 1
    assert "DECLARE" not in " ".join(q["sql"] for q in queries)  # no server-side cursor
    lines = selectors.export_lines(finance, InvoiceFilters(state=InvoiceState.SENT))
    assert content == written_by_python(lines)


@pytest.mark.postgres
def test_a_server_that_writes_dates_otherwise_gets_the_python_writer(finance, awkward_lines):
    """COPY writes dates as the server's ``DateStyle`` says; only ISO is the export's."""
    lines = selectors.export_lines(finance)
    expected = written_by_python(lines)
    with connection.cursor() as cursor:
        cursor.execute("SET DateStyle TO German")  # undone with the test's transaction

    with CaptureQueriesContext(connection) as queries:
        content = b"".join(spreadsheets.csv_stream(lines, INVOICE_LINE_COLUMNS))

    assert content == expected
    assert not any(q["sql"].startswith("COPY") for q in queries)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_download_broken_off_leaves_the_connection_usable(finance, awkward_lines):
    """A browser that goes away mid-download closes the stream inside COPY: the connection,
    kept for the next request (``CONN_MAX_AGE``), must not be left in the middle of it."""
    stream = spreadsheets.csv_copied_bytes(
        selectors.export_lines(finance), INVOICE_LINE_COLUMNS, rows_per_chunk=1
    )
    next(stream)  # the header
    next(stream)  # the first line

    stream.close()

    assert InvoiceLine.objects.count() == len(awkward_lines)


# --- One query, whatever the length ------------------------------------------------------------

# Login (session, user, roles), the access log (the count of patients; in a savepoint the first
# of them, their digest, the entry and every one of them) and the lines.
EXPORT_QUERIES = 11


@pytest.mark.parametrize("n_lines", [1, 30])
def test_the_export_runs_as_many_queries_for_one_line_as_for_many(
    client, finance, location, django_assert_max_num_queries, n_lines
):
    invoice = Invoice.objects.create(organisation=location.organisation, period=month(1))
    for _ in range(n_lines):
        charge(invoice, location, "157.20")
    client.force_login(finance)

    with django_assert_max_num_queries(EXPORT_QUERIES):
        content = b"".join(client.get(EXPORT).streaming_content)

    assert len(records(content)) == 1 + n_lines


# --- The lines the list selects, in the access log -----------------------------------------------


def test_the_export_holds_the_lines_of_the_invoices_the_list_shows_with_the_same_filters(
    client, finance, awkward_lines
):
    client.force_login(finance)
    query = {"month": f"{month(2):%Y-%m}", "kind": InvoiceKind.INVOICE}

    listed = client.get(reverse("billing:invoice_list"), query).context["page"].object_list
    rows = records(b"".join(client.get(EXPORT, query).streaming_content))

    numbers = {invoice.number for invoice in listed}
    assert {row[0] for row in rows[1:]} == numbers
    expected = [line for line in awkward_lines if line.invoice.number in numbers]
    assert sorted(row[5] for row in rows[1:]) == sorted(line.claim.reference for line in expected)


def test_the_export_is_logged_with_every_patient_before_anything_is_sent(
    client, finance, awkward_lines
):
    client.force_login(finance)

    response = client.get(EXPORT, {"state": "sent"})  # not read yet

    entry = AccessLogEntry.objects.get(action=AccessAction.EXPORT)
    assert entry.user == finance
    assert "CSV" in entry.what and "state=sent" in entry.what
    sent = {
        line.claim.patient_reference
        for line in awkward_lines
        if line.invoice.state == InvoiceState.SENT
    }
    assert (
        set(
            AccessLogReference.objects.filter(entry=entry).values_list(
                "patient_reference", flat=True
            )
        )
        == sent
    )
    assert len(records(b"".join(response.streaming_content))) == 1 + 2 * len(AWKWARD_NAMES)


def test_finance_bound_to_a_region_gets_no_export_and_nothing_is_exported_in_the_log(
    client, make_user, awkward_lines, zwolle
):
    client.force_login(make_user(Role.FINANCE, region=zwolle))

    assert client.get(EXPORT).status_code == 403
    assert not AccessLogEntry.objects.filter(action=AccessAction.EXPORT).exists()
    assert AccessLogEntry.objects.get().outcome == AccessOutcome.REFUSED
