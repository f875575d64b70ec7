"""The audit trail's integrity, kept by PostgreSQL itself (NEN 7513 asks for log integrity). Each
app that keeps history makes its tables append-only and chained with ``protect`` in a migration.

The history tables (transitions, advices, contract events) and the access log are append-only:
a trigger refuses every UPDATE and DELETE, and no session setting switches it off (unlike
django-pgtrigger's triggers, which honour ``pgtrigger.ignore``). The application connects as a
role that owns nothing and may only SELECT and INSERT on these tables
(``manage.py grant_database_roles``), so it can neither TRUNCATE them nor disable the trigger.

On top of that the rows form a hash chain: a BEFORE INSERT trigger gives each row its place
(``chain_position``, under a lock per table, so the chain follows the order of insertion) and
``chain_hash``, the SHA-256 of the previous row's hash and the row's own content (its JSON).
``verify_audit_trail`` recomputes the chain and names the first row that breaks it, so even an
edit by the tables' owner, who can disable the trigger, is found. The columns live in the
database only: the models do not know them, so Django never writes them. What is hashed leaves
out NULL values: a column added to one of these tables later must be nullable (NULL in the rows
before it), or the older rows' hashes no longer match. The access log's entries chain; the
patients of an entry that names many (``AccessLogReference``) are covered by the entry's
``references_digest``, which the audit app checks (``audit.selectors.audit_trail_check``).

On SQLite (the local demo) none of this exists; the checks say so instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

FUNCTIONS_SQL = r"""
CREATE OR REPLACE FUNCTION audit_chain_digest(previous text, content jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(coalesce(previous, '') || content::text, 'UTF8')), 'hex')
$$;

-- What is hashed of a row: its JSON without the hash itself and without empty (NULL) values, so
-- that a nullable column added later leaves the older rows' hashes as they were.
CREATE OR REPLACE FUNCTION audit_chain_content(row_json jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_strip_nulls(row_json - 'chain_hash')
$$;

-- Times are written in UTC in the JSON, whatever the session's time zone.
CREATE OR REPLACE FUNCTION audit_chain_link() RETURNS trigger
LANGUAGE plpgsql SET timezone TO 'UTC' AS $$
DECLARE
    last_position bigint;
    last_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('audit_chain:' || TG_TABLE_NAME));
    EXECUTE format(
        'SELECT chain_position, chain_hash FROM %I.%I '
        'WHERE chain_position IS NOT NULL ORDER BY chain_position DESC LIMIT 1',
        TG_TABLE_SCHEMA, TG_TABLE_NAME
    ) INTO last_position, last_hash;
    NEW.chain_position := coalesce(last_position, 0) + 1;
    NEW.chain_hash := audit_chain_digest(last_hash, audit_chain_content(to_jsonb(NEW)));
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit: % on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""

DROP_FUNCTIONS_SQL = """
DROP FUNCTION IF EXISTS audit_refuse_change();
DROP FUNCTION IF EXISTS audit_chain_link();
DROP FUNCTION IF EXISTS audit_chain_content(jsonb);
DROP FUNCTION IF EXISTS audit_chain_digest(text, jsonb);
"""

APPEND_ONLY_TRIGGER = "audit_append_only"
CHAIN_TRIGGER = "audit_chain"


def _postgresql(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def install_functions(apps, schema_editor) -> None:
    if _postgresql(schema_editor):
        schema_editor.execute(FUNCTIONS_SQL, params=None)


def drop_functions(apps, schema_editor) -> None:
    if _postgresql(schema_editor):
        schema_editor.execute(DROP_FUNCTIONS_SQL, params=None)


def protect(table: str, *, chained: bool = True):
    """A migration operation's pair of functions: make ``table`` append-only (and chained)."""
    quoted = f'"{table}"'

    def forwards(apps, schema_editor):
        if not _postgresql(schema_editor):
            return
        install_functions(apps, schema_editor)  # idempotent: whichever app migrates first
        statements = [
            f"DROP TRIGGER IF EXISTS {APPEND_ONLY_TRIGGER} ON {quoted}",
            f"CREATE TRIGGER {APPEND_ONLY_TRIGGER} BEFORE UPDATE OR DELETE ON {quoted} "
            "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
        ]
        if chained:
            statements += [
                f"ALTER TABLE {quoted} ADD COLUMN IF NOT EXISTS chain_position bigint",
                f"ALTER TABLE {quoted} ADD COLUMN IF NOT EXISTS chain_hash varchar(64)",
                f'CREATE UNIQUE INDEX IF NOT EXISTS "{table}_chain_position" '
                f"ON {quoted} (chain_position)",
                f"DROP TRIGGER IF EXISTS {CHAIN_TRIGGER} ON {quoted}",
                f"CREATE TRIGGER {CHAIN_TRIGGER} BEFORE INSERT ON {quoted} "
                "FOR EACH ROW EXECUTE FUNCTION audit_chain_link()",
            ]
        for statement in statements:
            schema_editor.execute(statement)

    def backwards(apps, schema_editor):
        if not _postgresql(schema_editor):
            return
        for trigger in (APPEND_ONLY_TRIGGER, CHAIN_TRIGGER):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {quoted}")

    return forwards, backwards


# --- Reads ------------------------------------------------------------------------------------


def protected_tables() -> list[str]:
    """The tables the append-only trigger guards, read from the database's catalogue."""
    return _tables_with_triggers()[APPEND_ONLY_TRIGGER]


def chained_tables() -> list[str]:
    return _tables_with_triggers()[CHAIN_TRIGGER]


def _tables_with_triggers() -> dict[str, list[str]]:
    tables = {APPEND_ONLY_TRIGGER: [], CHAIN_TRIGGER: []}
    if connection.vendor != "postgresql":
        return tables
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname IN (%s, %s) AND NOT t.tgisinternal ORDER BY c.relname",
            [APPEND_ONLY_TRIGGER, CHAIN_TRIGGER],
        )
        for trigger, table in cursor.fetchall():
            tables[trigger].append(table)
    return tables


@dataclass(frozen=True)
class ChainBreak:
    table: str
    row_id: object
    position: int | None
    reason: str

    def __str__(self) -> str:
        return f"{self.table}: row id {self.row_id} (position {self.position}): {self.reason}"


@dataclass(frozen=True)
class ChainHead:
    table: str
    rows: int
    last_hash: str | None


def verify_table(table: str) -> tuple[ChainHead, ChainBreak | None]:
    """Recompute ``table``'s chain in one pass; the first row whose hash, place or predecessor
    does not match, if any. A row without a place was inserted with the trigger switched off;
    a gap in the places is a deleted row."""
    quoted = connection.ops.quote_name(table)
    query = f"""
        WITH chain AS (
            SELECT id, chain_position, chain_hash,
                   lag(chain_hash) OVER w AS previous_hash,
                   lag(chain_position) OVER w AS previous_position,
                   audit_chain_content(to_jsonb(t)) AS content
            FROM {quoted} t
            WINDOW w AS (ORDER BY chain_position NULLS FIRST, id)
        )
        SELECT id, chain_position,
               CASE
                   WHEN chain_position IS NULL OR chain_hash IS NULL THEN 'not in the chain'
                   WHEN chain_position <> coalesce(previous_position, 0) + 1
                       THEN 'a row before it is missing'
                   WHEN chain_hash <> audit_chain_digest(previous_hash, content)
                       THEN 'its content or its hash was changed'
               END AS reason,
               count(*) OVER () AS total,
               last_value(chain_hash) OVER (
                   ORDER BY chain_position ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
               ) AS head
        FROM chain
        ORDER BY chain_position NULLS FIRST, id
    """  # noqa: S608 (the table name comes from the catalogue, quoted)
    # Django's connections run in UTC, as the chain's trigger does: the JSON is the same.
    with connection.cursor() as cursor:
        cursor.execute(query)
        first_break, rows, head = None, 0, None
        for row_id, position, reason, total, last_hash in cursor:
            rows, head = total, last_hash
            if reason is not None and first_break is None:
                first_break = ChainBreak(table, row_id, position, reason)
                break
    return ChainHead(table, rows, head), first_break


def verify_all() -> tuple[list[ChainHead], list[ChainBreak]]:
    """Every chained table's head and its first break, if any; nothing on SQLite."""
    heads, breaks = [], []
    for table in chained_tables():
        head, first_break = verify_table(table)
        heads.append(head)
        if first_break is not None:
            breaks.append(first_break)
    return heads, breaks
