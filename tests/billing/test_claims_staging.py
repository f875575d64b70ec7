"""The two ways an import stages its lines (``billing.services.claims_staging``) store the same:
PostgreSQL's COPY into a temporary table, which the import uses on PostgreSQL, and model rows,
which the demo's SQLite uses. The same files go through both on PostgreSQL; what they store and
report must be identical. And the COPY path keeps its promises: a number of statements that does
not grow with the lines, a bad last line that stores nothing and loses nothing stored before,
and no BSN in clear, not even in the staging table."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hap_contracting.billing.constants import ClaimImportStatus
from hap_contracting.billing.models import (
    AddressInvestigation,
    Claim,
    ClaimImport,
    ClaimImportError,
    ClaimStagingLine,
)
from hap_contracting.billing.services import claims_staging
from hap_contracting.billing.services.claims_import import claim_import_create, claim_import_run
from hap_contracting.core.roles import Role
from hap_contracting.core.validators import bsn_hash
from hap_contracting.tariffs.models import Act
from tests.billing.factories import ClaimFactory
from tests.organisations.factories import CareLocationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

HEADER = (
    "datum_tijd;huisartsenpost;verrichting;patientreferentie;bsn;postcode;huisnummer;toevoeging;"
    "redencode"
)
CLAIM_FIELDS = (
    "line_number",
    "care_at",
    "care_on",
    "post_id",
    "act_id",
    "patient_reference",
    "bsn_hash",
    "postcode",
    "house_number",
    "house_number_addition",
    "reason_code",
    "location_id",
    "duplicate_of_id",
)


@pytest.fixture
def finance(make_user):
    return make_user(Role.FINANCE)


@pytest.fixture
def location(zwolle):
    """A location of a known organisation at 8011 AB 12 A."""
    return CareLocationFactory(
        hap_post=zwolle.posts.get(), postcode="8011 AB", house_number=12, house_number_addition="a"
    )


def row(
    when="2026-10-05 23:15",
    post="HAP Zwolle",
    act="VISITE",
    patient="ZK-1",
    bsn="",
    postcode="8011 AB",
    number="12",
    addition="A",
    reason="WLZ-BEH",
):
    return ";".join([when, post, act, patient, bsn, postcode, number, addition, reason])


def run(finance, content: bytes, *, by_copy: bool, name="claims.csv") -> ClaimImport:
    claim_import = claim_import_create(by=finance, uploaded_file=SimpleUploadedFile(name, content))
    return claim_import_run(claim_import.pk, staged_by_copy=by_copy)


def outcome(result: ClaimImport, investigations_before: set[int]) -> dict:
    """Everything an import stored and reported, without its own ids."""
    result.refresh_from_db()
    return {
        "status": result.status,
        "message": result.message,
        "lines": (result.total_lines, result.processed_lines, result.imported_count),
        "error_count": result.error_count,
        "ignored_columns": result.ignored_columns,
        "errors": list(
            ClaimImportError.objects.filter(claim_import=result)
            .order_by("line_number", "pk")
            .values_list("line_number", "column", "reason")
        ),
        "claims": list(
            Claim.objects.filter(claim_import=result)
            .order_by("line_number")
            .values_list(*CLAIM_FIELDS)
        ),
        "investigations": sorted(
            AddressInvestigation.objects.exclude(pk__in=investigations_before).values_list(
                "post_id", "postcode", "house_number", "house_number_addition", "location_id"
            )
        ),
        "staged_lines": ClaimStagingLine.objects.count(),
    }


def forget(result: ClaimImport, investigations_before: set[int]) -> None:
    """Undo an import, so that the same file can be imported again the other way."""
    Claim.objects.filter(claim_import=result).delete()
    AddressInvestigation.objects.exclude(pk__in=investigations_before).delete()
    ClaimImportError.objects.filter(claim_import=result).delete()
    result.delete()


def both_ways(finance, content: bytes, name="claims.csv") -> tuple[dict, dict]:
    found = {}
    for by_copy in (True, False):
        before = set(AddressInvestigation.objects.values_list("pk", flat=True))
        result = run(finance, content, by_copy=by_copy, name=name)
        found[by_copy] = outcome(result, before)
        forget(result, before)
    return found[True], found[False]


def staging_table_exists() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [claims_staging.STAGING_TABLE])
        return cursor.fetchone()[0] is not None


# --- The same outcome both ways ----------------------------------------------------------------

FUTURE = (timezone.localdate() + datetime.timedelta(days=3)).strftime("%d-%m-%Y") + " 10:00"
EVERY_RULE = [
    row(patient="ZK-1"),
    row(patient="ZK-\x002"),
    row(patient="ZK-" + "3" * 38),
    row(patient="ZK-4", reason="R" * 21),
    row(patient="ZK-5", post="P" * 1001),
    row(patient="ZK-6", when="gisteren"),
    row(patient="ZK-7", when="31-02-2026 10:00"),
    row(patient="ZK-8", when=FUTURE),
    row(patient="ZK-9", post="HAP Nergens"),
    row(patient="ZK-10", act="MASSAGE"),
    row(patient="  "),
    row(patient="111 222 333"),
    row(patient="ZK-13", bsn="111222334"),
    row(patient="ZK-14", bsn="111.222.333"),
    row(patient="ZK-15", postcode="8011 SA"),
    row(patient="ZK-16", number="0"),
    row(patient="ZK-17", addition="ABCDEFG"),
    row(patient="ZK-18", reason=" "),
    row(patient="", when="morgen", act="?", postcode="?", number="?", addition="?!", reason=""),
    row(patient="ZK-1"),
    "",
    ";".join(row(patient="ZK-22").split(";")[:7]),
    '"2026-10-05 23:16";HAP Zwolle;VISITE;"ZK-\n23";;8011 AB;12;A;WLZ-BEH',
    row(patient="ZK-24", when="2026-13-01 10:00"),
    row(patient="ZK-14", bsn="111.222.333"),
]


@pytest.mark.parametrize(
    ("case", "lines"),
    [
        ("every rule, and duplicates after the bad lines", EVERY_RULE),
        (
            "unreadable at the end",
            [row(), row(patient="ZK-2", when="x"), '"2026;HAP;' + "x" * 5000],
        ),
        ("only the header", []),
        ("a column missing", None),
        ("extra columns", [row() + ";opmerking", row(patient="ZK-2", number="x") + ";x"]),
    ],
)
def test_a_bad_file_gets_the_same_errors_both_ways(finance, location, case, lines):
    if lines is None:
        content = b"datum_tijd;verrichting\n2026-10-05 23:15;VISITE\n"
    else:
        header = HEADER + (";opmerking" if case == "extra columns" else "")
        content = "\n".join([header, *lines, ""]).encode()

    by_copy, by_model_rows = both_ways(finance, content)

    assert by_copy["status"] == ClaimImportStatus.REJECTED
    assert by_copy["errors"]
    assert by_copy == by_model_rows


def test_every_rule_is_reported_at_its_line_and_column(finance, location):
    """The cases above do reach every rule, each at the line and column it names."""
    content = "\n".join([HEADER, *EVERY_RULE, ""]).encode()

    result = run(finance, content, by_copy=True)

    errors = [(line, column) for line, column, _reason in outcome(result, set())["errors"]]
    assert errors == [
        (3, "patientreferentie"),
        (4, "patientreferentie"),
        (5, "redencode"),
        (6, "huisartsenpost"),
        (7, "datum_tijd"),
        (8, "datum_tijd"),
        (9, "datum_tijd"),
        (10, "huisartsenpost"),
        (11, "verrichting"),
        (12, "patientreferentie"),
        (13, "patientreferentie"),
        (14, "bsn"),
        (16, "postcode"),
        (17, "huisnummer"),
        (18, "toevoeging"),
        (19, "redencode"),
        (20, "datum_tijd"),
        (20, "verrichting"),
        (20, "patientreferentie"),
        (20, "postcode"),
        (20, "huisnummer"),
        (20, "toevoeging"),
        (20, "redencode"),
        (21, "patientreferentie"),  # repeats line 2
        (23, "redencode"),  # a short line: the cells it lacks are empty
        (26, "datum_tijd"),
        (27, "patientreferentie"),  # repeats line 15, after the bad lines
    ]


def test_a_clean_file_is_stored_the_same_both_ways(finance, zwolle, flevoland, location):
    unorganised = CareLocationFactory(
        hap_post=zwolle.posts.get(), postcode="8011 CD", house_number=3, organisation=None
    )
    earlier = ClaimFactory(
        location=location,
        post=zwolle.posts.get(),
        act=Act.objects.get(code="CONSULT"),
        patient_reference="ZK-OLD",
        care_at=timezone.make_aware(datetime.datetime(2026, 9, 1, 10, 0)),
        care_on=datetime.date(2026, 9, 1),
    )
    lines = [
        row(patient="ZK-1", bsn="111.222.333"),
        row(patient="ZK-2", when="05-10-2026 8:05:30", act="consult", addition="a"),
        row(patient="ZK-3", when="46300.96875", postcode="8012 CD", number="7", addition=""),
        row(patient="ZK-4", when="2026-10-31T23:30:00+00:00", post="Almere", postcode="8012 CD"),
        row(patient="ZK-5", postcode="8011 CD", number="3", addition="", reason="ANDERS"),
        row(patient="ZK-OLD", when="01-09-2026 10:00", act="CONSULT"),
        row(patient="ZK-7", when="2026-10-25 02:30"),
        row(patient="ZK-8", post="hap almere", postcode="1234 AB", number="1", addition=""),
    ]
    content = "\n".join([HEADER, *lines]).encode()

    by_copy, by_model_rows = both_ways(finance, content)

    assert by_copy["status"] == ClaimImportStatus.IMPORTED, by_copy["errors"]
    assert len(by_copy["claims"]) == len(lines)
    assert {claim[-2] for claim in by_copy["claims"]} == {location.pk, unorganised.pk, None}
    assert by_copy["claims"][5][-1] == earlier.pk  # a repeat of the earlier claim
    assert len(by_copy["investigations"]) == 4
    assert by_copy == by_model_rows


# --- What the COPY path promises ----------------------------------------------------------------


def lines_file(count: int, *, bad_last=False) -> bytes:
    lines = [
        row(patient=f"ZK-{n}", when=f"2026-10-05 {n // 60 % 24:02d}:{n % 60:02d}")
        for n in range(count)
    ]
    lines += [row(patient=f"ZK-{n}", postcode="8012 CD") for n in range(count, 2 * count)]
    if bad_last:
        lines[-1] = row(patient="ZK-last", postcode="1234 XYZ")
    return "\n".join([HEADER, *lines]).encode()


def test_the_statements_of_an_import_do_not_grow_with_its_lines(
    finance, location, django_assert_max_num_queries
):
    small = claim_import_create(
        by=finance, uploaded_file=SimpleUploadedFile("a.csv", lines_file(5))
    )
    with CaptureQueriesContext(connection) as queries:
        assert claim_import_run(small.pk).status == ClaimImportStatus.IMPORTED
    large = claim_import_create(
        by=finance, uploaded_file=SimpleUploadedFile("b.csv", lines_file(1500))
    )

    with django_assert_max_num_queries(len(queries)):
        result = claim_import_run(large.pk)

    assert result.status == ClaimImportStatus.IMPORTED
    assert result.imported_count == 3000


def test_a_bad_last_line_stores_nothing_and_loses_nothing_stored_before(finance, location):
    before = run(finance, lines_file(3), by_copy=True, name="eerder.csv")
    stored = list(Claim.objects.order_by("pk").values_list(*CLAIM_FIELDS))
    investigations = list(AddressInvestigation.objects.values_list("pk", "postcode"))

    result = run(finance, lines_file(800, bad_last=True), by_copy=True)

    assert before.status == ClaimImportStatus.IMPORTED
    assert result.status == ClaimImportStatus.REJECTED
    assert list(
        ClaimImportError.objects.filter(claim_import=result).values_list("line_number", "column")
    ) == [(1601, "postcode")]
    assert not Claim.objects.filter(claim_import=result).exists()
    assert list(Claim.objects.order_by("pk").values_list(*CLAIM_FIELDS)) == stored
    assert list(AddressInvestigation.objects.values_list("pk", "postcode")) == investigations
    assert not ClaimStagingLine.objects.exists()
    assert not staging_table_exists()


def test_no_bsn_is_in_clear_in_the_staging_table(finance, location, monkeypatch):
    """A BSN is hashed before it is staged; a patient reference that is one is not staged."""
    staged = []
    find_duplicates = claims_staging.CopyStaging.find_duplicates

    def looking_at_the_staging_table(staging):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {claims_staging.STAGING_TABLE}")
            staged.extend(cursor.fetchall())
        return find_duplicates(staging)

    monkeypatch.setattr(claims_staging.CopyStaging, "find_duplicates", looking_at_the_staging_table)
    lines = [
        row(patient="ZK-1", bsn="111.222.333"),
        row(patient="ZK-2", bsn="１１１２２２３３３"),
        row(patient="ZK-3", bsn="111222334"),
        row(patient="BSN 123456782"),
    ]

    result = run(finance, "\n".join([HEADER, *lines]).encode(), by_copy=True)

    assert result.status == ClaimImportStatus.REJECTED
    assert len(staged) == 2  # the two good lines; the others' errors were kept aside
    errors = list(ClaimImportError.objects.filter(claim_import=result).values_list())
    assert len(errors) == 2
    text = repr(staged) + repr(errors)
    for clear in ("111222333", "111.222.333", "111222334", "123456782", "１１１"):
        assert clear not in text
    assert bsn_hash("111222333") in text


CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["", " ", "\x00", '"', "\n", "2026-10-05 23:15", "46300.5", "HAP Zwolle", "12", "8011 AB"]
    ),
    st.from_regex(r"[0-9]{8,10}", fullmatch=True),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=st.lists(
        st.lists(CELLS, min_size=9, max_size=9).map(lambda cells: ";".join(cells)), max_size=5
    ),
    good=st.lists(st.integers(min_value=1, max_value=3), max_size=3),
)
def test_any_file_gets_the_same_outcome_both_ways(finance, location, lines, good):
    content = "\n".join([HEADER, *lines, *(row(patient=f"ZK-{n}") for n in good)]).encode(
        "utf-8", errors="replace"
    )

    by_copy, by_model_rows = both_ways(finance, content)

    assert by_copy == by_model_rows


# --- The batches of the COPY path ---------------------------------------------------------------


def forty_lines() -> list[str]:
    """A header and forty good lines: eight batches, the sixth reading lines 32 to 36."""
    return lines_file(20).decode().split("\n")


@pytest.mark.parametrize(
    ("repeats", "repeated", "line"),
    [("batches apart", 4, 37), ("within a batch", 33, 35)],
)
def test_a_line_repeating_another_is_reported_the_same_both_ways(
    finance, location, repeats, repeated, line
):
    lines = forty_lines()
    lines[line - 1] = lines[repeated]

    by_copy, by_model_rows = both_ways(finance, "\n".join(lines).encode())

    assert by_copy["status"] == ClaimImportStatus.REJECTED
    assert by_copy["errors"] == [(line, "patientreferentie", claims_staging._duplicate_reason())]
    assert by_copy["claims"] == []
    assert by_copy == by_model_rows


def test_two_lines_repeating_one_claim_imported_before_repeat_each_other(finance, zwolle, location):
    lines = forty_lines()
    ClaimFactory(
        post=zwolle.posts.get(),
        act=Act.objects.get(code="VISITE"),
        patient_reference="ZK-3",
        care_at=timezone.make_aware(datetime.datetime(2026, 10, 5, 0, 3)),
        care_on=datetime.date(2026, 10, 5),
    )
    lines[36] = lines[4]  # line 37 repeats line 5, batches apart; both repeat the earlier claim

    by_copy, by_model_rows = both_ways(finance, "\n".join(lines).encode())

    assert by_copy["status"] == ClaimImportStatus.REJECTED
    assert by_copy["errors"] == [(37, "patientreferentie", claims_staging._duplicate_reason())]
    assert by_copy == by_model_rows


def test_a_repeat_only_suspected_while_reading_still_stores_the_whole_file(
    finance, location, monkeypatch
):
    """Two different claims of one batch whose hashes collide stop the copy into the claims
    table while the file is read; the file is clean, so the rest is moved at the end."""
    key_hash = claims_staging.claim_key_hash

    def colliding(post_id, act_id, care_at, reference):
        if reference in ("ZK-30", "ZK-31"):
            return 0
        return key_hash(post_id, act_id, care_at, reference)

    monkeypatch.setattr(claims_staging, "claim_key_hash", colliding)

    by_copy, by_model_rows = both_ways(finance, "\n".join(forty_lines()).encode())

    assert by_copy["status"] == ClaimImportStatus.IMPORTED
    assert len(by_copy["claims"]) == 40
    assert by_copy == by_model_rows


def test_a_failure_while_claims_are_copied_stores_nothing(finance, location, monkeypatch):
    move = claims_staging.CopyStaging._move
    batches = []

    def failing_at_the_third_batch(staging, *args):
        batches.append(args)
        if len(batches) == 3:
            raise RuntimeError("the disk is full")
        return move(staging, *args)

    monkeypatch.setattr(claims_staging.CopyStaging, "_move", failing_at_the_third_batch)

    result = run(finance, "\n".join(forty_lines()).encode(), by_copy=True)

    assert len(batches) == 3
    assert result.status == ClaimImportStatus.REJECTED
    assert not Claim.objects.filter(claim_import=result).exists()
    assert not AddressInvestigation.objects.exists()
    assert not staging_table_exists()


def test_one_import_at_a_time_makes_claims(finance, location, monkeypatch):
    """The claim a line repeats is looked up batch by batch: no other import may commit claims
    in between, so each holds a lock for its transaction."""
    held = []
    find_duplicates = claims_staging.CopyStaging.find_duplicates

    def looking_at_the_locks(staging):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND objid = %s AND pid = pg_backend_pid()",
                [claims_staging.MOVE_LOCK],
            )
            held.append(cursor.fetchone()[0])
        return find_duplicates(staging)

    monkeypatch.setattr(claims_staging.CopyStaging, "find_duplicates", looking_at_the_locks)

    result = run(finance, "\n".join(forty_lines()).encode(), by_copy=True)

    assert result.status == ClaimImportStatus.IMPORTED
    assert held == [1]


def test_a_failure_before_the_first_line_leaves_the_connection_usable(
    finance, location, monkeypatch
):
    def failing(staging):
        raise RuntimeError("no temporary tables here")

    monkeypatch.setattr(claims_staging.CopyStaging, "_begin", failing)
    transactions_open = list(connection.savepoint_ids)

    result = run(finance, "\n".join(forty_lines()).encode(), by_copy=True)

    assert result.status == ClaimImportStatus.REJECTED
    assert connection.savepoint_ids == transactions_open
    assert not Claim.objects.filter(claim_import=result).exists()
    assert ClaimImportError.objects.filter(claim_import=result).count() == 1
