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
