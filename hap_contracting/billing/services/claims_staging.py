"""Where the checked lines of an import wait until the whole file is known to be clean, and how
they become claims: two ways, one result (``tests/billing/test_claims_staging.py`` runs the
same files through both and compares what they store).

``CopyStaging`` (PostgreSQL): the lines stream with one ``COPY`` into a temporary table of the
session, which nobody else sees and which is gone with the session. Errors stream with them,
each its own row. Duplicate lines are then found in one statement, and a clean file becomes
claims in one ``INSERT … SELECT`` that also matches each claim to its care location by address
and to the claim it repeats, and opens the investigations (a data-modifying ``WITH``): a number
of statements that does not grow with the file. The table lives in one database session: the
import needs a connection of its own for its run (no pooler in transaction mode between).

``ModelStaging`` (SQLite, the demo): the lines are staged as ``ClaimStagingLine`` rows and moved
as before; the claims are matched to locations after the move (``claims_match_locations``).

Neither ever holds a BSN in clear: the checker (``claims_lines``) hashed it before it got here.
"""

from __future__ import annotations

import contextlib

from django.db import DatabaseError, connection
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from hap_contracting.organisations.models import CareLocation, PostcodeRange

from ..models import AddressInvestigation, Claim, ClaimImportError, ClaimStagingLine
from ..selectors import billable_reason_code
from .claims_lines import CHECKED_COLUMNS, Errors

# A duplicate is the same patient reference with the same post, act and moment.
DUPLICATE_COLUMN = "patientreferentie"
STAGING_TABLE = "pg_temp.claim_import_staging"
# Lines written to COPY at once.
COPY_CHUNK = 2000
ERROR_BATCH = 1000
MODEL_BATCH = 5000

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _copy_text(value: str) -> str:
    """A text as COPY's text format writes it."""
    if "\\" in value or not value.isprintable():
        return value.translate(_COPY_ESCAPES)
    return value


class CopyStaging:
    """A temporary table holding every line read: a claim's checked values, or one row per
    error (``position`` keeps a line's errors in the order they were found)."""

    COLUMNS = ("line_number", "position", *CHECKED_COLUMNS, "error_column", "error_reason")

    def __init__(self, claim_import):
        self.claim_import = claim_import
        self.line_errors = 0
        self._cursor = self._copy = self._copy_context = None
        self._buffer: list[str] = []

    # --- Reading -----------------------------------------------------------------------------

    def __enter__(self):
        self._cursor = connection.cursor()
        self._cursor.execute(
            f"""
            DROP TABLE IF EXISTS {STAGING_TABLE};
            CREATE TEMPORARY TABLE {STAGING_TABLE} (
                line_number integer NOT NULL,
                position smallint NOT NULL,
                care_at timestamptz,
                care_on date,
                post_id bigint,
                act_id bigint,
                patient_reference text,
                bsn_hash text,
                postcode text,
                house_number integer,
                house_number_addition text,
                reason_code text,
                error_column text,
                error_reason text
            )
            """
        )
        return self

    def line(self, line_number: int, checked: tuple) -> None:
        (care_at, care_on, post_id, act_id, reference, bsn_hash, postcode, number, addition,
         reason) = checked  # fmt: skip
        self._buffer.append(
            f"{line_number}\t0\t{care_at.isoformat()}\t{care_on.isoformat()}\t{post_id}\t"
            f"{act_id}\t{_copy_text(reference)}\t{bsn_hash}\t{postcode}\t{number}\t{addition}\t"
            f"{_copy_text(reason)}\t\\N\t\\N\n"
        )
        if len(self._buffer) >= COPY_CHUNK:
            self._write()

    def errors(self, line_number: int, errors: Errors) -> None:
        self.line_errors += len(errors)
        for position, (column, reason) in enumerate(errors):
            self._buffer.append(
                f"{line_number}\t{position}\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t"
                f"{_copy_text(column[:40])}\t{_copy_text(reason[:300])}\n"
            )
        if len(self._buffer) >= COPY_CHUNK:
            self._write()

    def _write(self) -> None:
        if self._copy is None:
            # Started with the first lines, once nothing else needs the connection: no other
            # statement can run while a COPY is under way.
            raw = self._cursor.cursor  # psycopg's own: COPY streams every line in one statement
            sql = f"COPY {STAGING_TABLE} ({', '.join(self.COLUMNS)}) FROM STDIN"
            self._copy_context = contextlib.ExitStack()
            self._copy = self._copy_context.enter_context(raw.copy(sql))
        self._copy.write("".join(self._buffer))
        self._buffer = []

    def _end_copy(self) -> None:
        if self._copy is not None:
            self._copy = None
            self._copy_context.close()

    def read(self) -> None:
        """Every line is in: end the COPY, and store the errors found on the way."""
        if self._buffer:
            self._write()
        self._end_copy()
        if self.line_errors:
            self._cursor.execute(
                f"""
                INSERT INTO {ClaimImportError._meta.db_table}
                    (claim_import_id, line_number, "column", reason)
                SELECT %s, line_number, error_column, error_reason
                FROM {STAGING_TABLE} WHERE error_reason IS NOT NULL
                ORDER BY line_number, position
                """,  # noqa: S608 (table names from the models, no user input)
                [self.claim_import.pk],
            )

    def __exit__(self, exc_type, exc, traceback):
        try:
            # A COPY cut short by a failure is still ended as if complete, not failed: a failed
            # statement would abort a surrounding transaction, and the table is dropped anyway.
            self._buffer = []
            self._end_copy()
            self._cursor.execute(f"DROP TABLE IF EXISTS {STAGING_TABLE}")
        except DatabaseError:
            if exc is None:
                raise  # else the failure that brought us here is the one to report
        finally:
            self._cursor.close()

    # --- Once the whole file is read ---------------------------------------------------------

    def find_duplicates(self) -> int:
        """Every line repeating an earlier good line of the file is an error."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH repeated AS (
                    SELECT post_id, act_id, care_at, patient_reference,
                           min(line_number) AS first_line
                    FROM {STAGING_TABLE} WHERE error_reason IS NULL
                    GROUP BY post_id, act_id, care_at, patient_reference
                    HAVING count(*) > 1
                )
                INSERT INTO {ClaimImportError._meta.db_table}
                    (claim_import_id, line_number, "column", reason)
                SELECT %s, staged.line_number, %s, %s
                FROM {STAGING_TABLE} staged
                JOIN repeated USING (post_id, act_id, care_at, patient_reference)
                WHERE staged.error_reason IS NULL AND staged.line_number > repeated.first_line
                ORDER BY staged.line_number
                """,  # noqa: S608 (table names from the models, no user input)
                [self.claim_import.pk, DUPLICATE_COLUMN, _duplicate_reason()],
            )
            return cursor.rowcount

    def move(self) -> tuple[int, int, int]:
        """The staged lines as claims, each matched to the location at its address and to the
        claim it repeats, and the investigations of the addresses that are no known location,
        in one statement. (claims, duplicates, not billable)."""
        claim = Claim._meta.db_table
        columns = ", ".join(CHECKED_COLUMNS)
        staged_columns = ", ".join(f"staged.{column}" for column in CHECKED_COLUMNS)
        with connection.cursor() as cursor:
            # The location's addition compared in capitals, as the file's is (the lowest id
            # should two locations' differ only in case). No ORDER BY: sorting a million rows
            # costs more than it is worth; the claims' ids follow the plan's order, which is
            # the file's while the staging table is the scan the joins probe with.
            cursor.execute(
                f"""
                WITH inserted AS (
                    INSERT INTO {claim}
                        (claim_import_id, line_number, {columns}, location_id, duplicate_of_id)
                    SELECT %(claim_import)s, staged.line_number, {staged_columns}, place.id,
                           earlier.id
                    FROM {STAGING_TABLE} staged
                    LEFT JOIN (
                        SELECT DISTINCT ON (postcode, house_number, upper(house_number_addition))
                               id, postcode, house_number, upper(house_number_addition) AS addition
                        FROM {CareLocation._meta.db_table}
                        ORDER BY postcode, house_number, upper(house_number_addition), id
                    ) place ON place.postcode = staged.postcode
                           AND place.house_number = staged.house_number
                           AND place.addition = staged.house_number_addition
                    LEFT JOIN {claim} earlier
                           ON earlier.post_id = staged.post_id
                          AND earlier.act_id = staged.act_id
                          AND earlier.care_at = staged.care_at
                          AND earlier.patient_reference = staged.patient_reference
                          AND earlier.duplicate_of_id IS NULL
                    WHERE staged.error_reason IS NULL
                    RETURNING post_id, postcode, house_number, house_number_addition, location_id
                ), opened AS (
                    {_investigations_sql("inserted")}
                    RETURNING 1
                )
                SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM opened)
                """,  # noqa: S608 (table names from the models, no user input)
                {"claim_import": self.claim_import.pk, "opened_on": timezone.localdate()},
            )
            imported, _opened = cursor.fetchone()
        duplicates, not_billable = claim_import_counts(self.claim_import)
        return imported, duplicates, not_billable


class ModelStaging:
    """``ClaimStagingLine`` rows and ``ClaimImportError`` rows, written in batches."""

    def __init__(self, claim_import):
        self.claim_import = claim_import
        self.line_errors = 0
        self._lines: list[ClaimStagingLine] = []
        self._errors: list[ClaimImportError] = []

    def __enter__(self):
        ClaimStagingLine.objects.filter(claim_import=self.claim_import).delete()
        return self

    def line(self, line_number: int, checked: tuple) -> None:
        self._lines.append(
            ClaimStagingLine(
                claim_import=self.claim_import,
                line_number=line_number,
                **dict(zip(CHECKED_COLUMNS, checked, strict=True)),
            )
        )
        if len(self._lines) >= MODEL_BATCH:
            ClaimStagingLine.objects.bulk_create(self._lines)
            self._lines = []

    def errors(self, line_number: int, errors: Errors) -> None:
        self.line_errors += len(errors)
        self._errors += [
            ClaimImportError(
                claim_import=self.claim_import,
                line_number=line_number,
                column=column[:40],
                reason=reason[:300],
            )
            for column, reason in errors
        ]
        if len(self._errors) >= ERROR_BATCH:
            ClaimImportError.objects.bulk_create(self._errors)
            self._errors = []

    def read(self) -> None:
        ClaimStagingLine.objects.bulk_create(self._lines)
        ClaimImportError.objects.bulk_create(self._errors)
        self._lines, self._errors = [], []

    def __exit__(self, *exc_info):
        ClaimStagingLine.objects.filter(claim_import=self.claim_import).delete()

    def find_duplicates(self) -> int:
        """Lines repeating an earlier line of the file are errors, written in one statement; a
        clean file's lines repeating claims imported before are marked as their duplicates."""
        staging = ClaimStagingLine._meta.db_table
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
                INSERT INTO {ClaimImportError._meta.db_table}
                    (claim_import_id, line_number, "column", reason)
                SELECT %s, line_number, %s, %s FROM ranked WHERE position > 1
                ORDER BY line_number
                """,  # noqa: S608 (table names from the models, no user input)
                [self.claim_import.pk, self.claim_import.pk, DUPLICATE_COLUMN, _duplicate_reason()],
            )
        # Not the cursor's rowcount: SQLite does not count the rows of an INSERT that starts WITH.
        # The reason too: a line's own errors can be in the same column.
        return ClaimImportError.objects.filter(
            claim_import=self.claim_import, column=DUPLICATE_COLUMN, reason=_duplicate_reason()
        ).count()

    def move(self) -> tuple[int, int, int]:
        """(claims, duplicates of claims imported before, not billable); the claims are matched
        to locations afterwards."""
        earlier = Claim.objects.filter(
            post_id=OuterRef("post_id"),
            act_id=OuterRef("act_id"),
            care_at=OuterRef("care_at"),
            patient_reference=OuterRef("patient_reference"),
            duplicate_of__isnull=True,
        ).values("pk")[:1]
        ClaimStagingLine.objects.filter(claim_import=self.claim_import).update(
            duplicate_of=Subquery(earlier)
        )
        columns = ", ".join(("claim_import_id", "line_number", *CHECKED_COLUMNS, "duplicate_of_id"))
        staging = ClaimStagingLine._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Claim._meta.db_table} ({columns}) "  # noqa: S608 (model tables)
                f"SELECT {columns} FROM {staging} WHERE claim_import_id = %s ORDER BY line_number",
                [self.claim_import.pk],
            )
            imported = cursor.rowcount
        ClaimStagingLine.objects.filter(claim_import=self.claim_import).delete()
        duplicates, not_billable = claim_import_counts(self.claim_import)
        return imported, duplicates, not_billable


def _duplicate_reason() -> str:
    return _("duplicate of an earlier line of this file")


def claim_import_counts(claim_import) -> tuple[int, int]:
    """(duplicates of claims imported before, claims whose reason code is not billed)."""
    counts = Claim.objects.filter(claim_import=claim_import).aggregate(
        duplicates=Count("pk", filter=Q(duplicate_of__isnull=False)),
        not_billable=Count("pk", filter=~Exists(billable_reason_code())),
    )
    return counts["duplicates"], counts["not_billable"]


def _investigations_sql(claims: str) -> str:
    """The INSERT that opens an investigation for every address of ``claims`` (a relation of
    post_id, postcode, house_number, house_number_addition and location_id) that is not a
    location of a known organisation, unless it has one already. It belongs to the post whose
    postcode area holds the address (the first range, should two overlap), else to the post
    that gave the care: that post's location manager can find the location. Parameter:
    ``opened_on``."""
    return f"""
        INSERT INTO {AddressInvestigation._meta.db_table}
            (post_id, postcode, house_number, house_number_addition, location_id, opened_on,
             notified_how, notes)
        SELECT COALESCE(
                   (SELECT area.post_id FROM {PostcodeRange._meta.db_table} area
                    WHERE CAST(substr(unknown.postcode, 1, 4) AS integer)
                          BETWEEN area.first AND area.last
                    ORDER BY area.first, area.id LIMIT 1),
                   unknown.post_id
               ),
               unknown.postcode, unknown.house_number, unknown.house_number_addition,
               unknown.location_id, %(opened_on)s, '', ''
        FROM (
            SELECT claim.postcode, claim.house_number, claim.house_number_addition,
                   MIN(claim.post_id) AS post_id, MIN(claim.location_id) AS location_id
            FROM {claims} claim
            LEFT JOIN {CareLocation._meta.db_table} place ON place.id = claim.location_id
            WHERE claim.location_id IS NULL OR place.organisation_id IS NULL
            GROUP BY claim.postcode, claim.house_number, claim.house_number_addition
        ) unknown
        WHERE true
        ON CONFLICT (postcode, house_number, house_number_addition) DO NOTHING
    """  # noqa: S608 (table names from the models, no user input)


def investigations_open(*, claim_import_id: int) -> int:
    """The investigations of the addresses of an import's claims (``_investigations_sql``);
    returns how many were opened."""
    claims = (
        f"(SELECT post_id, postcode, house_number, house_number_addition, location_id "
        f"FROM {Claim._meta.db_table} WHERE claim_import_id = %(claim_import)s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _investigations_sql(claims),
            {"opened_on": timezone.localdate(), "claim_import": claim_import_id},
        )
        return cursor.rowcount
