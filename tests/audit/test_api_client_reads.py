"""A read by a system over an API is in the access log under the client's name; every entry
names exactly one reader, a user or an API client."""

import pytest
from django.db import IntegrityError, transaction

from hap_contracting.audit.constants import AccessAction, AccessOutcome
from hap_contracting.audit.models import AccessLogEntry
from hap_contracting.audit.services import access_log_record_api_read
from hap_contracting.audit.sources import AccessSource, current_source
from hap_contracting.core.roles import Role

pytestmark = pytest.mark.django_db


def test_an_api_read_names_the_client_and_the_requests_source():
    token = current_source.set(AccessSource(address="10.0.0.7", user_agent="TPM-sync/2"))
    try:
        entry_id = access_log_record_api_read(client="TPM", what="triage filter list, version 3")
    finally:
        current_source.reset(token)

    entry = AccessLogEntry.objects.get(pk=entry_id)
    assert entry.at is not None and entry.outcome == AccessOutcome.SHOWN
    assert (entry.roles, entry.patient_references, entry.references_digest) == ("", "", "")
    assert (entry.api_client, entry.user_id, entry.action) == ("TPM", None, AccessAction.VIEW)
    assert (entry.client_address, entry.user_agent) == ("10.0.0.7", "TPM-sync/2")


def test_an_entry_names_a_user_or_an_api_client_not_neither_nor_both(make_user):
    user = make_user(Role.FINANCE)

    with pytest.raises(IntegrityError), transaction.atomic():
        AccessLogEntry.objects.create(action=AccessAction.VIEW, what="nobody read this")
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessLogEntry.objects.create(
            user=user, api_client="TPM", action=AccessAction.VIEW, what="two readers"
        )

    assert not AccessLogEntry.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_api_read_outside_a_transaction_is_committed_and_chained_and_leaves_commits_durable():
    """Outside a transaction the entry commits on its own without waiting for the disk, then a
    second commit waits for it (``access_log_record_api_read``): the entry is committed, in the
    chain, and the connection's later commits wait for the disk again."""
    from django.db import connection

    from hap_contracting.core.chain import verify_table

    first = access_log_record_api_read(client="TPM", what="triage verdict, first")
    second = access_log_record_api_read(client="TPM", what="triage verdict, second")

    assert connection.get_autocommit()
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
        cursor.execute(
            "SELECT id, chain_position FROM audit_accesslogentry WHERE id IN (%s, %s) ORDER BY id",
            [first, second],
        )
        (_, first_position), (_, second_position) = cursor.fetchall()
    assert second_position == first_position + 1
    head, chain_break = verify_table(AccessLogEntry._meta.db_table)
    assert chain_break is None and head.rows == 2
