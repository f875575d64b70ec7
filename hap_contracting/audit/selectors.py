"""Reads of the audit trail: its integrity check."""

from django.db import connection

from hap_contracting.core.chain import ChainBreak, ChainHead, verify_all

# The patients of an export are not chained one by one: the entry keeps their digest
# (``services.references_digest``), and the entry is chained.
REFERENCES_CHECK = r"""
    SELECT e.id
    FROM audit_accesslogentry e
    CROSS JOIN LATERAL (
        SELECT encode(sha256(convert_to(coalesce(
                   string_agg(r.patient_reference, E'\n' ORDER BY r.patient_reference), ''
               ), 'UTF8')), 'hex') AS digest
        FROM audit_accesslogreference r
        WHERE r.entry_id = e.id
    ) stored
    WHERE e.references_digest <> '' AND e.references_digest <> stored.digest
    ORDER BY e.id
    LIMIT 1
"""


def references_break() -> ChainBreak | None:
    """The first access-log entry whose patients (``AccessLogReference``) no longer match the
    digest the entry was written with."""
    with connection.cursor() as cursor:
        cursor.execute(REFERENCES_CHECK)
        row = cursor.fetchone()
    if row is None:
        return None
    return ChainBreak("audit_accesslogreference", row[0], None, "its patients were changed")


def audit_trail_check() -> tuple[list[ChainHead], list[ChainBreak]]:
    """Every history and access-log chain's head, and where each is broken (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        return [], []
    heads, breaks = verify_all()
    patients = references_break()
    return heads, breaks + ([patients] if patients else [])
