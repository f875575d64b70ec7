"""Importing the insurer's refused claims (seed 004, 7.2 point 2), in constant memory.

Policy: **the whole file or nothing.** Lines are read one at a time (CSV or XLSX), checked field
by field and written to a staging table in batches (PostgreSQL ``COPY``); duplicates are then
found in SQL: a line repeating an earlier line of the file is an error, a line repeating a claim
imported before is imported as its duplicate (never billed). A file with any bad line stores
no claim at all; every bad line is reported with its line number, column and reason, and finance
uploads the corrected file. Only when the file is clean are the staged lines moved into the claims
table, in one transaction. Importing the same file, or the same claims, twice bills nothing twice.
Which reason codes are billed is finance's data (``BillableReasonCode``): a claim with another code
is imported, and the import's summary says it is not billed.

No patient data ends up in an error message or a log line: errors name the line and the column,
never the value. A BSN, when the file carries one, is checked with the 11-test and kept only as
a keyed hash (HMAC-SHA256 with ``BSN_HASH_KEY``); a patient reference that is a valid BSN is
refused. The uploaded file itself is deleted as soon as the import has finished, whatever its
outcome; its SHA-256 stays to refuse the same file twice.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hap_contracting.audit.constants import AccessAction
from hap_contracting.audit.services import access_log_record
from hap_contracting.core import spreadsheets
from hap_contracting.core.errors import DomainError
from hap_contracting.core.jobs import enqueue_on_commit
from hap_contracting.core.validators import (
    bsn_digits,
    bsn_hash,
    bsn_is_valid,
    looks_like_a_bsn,
    normalise_house_number,
    normalise_house_number_addition,
    normalise_postcode,
)
from hap_contracting.organisations.models import CareLocation, HapPost
from hap_contracting.organisations.selectors import post_ranges
from hap_contracting.tariffs.models import Act

from .. import rules as billing_rules
from ..constants import ClaimImportStatus
from ..models import (
    AddressInvestigation,
    Claim,
    ClaimImport,
    ClaimImportError,
    ClaimStagingLine,
)
from ..selectors import billable_reason_code
from .claims_file import (
    COLUMNS,
    HEADER_OF,
    MAX_FIELD_LENGTH,
    WHOLE_FILE,
    FileProblem,
    check_xlsx_archive,
    fold,
    parse_moment,
    read_header,
    records,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000
# A duplicate is the same patient reference with the same post, act and moment.
DUPLICATE_COLUMN = "patientreferentie"
PROGRESS_EVERY = 10_000
TEMPLATE_EXAMPLE = [
    "2026-11-01 23:15",
    "HAP Zwolle",
    "VISITE",
    "ZK-000123",
    "",
    "8011 AB",
    "12",
    "A",
    "WLZ-BEH",
]
COLUMN_LIMITS = {"patient_reference": 40, "reason_code": 20}


def template_csv() -> str:
    """The template finance downloads: the headers and one example line."""
    columns = [spreadsheets.Column(column.key, column.header) for column in COLUMNS]
    return spreadsheets.csv_text(columns, [TEMPLATE_EXAMPLE])


def _is_xlsx(claim_import: ClaimImport) -> bool:
    return claim_import.original_name.lower().endswith(".xlsx")


def _count_lines(claim_import: ClaimImport) -> int | None:
    """The number of lines after the header, for the progress bar: newlines counted in binary
    chunks (a fraction of a second for a million lines), or the sheet's dimension for XLSX.
    A line break inside a quoted CSV field makes it an estimate, which is all a bar needs."""
    claim_import.file.open("rb")
    try:
        if _is_xlsx(claim_import):
            from openpyxl import load_workbook

            check_xlsx_archive(claim_import.file)
            workbook = load_workbook(claim_import.file, read_only=True)
            try:
                rows = workbook.worksheets[0].max_row
            finally:
                workbook.close()
            return max(rows - 1, 0) if rows else None
        lines, last = 0, b"\n"
        while chunk := claim_import.file.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
        if last != b"\n":
            lines += 1
        return max(lines - 1, 0)
    finally:
        claim_import.file.close()


# --- Checking one line ----------------------------------------------------------------------


class _LineChecker:
    def __init__(self, now: datetime.datetime):
        self.now = now
        self.posts = {fold(post.name): post.pk for post in HapPost.objects.all()}
        self.posts.update({fold(post.city): post.pk for post in HapPost.objects.all()})
        self.acts = {act.code.upper(): act.pk for act in Act.objects.all()}
        self.zone = timezone.get_current_timezone()

    def check(self, values: dict[str, str]) -> tuple[dict, list[tuple[str, str]]]:
        errors: list[tuple[str, str]] = []
        for key, value in values.items():
            if "\x00" in value:
                errors.append((HEADER_OF[key], _("holds a NUL character")))
            elif len(value) > COLUMN_LIMITS.get(key, MAX_FIELD_LENGTH):
                errors.append(
                    (
                        HEADER_OF[key],
                        _("longer than %(max)s characters")
                        % {"max": COLUMN_LIMITS.get(key, MAX_FIELD_LENGTH)},
                    )
                )
        if errors:
            return {}, errors
        row: dict = {}
        care_at = parse_moment(values["care_at"], self.zone)
        if care_at is None:
            errors.append(
                (
                    "datum_tijd",
                    _("not a date and time like 2026-11-01 23:15 or 01-11-2026 23:15"),
                )
            )
        elif care_at > self.now:
            errors.append(("datum_tijd", _("the date lies in the future")))
        else:
            row["care_at"], row["care_on"] = care_at, care_at.date()
        post_id = self.posts.get(fold(values["post"]))
        if post_id is None:
            errors.append(("huisartsenpost", _("unknown post")))
        row["post_id"] = post_id
        act_id = self.acts.get(values["act"].strip().upper())
        if act_id is None:
            errors.append(("verrichting", _("unknown act code")))
        row["act_id"] = act_id
        reference = values["patient_reference"].strip()
        if not reference:
            errors.append(("patientreferentie", _("empty")))
        elif looks_like_a_bsn(reference):
            # No BSN is stored in clear: a reference that is one goes back to the sender.
            errors.append(
                (
                    "patientreferentie",
                    _("looks like a BSN; give the post's patient reference (a BSN goes in BSN)"),
                )
            )
        row["patient_reference"] = reference
        bsn = bsn_digits(values.get("bsn", ""))
        if bsn:
            if not bsn_is_valid(bsn):
                errors.append(("bsn", _("not a valid BSN (11-test)")))
            row["bsn_hash"] = bsn_hash(bsn)
        else:
            row["bsn_hash"] = ""
        try:
            row["postcode"] = normalise_postcode(values["postcode"])
        except ValidationError:
            errors.append(("postcode", _("not a Dutch postcode such as 8011 AB")))
        try:
            row["house_number"] = normalise_house_number(values["house_number"])
        except ValidationError:
            errors.append(("huisnummer", _("not a house number")))
        try:
            row["house_number_addition"] = normalise_house_number_addition(
                values.get("house_number_addition", "")
            )
        except ValidationError:
            errors.append(("toevoeging", _("not a house number addition")))
            row["house_number_addition"] = ""
        reason = values["reason_code"].strip()
        if not reason:
            errors.append(("redencode", _("empty")))
        row["reason_code"] = reason
        return row, errors


# --- The import -----------------------------------------------------------------------------


def claim_import_create(*, by, uploaded_file: UploadedFile) -> ClaimImport:
    """Finance uploads a file; the import itself runs as a task (``claim_import_run``)."""
    if not billing_rules.can_bill.test(by):
        raise DomainError(_("Only finance imports claims."))
    name = uploaded_file.name or ""
    if not name.lower().endswith((".csv", ".xlsx")):
        raise DomainError(_("Upload a CSV or XLSX file."), field="file")
    if uploaded_file.size > settings.CLAIM_IMPORT_MAX_BYTES:
        raise DomainError(
            _("The file is larger than %(megabytes)s MB.")
            % {"megabytes": settings.CLAIM_IMPORT_MAX_BYTES // (1024 * 1024)},
            field="file",
        )
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    sha256 = digest.hexdigest()
    earlier = ClaimImport.objects.filter(sha256=sha256, status=ClaimImportStatus.IMPORTED).first()
    if earlier is not None:
        raise DomainError(
            _("This file was imported already on %(date)s (%(name)s); nothing was billed twice.")
            % {"date": earlier.uploaded_at.strftime("%d-%m-%Y"), "name": earlier.original_name},
            field="file",
        )
    uploaded_file.seek(0)
    claim_import = ClaimImport(original_name=name[:255], sha256=sha256, uploaded_by=by)
    claim_import.file.save(name, uploaded_file, save=False)
    claim_import.save()
    access_log_record(
        user=by, action=AccessAction.IMPORT, what=_("claims file %(name)s") % {"name": name}
    )
    enqueue_on_commit("billing.import_claims", claim_import.pk)
    return claim_import


def _progress(claim_import: ClaimImport, **fields) -> None:
    ClaimImport.objects.filter(pk=claim_import.pk).update(**fields)


def claim_import_run(claim_import_id: int) -> ClaimImport:
    """Check the whole file, then store it whole or not at all. Safe to run again."""
    claim_import = ClaimImport.objects.get(pk=claim_import_id)
    if claim_import.status == ClaimImportStatus.IMPORTED:
        # A worker that died after the move left the matching undone; it is idempotent.
        claims_match_locations(claim_import_id=claim_import.pk)
        _delete_file(claim_import)
        return claim_import
    if claim_import.status == ClaimImportStatus.REJECTED:
        _delete_file(claim_import)
        return claim_import
    ClaimStagingLine.objects.filter(claim_import=claim_import).delete()
    ClaimImportError.objects.filter(claim_import=claim_import).delete()
    _progress(claim_import, status=ClaimImportStatus.RUNNING, processed_lines=0, error_count=0)
    try:
        _progress(claim_import, total_lines=_count_lines(claim_import))
        bad_lines, processed = _stage(claim_import)
        bad_lines += _find_duplicates(claim_import)
        if bad_lines:
            _reject(
                claim_import,
                ngettext(
                    "%(count)s line has errors; nothing was stored.",
                    "%(count)s lines have errors; nothing was stored.",
                    bad_lines,
                )
                % {"count": bad_lines},
                processed_lines=processed,
            )
        else:
            with transaction.atomic():
                imported, duplicates = _move_staged_claims(claim_import)
                message = ngettext(
                    "%(count)s claim imported.", "%(count)s claims imported.", imported
                ) % {"count": imported}
                if duplicates:
                    message += " " + ngettext(
                        "%(count)s of them repeats a claim imported before; it is not billed "
                        "again.",
                        "%(count)s of them repeat claims imported before; they are not billed "
                        "again.",
                        duplicates,
                    ) % {"count": duplicates}
                not_billable = (
                    Claim.objects.filter(claim_import=claim_import)
                    .exclude(Exists(billable_reason_code()))
                    .count()
                )
                if not_billable:
                    message += " " + ngettext(
                        "%(count)s has a reason code that is not billed (not on finance's list "
                        "of Wlz codes with treatment).",
                        "%(count)s have a reason code that is not billed (not on finance's list "
                        "of Wlz codes with treatment).",
                        not_billable,
                    ) % {"count": not_billable}
                _progress(
                    claim_import,
                    status=ClaimImportStatus.IMPORTED,
                    processed_lines=processed,
                    imported_count=imported,
                    finished_at=timezone.now(),
                    message=message,
                )
    except FileProblem as problem:
        _reject_whole_file(claim_import, problem.line, problem.column, problem.reason)
    except MemoryError:
        _reject_whole_file(
            claim_import,
            1,
            str(WHOLE_FILE),
            _("the file is too large to read; split it, or save it as CSV"),
        )
    except (OperationalError, InterfaceError):
        # The database went away: the task tries again (the import is safe to run again).
        raise
    except Exception as error:  # noqa: BLE001  (every other failure must end the import visibly)
        # Never the exception's text nor its name: it may quote a line of the file.
        logger.warning("claims import %s failed: %s", claim_import.pk, type(error).__name__)
        _reject_whole_file(
            claim_import,
            1,
            str(WHOLE_FILE),
            _(
                "the file could not be read; save it again as CSV (UTF-8) or XLSX from the "
                "template and upload it again"
            ),
        )
    claim_import.refresh_from_db()
    if claim_import.status == ClaimImportStatus.IMPORTED:
        # Outside the try above: the claims are stored whatever happens here. Should matching
        # fail, the import stays imported and running it again matches (it is idempotent).
        claims_match_locations(claim_import_id=claim_import.pk)
    _delete_file(claim_import)
    logger.info(
        "claims import %s: %s, %s lines, %s errors",
        claim_import.pk,
        claim_import.status,
        claim_import.processed_lines,
        claim_import.error_count,
    )
    return claim_import


def _reject(claim_import: ClaimImport, message: str, **fields) -> None:
    ClaimStagingLine.objects.filter(claim_import=claim_import).delete()
    _progress(
        claim_import,
        status=ClaimImportStatus.REJECTED,
        error_count=ClaimImportError.objects.filter(claim_import=claim_import).count(),
        finished_at=timezone.now(),
        message=message,
        **fields,
    )


def _reject_whole_file(claim_import: ClaimImport, line: int, column: str, reason: str) -> None:
    """A problem that stops the reading: it is the report's last error, at its line."""
    ClaimImportError.objects.create(
        claim_import=claim_import, line_number=line, column=column[:40], reason=reason[:300]
    )
    _reject(
        claim_import,
        _("Line %(line)s, %(column)s: %(reason)s. Nothing was stored.")
        % {"line": line, "column": column, "reason": reason},
    )


def _delete_file(claim_import: ClaimImport) -> None:
    """The file is not kept once it has been read, imported or rejected: it holds patient
    references and perhaps BSNs in clear. What was imported is in the claims (the BSN only as a
    keyed hash); the hash of the file still refuses a second upload."""
    if claim_import.file:
        claim_import.file.delete(save=True)


def _stage(claim_import: ClaimImport) -> tuple[int, int]:
    """Read and check every line; stage the good ones while none is bad. Returns the number of
    bad lines and of lines read. Every error is stored (in batches), however many."""
    claim_import.file.open("rb")
    try:
        return _stage_records(claim_import, records(claim_import.file, xlsx=_is_xlsx(claim_import)))
    finally:
        claim_import.file.close()


def _stage_records(claim_import: ClaimImport, rows) -> tuple[int, int]:
    _start, header_cells = next(rows)
    header = read_header(header_cells)
    if header.ignored:
        _progress(claim_import, ignored_columns=", ".join(header.ignored)[:500])
    positions = header.positions
    checker = _LineChecker(timezone.now())
    batch: list[tuple] = []  # rows in STAGING_COLUMNS order
    errors: list[ClaimImportError] = []
    bad_lines = processed = 0
    for line_number, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        values = {
            key: (cells[index] if index < len(cells) else "") for key, index in positions.items()
        }
        row, line_errors = checker.check(values)
        processed += 1
        if line_errors:
            bad_lines += 1
            errors += [
                ClaimImportError(
                    claim_import=claim_import, line_number=line_number, column=column, reason=reason
                )
                for column, reason in line_errors
            ]
        elif not bad_lines:
            # Once a line is bad nothing will be stored; the rest is only checked.
            batch.append(
                (claim_import.pk, line_number, *(row[column] for column in STAGING_COLUMNS[2:]))
            )
        if len(batch) >= BATCH_SIZE:
            _write_staging(batch)
            batch = []
        if len(errors) >= 1000:
            ClaimImportError.objects.bulk_create(errors)
            errors = []
        if processed % PROGRESS_EVERY == 0:
            _progress(claim_import, processed_lines=processed, error_count=bad_lines)
    ClaimImportError.objects.bulk_create(errors)
    if not processed:
        raise FileProblem(2, WHOLE_FILE, _("the file has no lines under the header (geen regels)"))
    if batch and not bad_lines:
        _write_staging(batch)
    _progress(claim_import, processed_lines=processed, error_count=bad_lines)
    return bad_lines, processed


STAGING_COLUMNS = (
    "claim_import_id",
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
)


def _write_staging(batch: list[tuple]) -> None:
    if connection.vendor != "postgresql":
        ClaimStagingLine.objects.bulk_create(
            ClaimStagingLine(**dict(zip(STAGING_COLUMNS, row, strict=True))) for row in batch
        )
        return
    table = ClaimStagingLine._meta.db_table
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3's own cursor: COPY streams the batch in one statement
        with raw.copy(f"COPY {table} ({', '.join(STAGING_COLUMNS)}) FROM STDIN") as copy:
            for row in batch:
                copy.write_row(row)


def _find_duplicates(claim_import: ClaimImport) -> int:
    """Lines repeating an earlier line of the file are errors, written to the error report in one
    statement (a file may repeat every one of its million lines); returns how many. A line
    repeating a claim imported before is no error: it is imported as a duplicate of that claim
    (``Claim.duplicate_of``), counted in the import's summary and never billed, so an insurer's
    file that repeats last month's claims with new ones is imported as it is."""
    staging = ClaimStagingLine._meta.db_table
    errors = ClaimImportError._meta.db_table
    within = _("duplicate of an earlier line of this file")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH ranked AS (
                SELECT line_number, ROW_NUMBER() OVER (
                           PARTITION BY post_id, act_id, care_at, patient_reference
                           ORDER BY line_number
                       ) AS position
                FROM {staging} WHERE claim_import_id = %s
            )
            INSERT INTO {errors} (claim_import_id, line_number, "column", reason)
            SELECT %s, line_number, %s, %s FROM ranked WHERE position > 1
            """,  # noqa: S608 (table names from the models, no user input)
            [claim_import.pk, claim_import.pk, DUPLICATE_COLUMN, within],
        )
    # Not the cursor's rowcount: SQLite does not count the rows of an INSERT that starts WITH.
    count = ClaimImportError.objects.filter(
        claim_import=claim_import, column=DUPLICATE_COLUMN
    ).count()
    if not count:
        earlier = Claim.objects.filter(
            post_id=OuterRef("post_id"),
            act_id=OuterRef("act_id"),
            care_at=OuterRef("care_at"),
            patient_reference=OuterRef("patient_reference"),
            duplicate_of__isnull=True,
        ).values("pk")[:1]
        ClaimStagingLine.objects.filter(claim_import=claim_import).update(
            duplicate_of=Subquery(earlier)
        )
    return count


def _move_staged_claims(claim_import: ClaimImport) -> tuple[int, int]:
    """(claims imported, of which duplicates of claims imported before)."""
    columns = ", ".join((*STAGING_COLUMNS, "duplicate_of_id"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Claim._meta.db_table} ({columns}) "
            f"SELECT {columns} FROM {ClaimStagingLine._meta.db_table} WHERE claim_import_id = %s",
            [claim_import.pk],
        )
        imported = cursor.rowcount
        cursor.execute(
            f"DELETE FROM {ClaimStagingLine._meta.db_table} WHERE claim_import_id = %s",
            [claim_import.pk],
        )
    duplicates = Claim.objects.filter(claim_import=claim_import, duplicate_of__isnull=False).count()
    return imported, duplicates


# --- Matching claims to locations -----------------------------------------------------------


def claims_match_locations(*, claim_import_id: int | None = None) -> int:
    """Match unmatched claims to care locations by normalised address; open an investigation
    for every address that is not a location of a known organisation (seed 004, 7.2). Returns
    the number of addresses under investigation."""
    unmatched = Claim.objects.filter(location__isnull=True)
    if claim_import_id is not None:
        unmatched = unmatched.filter(claim_import_id=claim_import_id)
    same_address = (
        CareLocation.objects.annotate(addition=Upper("house_number_addition"))
        .filter(
            postcode=OuterRef("postcode"),
            house_number=OuterRef("house_number"),
            addition=OuterRef("house_number_addition"),
        )
        .values("pk")[:1]
    )
    with transaction.atomic():
        unmatched.update(location=Subquery(same_address))
        unknown = Claim.objects.filter(location__isnull=True) | Claim.objects.filter(
            location__organisation__isnull=True
        )
        if claim_import_id is not None:
            unknown = unknown.filter(claim_import_id=claim_import_id)
        # order_by(): the model's ordering would otherwise make every claim its own "distinct" row.
        addresses = (
            unknown.order_by()
            .values("post_id", "postcode", "house_number", "house_number_addition", "location_id")
            .distinct()
        )
        # The investigation belongs to the post whose area holds the address, not to whichever
        # post happened to give the care: that post's location manager can find the location.
        ranges = post_ranges()

        def post_of(row) -> int:
            number = int(row["postcode"][:4])
            for first, last, post_id in ranges:
                if first <= number <= last:
                    return post_id
            return row["post_id"]

        today = timezone.localdate()
        investigations = (
            AddressInvestigation(
                post_id=post_of(row),
                postcode=row["postcode"],
                house_number=row["house_number"],
                house_number_addition=row["house_number_addition"],
                location_id=row["location_id"],
                opened_on=today,
            )
            for row in addresses.iterator(chunk_size=2000)
        )
        # In batches, so that memory stays flat however many addresses are unknown.
        while batch := list(itertools.islice(investigations, 2000)):
            AddressInvestigation.objects.bulk_create(batch, ignore_conflicts=True)
    return addresses.count()


__all__ = [
    "COLUMNS",
    "bsn_is_valid",
    "claim_import_create",
    "claim_import_run",
    "claims_match_locations",
    "template_csv",
]
