"""The history can't be rewritten: not in the admin, and on PostgreSQL not even by SQL."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from hap_contracting.core.roles import Role
from hap_contracting.procedure.constants import AdviceOutcome, AdviceStep, RequestState
from hap_contracting.procedure.models import Advice, TransitionLog
from hap_contracting.procedure.services import admission as services
from tests.procedure.factories import AdmissionRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided_request(staff, location):
    request = AdmissionRequestFactory(at_council=True, location=location)
    services.admission_request_advise(
        admission_request=request,
        by=staff[Role.REGIONAL_COUNCIL],
        step=AdviceStep.REGIONAL_COUNCIL,
        outcome=AdviceOutcome.NEGATIVE,
        motivation="Afgewezen in de vergadering.",
    )
    return request


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE django_fsm_log_statelog SET description = 'herschreven'",
        "DELETE FROM django_fsm_log_statelog",
        "UPDATE hap_contracting_advice SET outcome = 'positive'",
        "DELETE FROM hap_contracting_advice",
    ],
)
def test_history_rows_cannot_be_changed_by_sql(decided_request, statement):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)

    entry = TransitionLog.objects.get()
    assert entry.description == "Afgewezen in de vergadering."
    assert Advice.objects.get().outcome == AdviceOutcome.NEGATIVE


@pytest.mark.postgres
def test_history_rows_cannot_be_changed_through_the_orm(decided_request):
    entry = TransitionLog.objects.get()
    entry.description = "herschreven"

    with pytest.raises(DatabaseError), transaction.atomic():
        entry.save()


def test_the_admin_offers_no_way_to_edit_or_delete_history(client, decided_request, make_user):
    superuser = make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True)
    client.force_login(superuser)
    entry = TransitionLog.objects.get()

    change = client.get(reverse("admin:procedure_transitionlog_change", args=[entry.pk]))
    delete = client.post(
        reverse("admin:procedure_transitionlog_delete", args=[entry.pk]), {"post": "yes"}
    )
    tampered = client.post(
        reverse("admin:procedure_transitionlog_change", args=[entry.pk]),
        {"description": "herschreven"},
    )

    assert change.status_code == 200
    assert b'name="_save"' not in change.content
    assert delete.status_code == 403
    assert tampered.status_code == 403
    entry.refresh_from_db()
    assert entry.description == "Afgewezen in de vergadering."
    assert decided_request.state == RequestState.REJECTED
