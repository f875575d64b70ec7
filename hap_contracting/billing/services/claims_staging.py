"""Where the checked lines of an import wait until the whole file is known to be clean, and how
they become claims: two ways, one result (``tests/billing/test_claims_staging.py`` runs the
same files through both and compares what they store).

``CopyStaging`` (PostgreSQL): the whole import is one transaction. The lines arrive in a fixed
number of batches; each batch is copied (``COPY``) into a temporary table of the session, which
the checks over the whole file read, and, while every line so far is good, straight on into the
claims table, by a second thread on the same connection while the next batch is read: the
claims' index upkeep and key checks, most of an import's cost, run on the database's core while
Python checks lines on the other. Each claim arrives matched to its care location (by address,
in Python) and to the claim it repeats (looked up for its batch just before its copy).
Duplicate lines are then found in one statement; a bad file's transaction is rolled back and
its errors, kept aside as they were found (they hold no patient data), are written after it.
The number of statements does not grow with the file. The temporary table and the transaction
live in one database session: the import needs a connection of its own for its run (no pooler
in transaction mode between).

``ModelStaging`` (SQLite, the demo): the lines are staged as ``ClaimStagingLine`` rows and moved
as before; the claims are matched to locations after the move (``claims_match_locations``).

Neither ever holds a BSN in clear: the checker (``claims_lines``) hashed it before it got here.
"""

from __future__ import annotations

import math
import tempfile
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
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
# Lines joined into one write.
COPY_CHUNK = 2000
# The lines are staged and moved in this many batches, whatever the file's size, so that the
# number of statements does not grow with it; a batch when the lines could not be counted.
BATCHES = 8
FIRST_BATCH_PART = 32  # the first batch is this part of the lines
DEFAULT_BATCH_LINES = 50_000
# A batch waiting for the COPY is kept in memory up to this size, on disk beyond it.
SPOOL_IN_MEMORY = 4 * 2**20
# Claims imported before that lines repeat, remembered to see two lines repeat the same one.
MAX_EARLIER_REMEMBERED = 100_000
# The advisory lock (PostgreSQL) that lets one import at a time move claims.
MOVE_LOCK = 7_302_015
ERROR_BATCH = 1000
MODEL_BATCH = 5000

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _copy_text(value: str) -> str:
    """A text as COPY's text format writes it."""
    if "\\" in value or not value.isprintable():
        return value.translate(_COPY_ESCAPES)
    return value


class CopyStaging:
    """The lines are read in a fixed number of batches (``BATCHES``, by the counted lines),
    all in one transaction. Each batch's good lines are copied into a temporary table (what
    the checks over the whole file read) and, while every line so far is good, straight into
    the claims table too, by a thread of its own on the same connection, while the next batch
    is read and checked: PostgreSQL fills the claims table and its indexes on one core while
    Python reads on the other. Each claim has its location already (matched here, by address)
    and the claim it repeats (looked up for its batch just before the copy). A file that turns
    out bad stores nothing: the transaction is rolled back, and its errors, kept aside as they
    were found (they hold no patient data), are written after it."""

    CLAIM_COLUMNS = ("claim_import_id", "line_number", *CHECKED_COLUMNS, "location_id")

    def __init__(self, claim_import, expected_lines: int | None = None):
        self.claim_import = claim_import
        self.line_errors = 0
        self._expected_lines = expected_lines
        self._prefix = f"{int(claim_import.pk)}\t"
        self._read = self._batches = self._good_lines = self._moved = 0
        self._batch_end = self._end_of_batch(0)
        self._batch_first: int | None = None
        self._batch_last = self._batch_good = 0
        # While True, each batch goes on into the claims table as soon as it is read.
        self._moving = True
        self._first_unmoved: int | None = None
        self._chunk: list[str] = []
        # Hashes of the batch's claims: a line repeating another of its batch would stop the
        # copy into the claims table (its unique index) before the file is fully read.
        self._keys: set[int] = set()
        self._repeated_in_batch = False
        # Whether the file may repeat a line of its own (else the claims table's unique index
        # would have refused it): a repeat within a batch, a claim of this import looked up as
        # one a line repeats, or a claim imported before repeated by two lines.
        self._may_repeat_itself = False
        self._earlier_repeated: set[int] = set()
        self._spools = [_spool(), _spool()]
        self._spool = self._spools[0]
        self._errors = _spool()
        self._places: dict[tuple[str, int, str], str] = {}
        self._atomic = self._database = self._mover = self._pending = None

    # --- Reading -----------------------------------------------------------------------------

    def __enter__(self):
        # The wrapper itself, not the thread-local proxy: the mover's thread uses it too.
        self._database = connections[DEFAULT_DB_ALIAS]
        self._atomic = transaction.atomic(using=DEFAULT_DB_ALIAS)
        self._atomic.__enter__()
        try:
            self._begin()
        except BaseException as error:
            # No __exit__ follows a failed __enter__: the transaction ends here.
            atomic, self._atomic = self._atomic, None
            atomic.__exit__(type(error), error, error.__traceback__)
            raise
        self._database.inc_thread_sharing()
        self._mover = ThreadPoolExecutor(max_workers=1, thread_name_prefix="claims-move")
        return self

    def _begin(self) -> None:
        """The lock, the temporary table and the locations by address."""
        with self._database.cursor() as cursor:
            # One import at a time makes claims: a claim of another import committed between
            # two batches would be no duplicate to the one and a conflict to the next.
            # Released with the transaction.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MOVE_LOCK])
            cursor.execute(
                f"""
                DROP TABLE IF EXISTS {STAGING_TABLE};
                CREATE TEMPORARY TABLE {STAGING_TABLE} (
                    claim_import_id bigint NOT NULL,
                    line_number integer NOT NULL,
                    care_at timestamptz NOT NULL,
                    care_on date NOT NULL,
                    post_id bigint NOT NULL,
                    act_id bigint NOT NULL,
                    patient_reference text NOT NULL,
                    bsn_hash text NOT NULL,
                    postcode text NOT NULL,
                    house_number integer NOT NULL,
                    house_number_addition text NOT NULL,
                    reason_code text NOT NULL,
                    location_id bigint
                );
                CREATE INDEX ON {STAGING_TABLE} USING brin (line_number);
                """
            )
            # The location at an address: its addition compared in capitals, as the file's is,
            # and the lowest id should two locations' differ only in case.
            cursor.execute(
                f"""
                SELECT DISTINCT ON (postcode, house_number, upper(house_number_addition))
                       postcode, house_number, upper(house_number_addition), id
                FROM {CareLocation._meta.db_table}
                ORDER BY postcode, house_number, upper(house_number_addition), id
                """  # noqa: S608 (table names from the models, no user input)
            )
            self._places = {
                (postcode, number, addition): str(pk)
                for postcode, number, addition, pk in cursor.fetchall()
            }

    def line(self, line_number: int, checked: tuple) -> None:
        (care_at, care_on, post_id, act_id, reference, bsn_hash, postcode, number, addition,
         reason) = checked  # fmt: skip
        location = self._places.get((postcode, number, addition), "\\N")
        self._chunk.append(
            f"{self._prefix}{line_number}\t{care_at.isoformat()}\t{care_on.isoformat()}\t"
            f"{post_id}\t{act_id}\t{_copy_text(reference)}\t{bsn_hash}\t{postcode}\t{number}\t"
            f"{addition}\t{_copy_text(reason)}\t{location}\n"
        )
        if self._moving:
            keys = self._keys
            known = len(keys)
            keys.add(claim_key_hash(post_id, act_id, care_at, reference))
            if len(keys) == known:
                self._repeated_in_batch = True
        self._good_lines += 1
        self._batch_good += 1
        self._counted(line_number)

    def errors(self, line_number: int, errors: Errors) -> None:
        self.line_errors += len(errors)
        self._moving = False
        self._errors.write(
            "".join(
                f"{self._prefix}{line_number}\t{_copy_text(column[:40])}\t"
                f"{_copy_text(reason[:300])}\n"
                for column, reason in errors
            ).encode()
        )
        self._counted(line_number)

    def _counted(self, line_number: int) -> None:
        if self._batch_first is None:
            self._batch_first = line_number
        self._batch_last = line_number
        self._read += 1
        if len(self._chunk) >= COPY_CHUNK:
            self._spool.write("".join(self._chunk).encode())
            self._chunk = []
        if self._read >= self._batch_end:
            self._end_batch()

    def _end_of_batch(self, batch: int) -> float:
        """How many lines are read when the batch ends. The first batch is small, as nothing
        can be copied into the claims table while it is read; the others share the rest of
        the counted lines equally, the last one open should there be more."""
        expected = self._expected_lines
        if not expected:
            return (batch + 1) * DEFAULT_BATCH_LINES
        if batch >= BATCHES - 1:
            return math.inf
        first = math.ceil(expected / FIRST_BATCH_PART)
        return first + math.ceil(batch * (expected - first) / (BATCHES - 1))

    def _end_batch(self) -> None:
        """The batch into the temporary table; then, while every line so far is good, on into
        the claims table in the mover's thread, while this one reads on."""
        if self._chunk:
            self._spool.write("".join(self._chunk).encode())
            self._chunk = []
        if self._batch_first is None:
            return
        self._wait_for_the_mover()
        spool = self._spool
        if self._batch_good:
            with self._database.cursor() as cursor:
                columns = ", ".join(self.CLAIM_COLUMNS)
                _copy_from(cursor, f"COPY {STAGING_TABLE} ({columns}) FROM STDIN", spool)
        if self._repeated_in_batch:
            self._moving = False
            self._may_repeat_itself = True
        if self._moving and self._batch_good:
            self._pending = self._mover.submit(
                self._move, spool, self._batch_first, self._batch_last, self._batch_good
            )
            # The next batch is read into the other spool, which the last move is done with.
            self._spool = self._spools[1] if spool is self._spools[0] else self._spools[0]
        elif self._first_unmoved is None:
            self._first_unmoved = self._batch_first
        self._spool.seek(0)
        self._spool.truncate()
        self._keys.clear()
        self._repeated_in_batch = False
        self._batch_first, self._batch_good = None, 0
        self._batches += 1
        self._batch_end = self._end_of_batch(self._batches)

    def _wait_for_the_mover(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._moved += pending.result()

    def _move(self, spool, first_line: int, last_line: int, lines: int) -> int:
        """A batch of claims into the claims table, with the claims they repeat; returns how
        many. (In the mover's thread.)"""
        claim = Claim._meta.db_table
        columns = ", ".join(self.CLAIM_COLUMNS)
        with self._database.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT staged.line_number, repeated.id, repeated.claim_import_id
                FROM {STAGING_TABLE} staged
                CROSS JOIN LATERAL ({_earlier_claim("earlier.id, earlier.claim_import_id")})
                     repeated
                WHERE staged.line_number BETWEEN %s AND %s
                """,  # noqa: S608 (table names from the models, no user input)
                [first_line, last_line],
            )
            earlier = {}
            for line_number, repeated, repeated_import in cursor.fetchall():
                earlier[line_number] = repeated
                if repeated_import == self.claim_import.pk or repeated in self._earlier_repeated:
                    self._may_repeat_itself = True
                elif len(self._earlier_repeated) < MAX_EARLIER_REMEMBERED:
                    self._earlier_repeated.add(repeated)
                else:
                    self._may_repeat_itself = True  # no longer known: found in SQL after all
            if not earlier:
                _copy_from(cursor, f"COPY {claim} ({columns}) FROM STDIN", spool)
            else:
                spool.seek(0)
                sql = f"COPY {claim} ({columns}, duplicate_of_id) FROM STDIN"
                with cursor.cursor.copy(sql) as copy:
                    for text in spool:
                        repeated = earlier.get(int(text.split(b"\t", 2)[1]))
                        copy.write(text[:-1] + (b"\t%d\n" % repeated if repeated else b"\t\\N\n"))
        return lines

    def read(self) -> None:
        """Every line is in."""
        self._end_batch()
        self._wait_for_the_mover()

    def __exit__(self, exc_type, exc, traceback):
        try:
            if self._pending is not None:
                # Whatever failed here, the connection is the mover's until it is done.
                futures.wait([self._pending])
                self._pending = None
            self._mover.shutdown(wait=True)
            self._database.dec_thread_sharing()
            if self._atomic is not None:
                atomic, self._atomic = self._atomic, None
                if exc is None:
                    with self._database.cursor() as cursor:
                        cursor.execute(f"DROP TABLE IF EXISTS {STAGING_TABLE}")
                atomic.__exit__(exc_type, exc, traceback)
        finally:
            for spool in (*self._spools, self._errors):
                spool.close()

    # --- Once the whole file is read ---------------------------------------------------------

    def find_duplicates(self) -> int:
        """Every line repeating an earlier line of the file is an error. Looked for in SQL
        unless every line went into the claims table without a sign of one."""
        if not (self._may_repeat_itself or self.line_errors or self._first_unmoved):
            return 0
        found = 0
        with self._database.cursor() as cursor:
            sql = f"""
                COPY (
                    WITH repeated AS (
                        SELECT post_id, act_id, care_at, patient_reference,
                               min(line_number) AS first_line
                        FROM {STAGING_TABLE}
                        GROUP BY post_id, act_id, care_at, patient_reference
                        HAVING count(*) > 1
                    )
                    SELECT {int(self.claim_import.pk)}, staged.line_number,
                           {_sql_text(DUPLICATE_COLUMN)}, {_sql_text(_duplicate_reason())}
                    FROM {STAGING_TABLE} staged
                    JOIN repeated USING (post_id, act_id, care_at, patient_reference)
                    WHERE staged.line_number > repeated.first_line
                    ORDER BY staged.line_number
                ) TO STDOUT
            """  # noqa: S608 (table names from the models, texts quoted, no user input)
            with cursor.cursor.copy(sql) as copy:
                for data in copy:
                    found += bytes(data).count(b"\n")
                    self._errors.write(data)
        return found

    def discard(self) -> None:
        """The file is bad: nothing of it is kept but its errors, in the order of the file."""
        self._wait_for_the_mover()
        atomic, self._atomic = self._atomic, None
        transaction.set_rollback(True, using=DEFAULT_DB_ALIAS)
        atomic.__exit__(None, None, None)
        with self._database.cursor() as cursor:
            sql = (
                f"COPY {ClaimImportError._meta.db_table} "
                f'(claim_import_id, line_number, "column", reason) FROM STDIN'
            )
            _copy_from(cursor, sql, self._errors)

    def move(self) -> tuple[int, int, int]:
        """The file is clean: its claims are in (copied batch by batch as it was read, but for
        the batches after a repeated line was suspected, which are moved now), and the
        investigations of its addresses that are no known location are opened. (claims,
        duplicates, not billable)."""
        if self._first_unmoved is not None:
            staged_columns = ", ".join(f"staged.{column}" for column in self.CLAIM_COLUMNS)
            with self._database.cursor() as cursor:
                cursor.execute(
                    f"""
                    INSERT INTO {Claim._meta.db_table}
                        ({", ".join(self.CLAIM_COLUMNS)}, duplicate_of_id)
                    SELECT {staged_columns}, ({_earlier_claim("earlier.id")})
                    FROM {STAGING_TABLE} staged
                    WHERE staged.line_number >= %s
                    ORDER BY staged.line_number
                    """,  # noqa: S608 (table names from the models, no user input)
                    [self._first_unmoved],
                )
                self._moved += cursor.rowcount
        if self._moved != self._good_lines:
            raise RuntimeError(f"{self._moved} claims made of {self._good_lines} lines")
        with self._database.cursor() as cursor:
            cursor.execute(
                _investigations_sql(
                    f"(SELECT post_id, postcode, house_number, house_number_addition, "
                    f"location_id FROM {STAGING_TABLE})"
                ),
                {"opened_on": timezone.localdate()},
            )
        duplicates, not_billable = claim_import_counts(self.claim_import)
        return self._moved, duplicates, not_billable


def _earlier_claim(columns: str) -> str:
    """The claim imported before that a staged line (``staged``) repeats, none for most: one
    probe of the claims' unique index."""
    return f"""
        SELECT {columns} FROM {Claim._meta.db_table} earlier
        WHERE earlier.post_id = staged.post_id AND earlier.act_id = staged.act_id
          AND earlier.care_at = staged.care_at
          AND earlier.patient_reference = staged.patient_reference
          AND earlier.duplicate_of_id IS NULL
    """  # noqa: S608 (table names from the models, no user input)


def claim_key_hash(post_id: int, act_id: int, care_at, reference: str) -> int:
    """What makes a claim the same claim (the unique constraint ``claim_unique``), hashed."""
    return hash((post_id, act_id, care_at, reference))


def _copy_from(cursor, sql: str, spool) -> None:
    """A spool streamed from its start in one COPY (psycopg's own cursor: Django's has none)."""
    spool.seek(0)
    with cursor.cursor.copy(sql) as copy:
        while data := spool.read(1 << 20):
            copy.write(data)


def _spool():
    """Where a batch waits for its COPY: in memory up to a size, on disk beyond it (deleted
    when closed; it holds the checked values, the BSN only hashed)."""
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115


def _sql_text(text: str) -> str:
    """A text as an SQL literal (for a COPY's query, which takes no parameters)."""
    return "'" + text.replace("'", "''") + "'"


class ModelStaging:
    """``ClaimStagingLine`` rows and ``ClaimImportError`` rows, written in batches."""

    def __init__(self, claim_import, expected_lines: int | None = None):
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

    def discard(self) -> None:
        """The file is bad: its errors are stored already, and no claim was made."""

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
