"""Importing the insurer's refused claims (seed 004, 7.2 point 2), in constant memory.

Policy: **the whole file or nothing.** Lines are read one at a time (CSV or XLSX), checked field
by field and written to a staging table in batches (PostgreSQL ``COPY``); duplicates — within the
file and against claims imported before — are then found in SQL. A file with any bad line stores
no claim at all; every bad line is reported with its line number, column and reason, and finance
uploads the corrected file. Only when the file is clean are the staged lines moved into the claims
table, in one transaction. Importing the same file, or the same claims, twice bills nothing twice.

No patient data ends up in an error message or a log line: errors name the line and the column,
never the value. A BSN, when the file carries one, is checked with the 11-test and kept only as
a keyed hash (HMAC-SHA256 with ``BSN_HASH_KEY``); a patient reference that is a valid BSN is
refused. The uploaded file itself is deleted as soon as the import has finished, whatever its
outcome; its SHA-256 stays to refuse the same file twice.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import hmac
import io
import itertools
import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext as _

from hap_contracting.audit.constants import AccessAction
from hap_contracting.audit.services import access_log_record
from hap_contracting.core import spreadsheets
from hap_contracting.core.errors import DomainError
from hap_contracting.core.jobs import enqueue_on_commit
from hap_contracting.core.validators import (
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

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000
MAX_STORED_ERRORS = 10_000
# A duplicate is the same patient reference with the same post, act and moment.
DUPLICATE_COLUMN = "patientreferentie"
PROGRESS_EVERY = 10_000


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the header of the template file
    aliases: tuple[str, ...]
    required: bool = True


# The expected columns; headers match case- and accent-insensitively, Dutch or English.
COLUMNS = (
    Column("care_at", "datum_tijd", ("datum tijd", "datum", "date time", "datetime", "date")),
    Column("post", "huisartsenpost", ("post", "hap", "hap post")),
    Column("act", "verrichting", ("verrichtingcode", "act", "act code", "code")),
    Column("patient_reference", "patientreferentie", ("patient", "patient reference")),
    Column("bsn", "bsn", ("burgerservicenummer",), required=False),
    Column("postcode", "postcode", ("zip", "postal code")),
    Column("house_number", "huisnummer", ("house number", "nummer")),
    Column("house_number_addition", "toevoeging", ("addition", "huisnummertoevoeging"), False),
    Column("reason_code", "redencode", ("reden", "reason", "reason code")),
)
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
DATETIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y %H:%M:%S")


def _fold(text: str) -> str:
    """Lower case without accents and separators: 'Patiënt-referentie' → 'patientreferentie'."""
    decomposed = unicodedata.normalize("NFKD", str(text or ""))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]", "", plain)


def template_csv() -> str:
    """The template finance downloads: the headers and one example line."""
    columns = [spreadsheets.Column(column.key, column.header) for column in COLUMNS]
    return spreadsheets.csv_text(columns, [TEMPLATE_EXAMPLE])


# --- Reading the file, one line at a time ---------------------------------------------------


def _count_lines(claim_import: ClaimImport) -> int | None:
    """The number of lines after the header, for the progress bar: newlines counted in binary
    chunks (a fraction of a second for a million lines), or the sheet's dimension for XLSX.
    A line break inside a quoted CSV field makes it an estimate, which is all a bar needs."""
    claim_import.file.open("rb")
    try:
        if claim_import.original_name.lower().endswith(".xlsx"):
            from openpyxl import load_workbook

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


def _rows(claim_import: ClaimImport) -> Iterator[list[str]]:
    name = claim_import.original_name.lower()
    claim_import.file.open("rb")
    try:
        if name.endswith(".xlsx"):
            from openpyxl import load_workbook

            workbook = load_workbook(claim_import.file, read_only=True, data_only=True)
            try:
                for row in workbook.worksheets[0].iter_rows(values_only=True):
                    yield [_cell(value) for value in row]
            finally:
                workbook.close()
        else:
            # Excel in a Dutch locale saves CSV as Windows-1252; anything else is UTF-8.
            head = claim_import.file.read(1 << 16)
            claim_import.file.seek(0)
            try:
                head.decode("utf-8")
                encoding = "utf-8-sig"
            except UnicodeDecodeError as error:
                # A cut multi-byte character at the end of the sample is still UTF-8.
                encoding = "utf-8-sig" if error.start >= len(head) - 3 else "cp1252"
            text = io.TextIOWrapper(claim_import.file, encoding=encoding, newline="")
            first = text.readline()
            delimiter = ";" if first.count(";") >= first.count(",") else ","
            yield from csv.reader(io.StringIO(first), delimiter=delimiter)
            yield from csv.reader(text, delimiter=delimiter)
    finally:
        claim_import.file.close()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _header_positions(header: list[str]) -> dict[str, int]:
    folded = [_fold(cell) for cell in header]
    positions, missing = {}, []
    for column in COLUMNS:
        names = {_fold(column.header), *(_fold(alias) for alias in column.aliases)}
        found = [index for index, cell in enumerate(folded) if cell in names]
        if found:
            positions[column.key] = found[0]
        elif column.required:
            missing.append(column.header)
    if missing:
        raise DomainError(
            _("Line 1: these columns are missing: %(columns)s. Download the template file.")
            % {"columns": ", ".join(missing)},
            field="file",
        )
    return positions


# --- Checking one line ----------------------------------------------------------------------


def bsn_hash(bsn: str) -> str:
    return hmac.new(settings.BSN_HASH_KEY.encode(), bsn.encode(), hashlib.sha256).hexdigest()


class _LineChecker:
    def __init__(self, now: datetime.datetime):
        self.now = now
        self.posts = {_fold(post.name): post.pk for post in HapPost.objects.all()}
        self.posts.update({_fold(post.city): post.pk for post in HapPost.objects.all()})
        self.acts = {act.code.upper(): act.pk for act in Act.objects.all()}
        self.zone = timezone.get_current_timezone()

    def check(self, values: dict[str, str]) -> tuple[dict, list[tuple[str, str]]]:
        errors: list[tuple[str, str]] = []
        row: dict = {}
        raw = values["care_at"].strip()
        care_at = None
        if len(raw) > 10:  # a date alone is not enough: the hour decides the date of care
            try:
                # The ISO form is the common one and much cheaper to parse than strptime.
                care_at = datetime.datetime.fromisoformat(raw)
            except ValueError:
                care_at = None
            if care_at is not None:
                # The date of care is the Amsterdam date, whatever offset the file wrote.
                care_at = (
                    care_at.replace(tzinfo=self.zone)
                    if care_at.tzinfo is None
                    else care_at.astimezone(self.zone)
                )
        for fmt in DATETIME_FORMATS if care_at is None else ():
            try:
                care_at = datetime.datetime.strptime(raw, fmt).replace(tzinfo=self.zone)
                break
            except ValueError:
                care_at = None
        if care_at is None:
            errors.append(("datum_tijd", _("not a date and time like 2026-11-01 23:15")))
        elif care_at > self.now:
            errors.append(("datum_tijd", _("the date lies in the future")))
        else:
            row["care_at"], row["care_on"] = care_at, care_at.date()
        post_id = self.posts.get(_fold(values["post"]))
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
        elif len(reference) > 40:
            errors.append(("patientreferentie", _("longer than 40 characters")))
        elif looks_like_a_bsn(reference):
            # No BSN is stored in clear: a reference that is one goes back to the sender.
            errors.append(
                (
                    "patientreferentie",
                    _("looks like a BSN; give the post's patient reference (a BSN goes in BSN)"),
                )
            )
        row["patient_reference"] = reference
        bsn = re.sub(r"[\s.]", "", values.get("bsn", ""))
        if bsn:
            bsn = bsn.zfill(9)
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
        if not reason or len(reason) > 20:
            errors.append(("redencode", _("empty or longer than 20 characters")))
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
        error_count, processed = _stage(claim_import)
        error_count += _find_duplicates(claim_import, stored=MAX_STORED_ERRORS - error_count)
        if error_count:
            ClaimStagingLine.objects.filter(claim_import=claim_import).delete()
            _progress(
                claim_import,
                status=ClaimImportStatus.REJECTED,
                error_count=error_count,
                processed_lines=processed,
                finished_at=timezone.now(),
                message=_("%(count)s lines have errors; nothing was stored.")
                % {"count": error_count},
            )
        else:
            with transaction.atomic():
                imported = _move_staged_claims(claim_import)
                _progress(
                    claim_import,
                    status=ClaimImportStatus.IMPORTED,
                    processed_lines=processed,
                    imported_count=imported,
                    finished_at=timezone.now(),
                    message=_("%(count)s claims imported.") % {"count": imported},
                )
    except Exception as error:  # noqa: BLE001  (every failure must end the import visibly)
        if isinstance(error, DomainError):
            message = str(error.message)
        else:
            # Never the exception's text: it may quote a line of the file (patient data).
            logger.warning("claims import %s failed: %s", claim_import.pk, type(error).__name__)
            message = _(
                "The file could not be read (%(kind)s). Save it again as CSV (UTF-8) or XLSX "
                "from the template and upload it again."
            ) % {"kind": type(error).__name__}
        ClaimStagingLine.objects.filter(claim_import=claim_import).delete()
        ClaimImportError.objects.create(
            claim_import=claim_import, line_number=1, column="", reason=message[:300]
        )
        _progress(
            claim_import,
            status=ClaimImportStatus.REJECTED,
            error_count=1,
            finished_at=timezone.now(),
            message=message,
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


def _delete_file(claim_import: ClaimImport) -> None:
    """The file is not kept once it has been read, imported or rejected: it holds patient
    references and perhaps BSNs in clear. What was imported is in the claims (the BSN only as a
    keyed hash); the hash of the file still refuses a second upload."""
    if claim_import.file:
        claim_import.file.delete(save=True)


def _stage(claim_import: ClaimImport) -> tuple[int, int]:
    rows = _rows(claim_import)
    header = next(rows, None)
    if header is None:
        raise DomainError(_("The file is empty."), field="file")
    positions = _header_positions(header)
    checker = _LineChecker(timezone.now())
    batch: list[tuple] = []  # rows in STAGING_COLUMNS order
    errors: list[ClaimImportError] = []
    error_count = processed = 0
    for line_number, cells in enumerate(rows, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        values = {
            key: (cells[index] if index < len(cells) else "") for key, index in positions.items()
        }
        row, line_errors = checker.check(values)
        processed += 1
        if line_errors:
            for column, reason in line_errors:
                if error_count < MAX_STORED_ERRORS:
                    errors.append(
                        ClaimImportError(
                            claim_import=claim_import,
                            line_number=line_number,
                            column=column,
                            reason=reason,
                        )
                    )
                error_count += 1
        elif not error_count:
            # Once a line is bad nothing will be stored; the rest is only checked.
            batch.append(
                (
                    claim_import.pk,
                    line_number,
                    *(row[column] for column in STAGING_COLUMNS[2:]),
                )
            )
        if len(batch) >= BATCH_SIZE:
            _write_staging(batch)
            batch = []
        if len(errors) >= 1000:
            ClaimImportError.objects.bulk_create(errors)
            errors = []
        if processed % PROGRESS_EVERY == 0:
            _progress(claim_import, processed_lines=processed, error_count=error_count)
    if batch and not error_count:
        _write_staging(batch)
    ClaimImportError.objects.bulk_create(errors)
    _progress(claim_import, processed_lines=processed, error_count=error_count)
    return error_count, processed


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


def _find_duplicates(claim_import: ClaimImport, *, stored: int) -> int:
    """Lines repeating an earlier line of the file, or a claim imported before."""
    staging = ClaimStagingLine._meta.db_table
    claims = Claim._meta.db_table
    within = _("duplicate of an earlier line of this file")
    before = _("this claim was imported before")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH ranked AS (
                SELECT line_number, post_id, act_id, care_at, patient_reference,
                       ROW_NUMBER() OVER (
                           PARTITION BY post_id, act_id, care_at, patient_reference
                           ORDER BY line_number
                       ) AS position
                FROM {staging} WHERE claim_import_id = %s
            ),
            duplicates AS (
                SELECT line_number, %s AS reason FROM ranked WHERE position > 1
                UNION ALL
                SELECT r.line_number, %s FROM ranked r
                WHERE r.position = 1 AND EXISTS (
                    SELECT 1 FROM {claims} c
                    WHERE c.post_id = r.post_id AND c.act_id = r.act_id
                      AND c.care_at = r.care_at AND c.patient_reference = r.patient_reference
                )
            )
            SELECT line_number, reason, COUNT(*) OVER () FROM duplicates
            ORDER BY line_number LIMIT %s
            """,
            # Only the lines that are kept are fetched, with the total: a file uploaded again
            # may repeat every one of its million lines.
            [claim_import.pk, within, before, max(stored, 1)],
        )
        found = cursor.fetchall()
    if found and stored > 0:
        ClaimImportError.objects.bulk_create(
            ClaimImportError(
                claim_import=claim_import,
                line_number=line,
                column=DUPLICATE_COLUMN,
                reason=reason,
            )
            for line, reason, _total in found[:stored]
        )
    return found[0][2] if found else 0


def _move_staged_claims(claim_import: ClaimImport) -> int:
    columns = ", ".join(STAGING_COLUMNS)
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
    return imported


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
