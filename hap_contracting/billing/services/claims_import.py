"""Importing the insurer's refused claims (seed 004, 7.2 point 2), in constant memory.

Policy: **the whole file or nothing.** Lines are read one at a time (CSV or XLSX), checked field
by field (``claims_lines``) and staged as they stream past (``claims_staging``: on PostgreSQL
in batches, copied into the claims table while the file is still read, all in one transaction
that a bad file rolls back); duplicates are then found in SQL: a line repeating an earlier line
of the file is an error, a line repeating a claim imported before is imported as its duplicate
(never billed). A file with any bad line stores no claim at all; every bad line is reported
with its line number, column and reason, and finance uploads the corrected file. Only a clean
file's claims are kept.
Importing the same file, or the same claims, twice bills nothing twice. Which reason codes are
billed is finance's data (``BillableReasonCode``): a claim with another code is imported, and
the import's summary says it is not billed.

No patient data ends up in an error message or a log line: errors name the line and the column,
never the value. A BSN, when the file carries one, is checked with the 11-test and kept only as
a keyed hash (HMAC-SHA256 with ``BSN_HASH_KEY``), hashed before it is staged; a patient
reference that is a valid BSN is refused and never staged. The uploaded file itself is deleted
as soon as the import has finished, whatever its outcome; its SHA-256 stays to refuse the same
file twice.

The number of database statements of an import does not grow with its lines: the progress is
written when the lines are counted, when they have been read and checked, and at the end, and
the lines are staged in a fixed number of batches.
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hap_contracting.audit.constants import AccessAction
from hap_contracting.audit.services import access_log_record
from hap_contracting.core import spreadsheets
from hap_contracting.core.errors import DomainError
from hap_contracting.core.jobs import enqueue_on_commit
from hap_contracting.core.validators import bsn_hash, bsn_is_valid
from hap_contracting.organisations.models import CareLocation

from .. import rules as billing_rules
from ..constants import ClaimImportStatus
from ..models import Claim, ClaimImport, ClaimImportError
from .claims_file import (
    COLUMNS,
    WHOLE_FILE,
    FileProblem,
    check_xlsx_archive,
    read_header,
    records,
)
from .claims_lines import LineChecker
from .claims_staging import CopyStaging, ModelStaging, investigations_open

logger = logging.getLogger(__name__)

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


def claim_import_run(claim_import_id: int, *, staged_by_copy: bool | None = None) -> ClaimImport:
    """Check the whole file, then store it whole or not at all. Safe to run again.

    ``staged_by_copy``: stage with PostgreSQL's COPY (``CopyStaging``) or as model rows
    (``ModelStaging``); by default COPY wherever the database is PostgreSQL. The two store the
    same; the tests compare them."""
    claim_import = ClaimImport.objects.get(pk=claim_import_id)
    if claim_import.status == ClaimImportStatus.IMPORTED:
        # A worker that died after the move left the matching undone; it is idempotent.
        claims_match_locations(claim_import_id=claim_import.pk)
        _delete_file(claim_import)
        return claim_import
    if claim_import.status == ClaimImportStatus.REJECTED:
        _delete_file(claim_import)
        return claim_import
    if staged_by_copy is None:
        staged_by_copy = connection.vendor == "postgresql"
    ClaimImportError.objects.filter(claim_import=claim_import).delete()
    _progress(
        claim_import,
        status=ClaimImportStatus.RUNNING,
        processed_lines=0,
        error_count=0,
        total_lines=None,
    )
    matched = staged_by_copy
    try:
        total_lines = _count_lines(claim_import)
        _progress(claim_import, total_lines=total_lines)
        staging = (CopyStaging if staged_by_copy else ModelStaging)(claim_import, total_lines)
        with staging:
            _import(claim_import, staging)
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
    if claim_import.status == ClaimImportStatus.IMPORTED and not matched:
        # Outside the move's transaction: the claims are stored whatever happens here. Should
        # matching fail, the import stays imported and running it again matches (it is
        # idempotent). The COPY path matched in the move itself.
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


def _import(claim_import: ClaimImport, staging) -> None:
    """Read, check and stage every line; then reject the file or store it whole."""
    problem = None
    claim_import.file.open("rb")
    try:
        rows = records(claim_import.file, xlsx=_is_xlsx(claim_import))
        _start, header_cells = next(rows)
        header = read_header(header_cells)
        checker = LineChecker(header.positions, timezone.now())
        bad_lines = processed = 0
        values, check, stage_line, stage_errors = (
            checker.values,
            checker.check,
            staging.line,
            staging.errors,
        )
        try:
            for line_number, cells in rows:
                if not "".join(cells).strip():
                    continue
                processed += 1
                checked, errors = check(values(cells))
                if errors:
                    bad_lines += 1
                    stage_errors(line_number, errors)
                else:
                    stage_line(line_number, checked)
        except FileProblem as found:
            # The lines before it are reported too; the problem is the report's last error.
            problem = found
        staging.read()
    finally:
        claim_import.file.close()
    if problem is None and processed:
        bad_lines += staging.find_duplicates()
    if problem is not None or not processed or bad_lines:
        staging.discard()
    _progress(
        claim_import,
        processed_lines=processed,
        error_count=bad_lines,
        ignored_columns=", ".join(header.ignored)[:500],
    )
    if problem is not None:
        raise problem
    if not processed:
        raise FileProblem(2, WHOLE_FILE, _("the file has no lines under the header (geen regels)"))
    if bad_lines:
        _reject(
            claim_import,
            ngettext(
                "%(count)s line has errors; nothing was stored.",
                "%(count)s lines have errors; nothing was stored.",
                bad_lines,
            )
            % {"count": bad_lines},
        )
        return
    with transaction.atomic():
        imported, duplicates, not_billable = staging.move()
        _progress(
            claim_import,
            status=ClaimImportStatus.IMPORTED,
            imported_count=imported,
            finished_at=timezone.now(),
            message=_imported_message(imported, duplicates, not_billable),
        )


def _imported_message(imported: int, duplicates: int, not_billable: int) -> str:
    message = ngettext("%(count)s claim imported.", "%(count)s claims imported.", imported) % {
        "count": imported
    }
    if duplicates:
        message += " " + ngettext(
            "%(count)s of them repeats a claim imported before; it is not billed again.",
            "%(count)s of them repeat claims imported before; they are not billed again.",
            duplicates,
        ) % {"count": duplicates}
    if not_billable:
        message += " " + ngettext(
            "%(count)s has a reason code that is not billed (not on finance's list of Wlz codes "
            "with treatment).",
            "%(count)s have a reason code that is not billed (not on finance's list of Wlz codes "
            "with treatment).",
            not_billable,
        ) % {"count": not_billable}
    return message


def _reject(claim_import: ClaimImport, message: str) -> None:
    _progress(
        claim_import,
        status=ClaimImportStatus.REJECTED,
        error_count=ClaimImportError.objects.filter(claim_import=claim_import).count(),
        finished_at=timezone.now(),
        message=message,
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


# --- Matching claims to locations -----------------------------------------------------------


def claims_match_locations(*, claim_import_id: int) -> int:
    """Match the import's unmatched claims to care locations by normalised address; open an
    investigation for every address that is not a location of a known organisation (seed 004,
    7.2). Returns the number of investigations opened."""
    same_address = (
        CareLocation.objects.annotate(addition=Upper("house_number_addition"))
        .filter(
            postcode=OuterRef("postcode"),
            house_number=OuterRef("house_number"),
            addition=OuterRef("house_number_addition"),
        )
        .order_by("pk")
        .values("pk")[:1]
    )
    with transaction.atomic():
        Claim.objects.filter(claim_import_id=claim_import_id, location__isnull=True).update(
            location=Subquery(same_address)
        )
        return investigations_open(claim_import_id=claim_import_id)


__all__ = [
    "COLUMNS",
    "bsn_hash",
    "bsn_is_valid",
    "claim_import_create",
    "claim_import_run",
    "claims_match_locations",
    "template_csv",
]
