"""The history and the access log are append-only in the database itself, and a hash chain shows
any change the tables' owner makes (NEN 7513). On PostgreSQL, as the application's own role."""

import io
import logging

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from hap_contracting.audit.constants import AccessAction
from hap_contracting.audit.models import AccessLogEntry, AccessLogReference
from hap_contracting.audit.services import (
    access_log_record,
    access_log_record_api_read,
    access_log_record_many,
)
from hap_contracting.contracts.constants import ContractEventKind
from hap_contracting.contracts.models import ContractEvent
from hap_contracting.core.chain import chained_tables, protected_tables
from hap_contracting.core.roles import Role
from hap_contracting.operations.services import daily_job
from hap_contracting.organisations.constants import WkkgzSituation
from hap_contracting.organisations.models import ClassificationChange
from hap_contracting.procedure.constants import (
    AdviceOutcome,
    AdviceStep,
    ClockEventKind,
    RequestState,
)
from hap_contracting.procedure.models import ClockEvent
from hap_contracting.procedure.services import admission as procedure_services
from hap_contracting.triage.constants import TriageFilterReason
from hap_contracting.triage.services import triage_filter_list
from tests.contracts.factories import ContractFactory
from tests.procedure.factories import AdmissionRequestFactory

# Transactional, so that the application role's own connection sees the rows; serialized, as the
# suite's other transactional tests, so that the flush keeps the data migrations' rows.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

APP_ROLE = "hap_test_app"
TABLES = {
    "accounts_userchange",
    "audit_accesslogentry",
    "audit_accesslogreference",
    "billing_invoicedelivery",
    "billing_invoicedeliveryoutcome",
    "billing_payment",
    "contracts_contractevent",
    "django_fsm_log_statelog",
    "organisations_classificationchange",
    "procedure_advice",
    "procedure_clockevent",
    "triage_triagelistchange",
}


@pytest.fixture
def history(staff, location):
    """A row in every protected table, written the way the application writes them."""
    request = AdmissionRequestFactory(location=location)
    procedure_services.admission_request_forward(
        admission_request=request,
        by=staff[Role.SECRETARIAT],
        location_manager=staff[Role.LOCATION_MANAGER],
    )
    procedure_services.admission_request_advise(
        admission_request=request,
        by=staff[Role.LOCATION_MANAGER],
        step=AdviceStep.LOCATION_MANAGER,
        outcome=AdviceOutcome.NEGATIVE,
        motivation="Geen voorwacht op locatie.",
    )
    ClockEvent.objects.create(
        admission_request=request,
        step=RequestState.PRE_ASSESSMENT,
        kind=ClockEventKind.EXTENDED,
        days=7,
        reason="Locatie gesloten wegens verbouwing.",
    )
    ContractEvent.objects.create(
        contract=ContractFactory(location=location), kind=ContractEventKind.CREATED
    )
    ClassificationChange.objects.create(
        location=location, new_situation=WkkgzSituation.WLZ_INSTITUTION, by=staff[Role.SECRETARIAT]
    )
    access_log_record(user=staff[Role.FINANCE], action=AccessAction.VIEW, what="factuur 1")
    access_log_record_many(
        user=staff[Role.FINANCE],
        action=AccessAction.EXPORT,
        what="factuurregels",
        references=AccessLogReference.objects.none().values_list("patient_reference", flat=True),
    )
    entry = access_log_record(user=staff[Role.FINANCE], action=AccessAction.EXPORT, what="x")
    AccessLogReference.objects.create(entry=entry, patient_reference="ZK-000001")
    access_log_record_api_read(client="TPM", what="triage filter list, version 1")
    triage_filter_list(
        {location.pk: timezone.localdate()}, reason=TriageFilterReason.BILLED_WITHOUT_CONTRACT
    )
    return request


@pytest.fixture
def as_app_role(db):
    """A connection to the test database as the application's role, after the grants."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = %s) THEN "
            f"CREATE ROLE {APP_ROLE} LOGIN; END IF; END $$",
            [APP_ROLE],
        )
    call_command("grant_database_roles", APP_ROLE, stdout=io.StringIO())
    call_command("grant_database_roles", APP_ROLE, stdout=io.StringIO())  # idempotent
    params = connection.get_connection_params()
    conninfo = {key: params[key] for key in ("dbname", "host", "port") if params.get(key)}
    with psycopg.connect(**conninfo, user=APP_ROLE, autocommit=True) as app:
        yield app


def count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608
        return cursor.fetchone()[0]


def test_the_history_and_the_access_log_are_protected_and_chained():
    assert set(protected_tables()) == TABLES
    assert set(chained_tables()) == TABLES - {"audit_accesslogreference"}


@pytest.mark.parametrize(
    "attack",
    [
        'TRUNCATE "{table}" CASCADE',
        'ALTER TABLE "{table}" DISABLE TRIGGER audit_append_only',
        "SET LOCAL pgtrigger.ignore = 'audit_append_only'; UPDATE \"{table}\" SET id = id",
        'DELETE FROM "{table}"',
        'UPDATE "{table}" SET id = id',
    ],
    ids=["truncate", "disable-trigger", "ignore-setting-then-update", "delete", "update"],
)
def test_the_application_role_cannot_change_or_remove_a_row(history, as_app_role, attack):
    before = {table: count(table) for table in TABLES}

    for table in TABLES:
        with pytest.raises(psycopg.errors.InsufficientPrivilege), as_app_role.transaction():
            for statement in attack.format(table=table).split("; "):
                as_app_role.execute(statement)

    assert {table: count(table) for table in TABLES} == before
    call_command("verify_audit_trail", stdout=io.StringIO())


def test_the_application_role_reads_and_adds_to_the_log(history, as_app_role, staff):
    rows = as_app_role.execute("SELECT count(*) FROM audit_accesslogentry").fetchone()[0]
    as_app_role.execute(
        "INSERT INTO audit_accesslogentry (at, user_id, roles, action, what, patient_references,"
        " references_digest, outcome, user_agent) VALUES (now(), %s, 'finance', 'view', 'y',"
        " '', '', 'shown', '')",
        [staff[Role.FINANCE].pk],
    )

    assert count("audit_accesslogentry") == rows + 1
    call_command("verify_audit_trail", stdout=io.StringIO())


def test_even_the_session_setting_of_django_pgtrigger_does_not_switch_the_trigger_off(history):
    with pytest.raises(Exception, match="append-only"), connection.cursor() as cursor:
        cursor.execute("SET pgtrigger.ignore = 'audit_append_only'")
        cursor.execute("UPDATE procedure_advice SET motivation = 'Toch positief.'")


def owner_changes(statement: str, table: str) -> None:
    """What a database administrator (the tables' owner) could do: switch the trigger off."""
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER audit_append_only')
        cursor.execute(statement)
        cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER audit_append_only')


def verify() -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit_trail", stdout=out, stderr=err)
    except CommandError:
        return out.getvalue(), err.getvalue()
    return out.getvalue(), ""


def test_an_intact_trail_verifies(history):
    out, broken = verify()

    assert broken == ""
    assert "Every chain is intact." in out
    assert "procedure_advice: 1 rows" in out


def test_verify_names_the_row_the_owner_changed(history):
    advice_id = history.advices.get().pk

    owner_changes(
        f"UPDATE procedure_advice SET motivation = 'Positief.' WHERE id = {advice_id}",
        "procedure_advice",
    )
    _out, broken = verify()

    assert f"BROKEN procedure_advice: row id {advice_id} (position 1)" in broken
    assert "content or its hash was changed" in broken


def test_verify_finds_a_deleted_row_at_the_row_after_it(history):
    first, second = AccessLogEntry.objects.order_by("pk")[:2]

    owner_changes(f"DELETE FROM audit_accesslogentry WHERE id = {first.pk}", "audit_accesslogentry")
    _out, broken = verify()

    assert f"audit_accesslogentry: row id {second.pk}" in broken
    assert "a row before it is missing" in broken


def test_verify_finds_a_changed_patient_of_an_export(history, staff):
    from hap_contracting.billing.models import Claim
    from tests.billing.factories import ClaimFactory

    ClaimFactory(patient_reference="ZK-777")
    entry = access_log_record_many(
        user=staff[Role.FINANCE],
        action=AccessAction.EXPORT,
        what="export",
        references=Claim.objects.values_list("patient_reference", flat=True).distinct(),
    )
    assert verify()[1] == ""

    owner_changes(
        "UPDATE audit_accesslogreference SET patient_reference = 'ZK-778' "
        f"WHERE entry_id = {entry.pk}",
        "audit_accesslogreference",
    )

    assert f"audit_accesslogreference: row id {entry.pk}" in verify()[1]


def test_the_daily_job_reports_a_broken_trail_as_an_error(history, caplog):
    owner_changes("UPDATE contracts_contractevent SET description = 'x'", "contracts_contractevent")

    with caplog.at_level(logging.INFO, logger="hap_contracting.operations.services"):
        report = daily_job()

    assert report.audit_trail_breaks == 1
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1 and "contracts_contractevent" in errors[0].getMessage()
