"""Every file finance's Excel writes is read; every bad file gets a clear Dutch answer that names
the physical line and the column, and stores nothing."""

import csv
import datetime
import io
import zipfile

import pytest
from celery.exceptions import Retry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hap_contracting.billing import tasks as billing_tasks
from hap_contracting.billing.constants import ClaimImportStatus
from hap_contracting.billing.models import Claim, ClaimImportError
from hap_contracting.billing.services.claims_import import (
    bsn_hash,
    claim_import_create,
    claim_import_run,
)
from hap_contracting.core.limits import memory_ceiling
from tests.organisations.factories import CareLocationFactory

pytestmark = pytest.mark.django_db

HEADER = (
    "datum_tijd;huisartsenpost;verrichting;patientreferentie;bsn;postcode;huisnummer;toevoeging;"
    "redencode"
)
# Messages are for finance: never a Python exception's name.
EXCEPTION_NAMES = ("BadZipFile", "DataError", "Error", "Exception", "UnicodeDecodeError", "csv.")


@pytest.fixture
def finance(make_user):
    from hap_contracting.core.roles import Role

    return make_user(Role.FINANCE)


@pytest.fixture
def location(zwolle):
    return CareLocationFactory(
        hap_post=zwolle.posts.get(), postcode="8011 AB", house_number=12, house_number_addition="A"
    )


def row(when="2026-10-05 23:15", patient="ZK-1", bsn="", sep=";", addition="A"):
    return sep.join([when, "HAP Zwolle", "VISITE", patient, bsn, "8011 AB", "12", addition, "WLZ"])


def run(finance, content: bytes, name="claims.csv"):
    claim_import = claim_import_create(by=finance, uploaded_file=SimpleUploadedFile(name, content))
    return claim_import_run(claim_import.pk)


def errors_of(result) -> list[tuple[int, str, str]]:
    return list(
        ClaimImportError.objects.filter(claim_import=result).values_list(
            "line_number", "column", "reason"
        )
    )


def assert_rejected_without_claims(result):
    assert result.status == ClaimImportStatus.REJECTED
    assert not Claim.objects.filter(claim_import=result).exists()
    for _line, _column, reason in errors_of(result):
        assert not any(name in reason for name in EXCEPTION_NAMES), reason
    assert not any(name in result.message for name in EXCEPTION_NAMES), result.message


# --- What Excel writes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("cp1252", b""), ("utf-8", b""), ("utf-8", b"\xef\xbb\xbf")],
    ids=["windows-1252", "utf-8", "utf-8-with-bom"],
)
def test_a_semicolon_file_in_any_of_excels_encodings_is_read(finance, location, encoding, bom):
    header = HEADER.replace("patientreferentie", "Patiënt-referentie")
    content = bom + f"{header}\r\n{row(patient='ZK-é1')}\r\n".encode(encoding)

    result = run(finance, content)

    assert result.status == ClaimImportStatus.IMPORTED
    assert Claim.objects.get().patient_reference == "ZK-é1"


@pytest.mark.parametrize(
    "written", ["05-10-2026 23:15", "5-10-2026 23:15", "2026-10-05T23:15:00", "46300.96875"]
)
def test_dates_are_read_as_dutch_iso_or_excel_serial_numbers(finance, location, written):
    content = f"{HEADER}\n{row(when=written)}\n".encode()

    result = run(finance, content)

    assert result.status == ClaimImportStatus.IMPORTED, errors_of(result)
    care_at = timezone.localtime(Claim.objects.get().care_at)
    assert (care_at.date(), care_at.hour, care_at.minute) == (datetime.date(2026, 10, 5), 23, 15)


def test_an_excel_serial_number_in_an_xlsx_cell_is_a_date_and_time(finance, location):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(";"))
    sheet.append([46300.96875, "HAP Zwolle", "VISITE", "ZK-1", None, "8011 AB", 12, "A", "WLZ"])
    out = io.BytesIO()
    workbook.save(out)

    result = run(finance, out.getvalue(), name="claims.xlsx")

    assert result.status == ClaimImportStatus.IMPORTED, errors_of(result)
    assert timezone.localtime(Claim.objects.get().care_at).hour == 23


def test_a_tab_separated_file_is_read_and_another_separator_is_named(finance, location):
    tabbed = run(finance, f"{HEADER}\n{row()}\n".replace(";", "\t").encode())
    piped = run(finance, f"{HEADER}\n{row(patient='ZK-2')}\n".replace(";", "|").encode())

    assert tabbed.status == ClaimImportStatus.IMPORTED
    assert_rejected_without_claims(piped)
    assert "'|'" in piped.message and ";" in piped.message


# --- Every bad file gets a clear answer ------------------------------------------------------


def test_an_error_names_the_physical_line_after_a_field_with_a_line_break(finance, location):
    content = (
        f'{HEADER}\n{row()}\n"2026-10-05 23:16";HAP Zwolle;VISITE;"ZK-\n2";;8011 AB;12;A;WLZ\n'
        f"{row(patient='ZK-3', when='gisteren')}\n"
    ).encode()

    result = run(finance, content)

    assert_rejected_without_claims(result)
    assert [(line, column) for line, column, _reason in errors_of(result)] == [(5, "datum_tijd")]


def test_a_file_with_only_a_header_is_refused(finance):
    result = run(finance, f"{HEADER}\n".encode())

    assert_rejected_without_claims(result)
    assert "geen regels" in result.message


def test_a_column_named_twice_is_refused(finance):
    result = run(finance, f"{HEADER};postcode\n{row()};8011 AB\n".encode())

    assert_rejected_without_claims(result)
    assert errors_of(result)[0][:2] == (1, "postcode")
    assert "2" in errors_of(result)[0][2]


def test_extra_columns_are_listed_as_not_read_and_not_stored(finance, location, client):
    result = run(finance, f"{HEADER};opmerking;diagnose\n{row()};belt vaak;COPD\n".encode())

    assert result.status == ClaimImportStatus.IMPORTED
    assert result.ignored_columns == "opmerking, diagnose"
    client.force_login(finance)
    page = client.get(reverse("billing:claim_import_detail", args=[result.pk]))
    assert 'data-testid="ignored-columns"' in page.content.decode()


def test_a_nul_byte_and_an_over_long_field_are_refused_at_their_line(finance, location):
    with_nul = row(patient="ZK-\x002")
    too_long = row(patient="ZK-" + "9" * 1200)
    content = f"{HEADER}\n{row()}\n{with_nul}\n{too_long}\n".encode()

    result = run(finance, content)

    assert_rejected_without_claims(result)
    assert [(line, column) for line, column, _reason in errors_of(result)] == [
        (3, "patientreferentie"),
        (4, "patientreferentie"),
    ]


def test_a_nul_byte_in_an_extra_column_of_the_header_is_refused_at_line_1(finance, location):
    """Found by the property-based test on PostgreSQL, whose text cannot hold NUL."""
    content = f"{HEADER};opmerking\x00\n{row()}\n".encode()

    result = run(finance, content)

    assert_rejected_without_claims(result)
    assert [(line, column) for line, column, _reason in errors_of(result)] == [(1, "kolom 10")]


def test_a_quote_never_closed_is_refused_at_its_line(finance, location):
    content = (f'{HEADER}\n{row()}\n"2026-10-05 23:16;HAP Zwolle;' + "x" * 5000 + "\n").encode()

    result = run(finance, content)

    assert_rejected_without_claims(result)
    assert errors_of(result)[-1][0] == 3
    assert "Regel 3" in result.message


def test_a_file_that_is_not_an_xlsx_gets_a_dutch_answer(finance):
    result = run(finance, b"this is no spreadsheet", name="claims.xlsx")

    assert_rejected_without_claims(result)
    assert "XLSX" in result.message


def test_a_zip_bomb_is_refused_before_it_is_opened(finance):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (20 * 1024 * 1024))
    started = timezone.now()

    result = run(finance, out.getvalue(), name="claims.xlsx")

    assert_rejected_without_claims(result)
    assert "20 MB" in result.message
    assert (timezone.now() - started).total_seconds() < 5


def test_the_error_report_downloads_complete_beyond_what_the_page_shows(finance, location, client):
    lines = [row(patient=f"ZK-{n}", when="gisteren") for n in range(60)]
    result = run(finance, "\n".join([HEADER, *lines]).encode())
    client.force_login(finance)

    page = client.get(reverse("billing:claim_import_detail", args=[result.pk]))
    report = client.get(reverse("billing:claim_import_errors_csv", args=[result.pk]))

    assert len(page.context["page"].object_list) == 50
    text = b"".join(report.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(rows) == 1 + 60
    assert rows[1] == ["2", "datum_tijd", rows[1][2]]
    assert "gisteren" not in text  # the report names the line, never the value


# --- BSNs stay out -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reference",
    [
        "111-222-333",
        "BSN111222333",
        "１１１２２２３３３",
        "0111222333",
        "111.222.333",
        "ZK-111222333",
    ],
)
def test_a_patient_reference_that_holds_a_bsn_is_refused_however_written(
    finance, location, reference
):
    result = run(finance, f"{HEADER}\n{row(patient=reference)}\n".encode())

    assert_rejected_without_claims(result)
    assert errors_of(result)[0][:2] == (2, "patientreferentie")


def test_a_bsn_typed_with_dots_or_full_width_digits_is_kept_as_the_same_keyed_hash(
    finance, location
):
    content = (
        f"{HEADER}\n{row(bsn='111.222.333')}\n{row(patient='ZK-2', bsn='１１１２２２３３３')}\n"
    )

    result = run(finance, content.encode())

    assert result.status == ClaimImportStatus.IMPORTED
    assert set(Claim.objects.values_list("bsn_hash", flat=True)) == {bsn_hash("111222333")}


# --- Proof that keeps running -------------------------------------------------------------------

CELLS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "\x00", '"', '""', "\n", "2026-10-05 23:15", "HAP Zwolle", "12"]),
    st.from_regex(r"[0-9]{8,10}", fullmatch=True),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    header=st.permutations(HEADER.split(";")).map(list),
    rows=st.lists(st.lists(CELLS, min_size=0, max_size=11), max_size=6),
    encoding=st.sampled_from(["utf-8", "cp1252", "utf-16"]),
    garbage=st.binary(max_size=20),
)
def test_no_malformed_file_crashes_or_half_stores_and_every_error_names_line_and_column(
    finance, location, header, rows, encoding, garbage
):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(header)
    writer.writerows(rows)
    content = out.getvalue().encode(encoding, errors="replace") + garbage
    before = Claim.objects.count()

    result = run(finance, content)

    assert result.status in (ClaimImportStatus.IMPORTED, ClaimImportStatus.REJECTED)
    if result.status == ClaimImportStatus.REJECTED:
        assert_rejected_without_claims(result)
        assert Claim.objects.count() == before
        assert errors_of(result)
        for line, column, reason in errors_of(result):
            assert line >= 1 and column and reason


def test_the_memory_ceiling_turns_an_overrun_into_a_memory_error():
    with pytest.raises(MemoryError), memory_ceiling(64):
        bytearray(512 * 1024 * 1024)
    assert len(bytearray(128 * 1024 * 1024)) > 0  # the ceiling is lifted afterwards


def failing_import(monkeypatch, failure) -> list:
    attempts = []

    def failing_run(claim_import_id):
        attempts.append(claim_import_id)
        raise failure

    monkeypatch.setattr(billing_tasks, "claim_import_run", failing_run)
    return attempts


@pytest.mark.parametrize("failure", [MemoryError(), ValueError("bad file"), KeyError("x")])
def test_an_import_that_fails_for_another_reason_is_not_retried(monkeypatch, failure):
    attempts = failing_import(monkeypatch, failure)

    result = billing_tasks.import_claims.apply(args=[42], throw=False)

    assert (result.state, attempts) == ("FAILURE", [42])


def test_an_import_is_retried_when_the_database_went_away(monkeypatch):
    attempts = failing_import(monkeypatch, OperationalError("the database went away"))

    with pytest.raises(Retry):
        billing_tasks.import_claims.apply(args=[42], throw=False)

    assert len(attempts) > 1  # tried again
