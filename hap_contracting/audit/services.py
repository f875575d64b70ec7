"""NEN 7513: every read, search, import and export of claim data by a user is logged with who,
their roles, what, which patient references, and when."""

import hashlib

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from hap_contracting.core.validators import bsn_digits, bsn_hash, looks_like_a_bsn

from .constants import AccessAction, AccessOutcome
from .models import AccessLogEntry, AccessLogReference
from .sources import current_source


def access_log_record(
    *,
    user,
    action: str,
    what: str,
    patient_references: list[str] | tuple = (),
    references_digest: str = "",
    outcome: str = AccessOutcome.SHOWN,
) -> AccessLogEntry:
    """One entry; its source is the request being handled (``middleware.current_source``)."""
    source = current_source.get()
    return AccessLogEntry.objects.create(
        user=user,
        roles=", ".join(sorted(user.role_names)),
        action=action,
        what=what[:200],
        patient_references=", ".join(sorted(set(patient_references))),
        references_digest=references_digest,
        outcome=outcome,
        client_address=source.address,
        user_agent=source.user_agent,
    )


_API_READ_FIELDS = ("at", "api_client", "action", "what", "client_address", "user_agent")
_API_READ_COLUMNS = ", ".join(_API_READ_FIELDS)
_API_READ_PLACEHOLDERS = ", ".join(["%s"] * len(_API_READ_FIELDS))
_API_READ_SQL = (
    f"INSERT INTO {AccessLogEntry._meta.db_table} "  # noqa: S608 (no user input)
    f"({_API_READ_COLUMNS}, roles, patient_references, references_digest, outcome) "
    f"VALUES ({_API_READ_PLACEHOLDERS}, '', '', '', %s) RETURNING id"
)
# The same INSERT, its own transaction committed without waiting for the disk: the chain's
# lock is held from the INSERT to the end of the commit, so a commit that waits for the disk
# makes every other read wait too (a few hundred reads a second at most). The wait for the
# disk comes after, in ``_API_READ_FLUSH_SQL``, outside the lock.
_API_READ_QUICK_COMMIT_SQL = (
    "WITH quick_commit AS (SELECT set_config('synchronous_commit', 'off', true)) "
    f"INSERT INTO {AccessLogEntry._meta.db_table} "  # noqa: S608 (no user input)
    f"({_API_READ_COLUMNS}, roles, patient_references, references_digest, outcome) "
    f"SELECT {_API_READ_PLACEHOLDERS}, '', '', '', %s FROM quick_commit RETURNING id"
)
# A transaction with a number of its own commits normally: it waits until the log is on disk up
# to its commit, and so up to the entry's, which came before it. Concurrent reads share the
# disk's writes (group commit) instead of queueing behind the chain's lock for them.
_API_READ_FLUSH_SQL = "SELECT pg_current_xact_id()"


def access_log_record_api_read(*, client: str, what: str, action: str = AccessAction.VIEW) -> int:
    """A read by a system over an API (``client``: its name); the source is the request. One
    INSERT written out, as the ORM would write it (``at`` now, no patient references): a system
    may read many times a second, each read is logged. Returns the entry's id.

    Outside a transaction, on PostgreSQL, the entry commits on its own without waiting for the
    disk, and a second, empty transaction then waits until the entry is on disk: the entry is
    as durable as with one ordinary commit when this returns (so before the answer goes out),
    but the chain's lock is not held while the disk writes. Inside a transaction the entry
    commits with it, as every other write does."""
    source = current_source.get()
    params = [
        timezone.now(),
        client,
        action,
        what[:200],
        source.address,
        source.user_agent,
        AccessOutcome.SHOWN,
    ]
    commits_alone = connection.vendor == "postgresql" and connection.get_autocommit()
    with connection.cursor() as cursor:
        cursor.execute(_API_READ_QUICK_COMMIT_SQL if commits_alone else _API_READ_SQL, params)
        entry_id = cursor.fetchone()[0]
        if commits_alone:
            cursor.execute(_API_READ_FLUSH_SQL)
    return entry_id


def access_log_record_attempt(*, user, what: str, outcome: str) -> AccessLogEntry | None:
    """A read of patient-linked data that was refused or found nothing is logged too; an
    anonymous visitor (sent to the login) is not a user to log."""
    if not user.is_authenticated:
        return None
    return access_log_record(user=user, action=AccessAction.VIEW, what=what, outcome=outcome)


def references_digest(references: QuerySet) -> str:
    """The SHA-256 of the distinct patient references of ``references`` (a queryset of
    ``values_list("patient_reference", flat=True)``), sorted, one per line: in SQL on
    PostgreSQL, streamed elsewhere, never held as a list."""
    ordered = references.order_by("patient_reference")
    if connection.vendor != "postgresql":
        joined = "\n".join(ordered.iterator(chunk_size=5000))
        return hashlib.sha256(joined.encode()).hexdigest()
    try:
        sql, params = ordered.query.sql_with_params()
    except EmptyResultSet:  # a queryset Django knows to be empty (``none()``)
        return hashlib.sha256(b"").hexdigest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT encode(sha256(convert_to(coalesce(string_agg(named.patient_reference, "
            "E'\\n' ORDER BY named.patient_reference), ''), 'UTF8')), 'hex') "
            f"FROM ({sql}) named",  # noqa: S608 (no user input)
            params,
        )
        return cursor.fetchone()[0]


def access_log_record_many(
    *, user, action: str, what: str, references: QuerySet, shown: int = 1000
) -> AccessLogEntry:
    """An entry for a read that may name very many patients (an export): the text field names
    the first ``shown``; every one of them gets an ``AccessLogReference`` row, inserted by one
    ``INSERT … SELECT`` so no list of references is held in memory. ``references`` is a
    queryset of distinct patient references (``values_list("patient_reference", flat=True)``).
    The entry keeps the digest of them all, so the hash chain covers the rows too."""
    with transaction.atomic():
        entry = access_log_record(
            user=user,
            action=action,
            what=what,
            patient_references=list(references.order_by("patient_reference")[:shown]),
            references_digest=references_digest(references),
        )
        try:
            sql, params = references.order_by().query.sql_with_params()
        except EmptyResultSet:
            return entry
        table = AccessLogReference._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (entry_id, patient_reference) "  # noqa: S608 (no user input)
                f"SELECT %s, named.patient_reference FROM ({sql}) named",
                [entry.pk, *params],
            )
    return entry


def access_log_record_log_read(*, user, entry_ids: list[int], search: str = "") -> AccessLogEntry:
    """A read of the log itself names the entries shown by number, not the patients in them:
    entries never change, so the numbers determine what was seen, and a log read does not copy
    (and so multiply) the patient references of earlier log reads."""
    entries = (
        gettext("entries %(first)s–%(last)s") % {"first": min(entry_ids), "last": max(entry_ids)}
        if entry_ids
        else gettext("no entries")
    )
    what = (
        gettext("access log, search %(search)s: %(entries)s")
        % {"search": search_term_for_the_log(search), "entries": entries}
        if search
        else gettext("access log: %(entries)s") % {"entries": entries}
    )
    return access_log_record(
        user=user, action=AccessAction.SEARCH if search else AccessAction.VIEW, what=what
    )


def search_term_for_the_log(term: str) -> str:
    """What the log keeps of a search term: the term, or, when it is or holds a BSN, its keyed
    hash instead (a BSN is never stored in clear, not even as typed in a search box)."""
    if looks_like_a_bsn(term):
        return gettext("[a BSN, hash %(hash)s]") % {"hash": bsn_hash(bsn_digits(term))[:16]}
    return term
