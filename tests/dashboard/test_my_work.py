""" "Mijn werk": for every role, what to do (not in which state a request is), most urgent
first, and the count beside it in the menu."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from hap_contracting.billing.constants import ClaimImportStatus, InvoiceState
from hap_contracting.billing.models import Invoice
from hap_contracting.core.roles import Role
from hap_contracting.dashboard import selectors
from hap_contracting.procedure.constants import (
    AdviceOutcome,
    AdviceStep,
    ClockEventKind,
    RequestState,
)
from hap_contracting.procedure.models import Advice, ClockEvent
from hap_contracting.procedure.services import admission as admission_services
from hap_contracting.tariffs.models import Act
from tests.billing.factories import AddressInvestigationFactory, ClaimImportFactory
from tests.organisations.factories import CareLocationFactory, CareOrganisationFactory
from tests.procedure.factories import AdmissionRequestFactory

pytestmark = pytest.mark.django_db


def _drafts(count):
    organisation = CareOrganisationFactory()
    for month in range(1, count + 1):
        Invoice.objects.create(organisation=organisation, period=datetime.date(2026, month, 1))


def _tasks(response) -> dict[str, str]:
    return {task.key: task.action for task in response.context["tasks"]}


def test_the_quality_team_sees_the_advice_to_give_and_how_long_it_waits(client, staff, location):
    request = AdmissionRequestFactory(at_quality_team=True, location=location)
    type(request).objects.filter(pk=request.pk).update(
        state_entered_at=timezone.now() - datetime.timedelta(days=12)
    )
    client.force_login(staff[Role.QUALITY_TEAM])

    html = client.get(reverse("dashboard:my_work")).content.decode()

    assert f"Advies geven over {location.name}" in html
    assert "wacht 12 dagen" in html


def test_finance_sees_the_draft_invoices_to_approve_instead_of_nothing(client, staff):
    _drafts(3)
    client.force_login(staff[Role.FINANCE])

    response = client.get(reverse("dashboard:my_work"))

    assert _tasks(response)["invoices_to_approve"] == "3 conceptfacturen controleren en goedkeuren"
    assert "Er wacht niets op u" not in response.content.decode()
    assert f'href="{reverse("billing:invoice_list")}?state=draft"' in response.content.decode()


def test_finance_is_not_asked_to_approve_the_drafts_they_made(client, staff):
    _drafts(3)
    Invoice.objects.filter(period__month=1).update(created_by=staff[Role.FINANCE])
    client.force_login(staff[Role.FINANCE])

    response = client.get(reverse("dashboard:my_work"))

    assert _tasks(response)["invoices_to_approve"] == "2 conceptfacturen controleren en goedkeuren"


def test_one_draft_invoice_reads_in_the_singular(client, staff):
    _drafts(1)
    client.force_login(staff[Role.FINANCE])

    response = client.get(reverse("dashboard:my_work"))

    assert _tasks(response)["invoices_to_approve"] == "1 conceptfactuur controleren en goedkeuren"


def test_a_rejected_claims_file_waits_until_a_later_file_is_imported(client, staff):
    ClaimImportFactory(status=ClaimImportStatus.REJECTED)
    client.force_login(staff[Role.FINANCE])

    before = _tasks(client.get(reverse("dashboard:my_work")))
    ClaimImportFactory(status=ClaimImportStatus.IMPORTED)
    after = _tasks(client.get(reverse("dashboard:my_work")))

    assert "imports_with_errors" in before
    assert "imports_with_errors" not in after


def test_the_location_manager_sees_the_open_address_investigations_of_the_region(
    client, staff, zwolle, flevoland
):
    AddressInvestigationFactory(post=zwolle.posts.get())
    AddressInvestigationFactory(post=zwolle.posts.get(), notified_on=timezone.localdate())
    AddressInvestigationFactory(post=flevoland.posts.get())
    client.force_login(staff[Role.LOCATION_MANAGER])

    tasks = _tasks(client.get(reverse("dashboard:my_work")))

    assert tasks["open_investigations"].endswith("1 open adresonderzoek")


@pytest.mark.parametrize(("day", "warned"), [("2026-11-15", True), ("2026-06-15", False)])
def test_the_administrator_is_reminded_of_next_years_tariffs_from_november(
    client, staff, day, warned
):
    Act.objects.get_or_create(code="TEST-ACT", defaults={"name": "Zonder tarief"})
    client.force_login(staff[Role.ADMINISTRATOR])

    with time_machine.travel(datetime.datetime.fromisoformat(f"{day} 10:00+01:00"), tick=False):
        tasks = _tasks(client.get(reverse("dashboard:my_work")))

    assert ("tariffs_next_year" in tasks) is warned


def test_a_request_past_its_completion_deadline_comes_first(client, staff, location):
    manager, secretary = staff[Role.LOCATION_MANAGER], staff[Role.SECRETARIAT]
    # Waiting longest, but within the intake's norm (two weeks).
    waiting_longest = AdmissionRequestFactory(
        location=location, received_on=timezone.localdate() - datetime.timedelta(days=10)
    )
    type(waiting_longest).objects.filter(pk=waiting_longest.pk).update(
        state_entered_at=timezone.now() - datetime.timedelta(days=10)
    )
    overdue = AdmissionRequestFactory(
        in_contracting=True,
        location=CareLocationFactory(hap_post=location.hap_post),
        assigned_location_manager=manager,
        outcome_recorded_at=timezone.now(),
    )
    Advice.objects.create(
        admission_request=overdue,
        step=AdviceStep.REGIONAL_COUNCIL,
        outcome=AdviceOutcome.POSITIVE,
        motivation="Akkoord.",
        decided_on=timezone.localdate() - datetime.timedelta(days=200),
        decided_by=manager,
    )
    client.force_login(secretary)

    rows = client.get(reverse("dashboard:my_work")).context["page"].object_list

    assert [row.pk for row in rows] == [overdue.pk, waiting_longest.pk]
    assert rows[0].action == f"Getekend contract van {overdue.location.name} vastleggen"


def test_the_menu_counts_what_waits_and_follows_a_change_at_once(client, staff, location):
    request = AdmissionRequestFactory(at_council=True, location=location)
    client.force_login(staff[Role.REGIONAL_COUNCIL])

    before = client.get(reverse("procedure:request_list")).content.decode()
    admission_services.admission_request_advise(
        admission_request=request,
        by=staff[Role.REGIONAL_COUNCIL],
        step=AdviceStep.REGIONAL_COUNCIL,
        outcome=AdviceOutcome.POSITIVE,
        motivation="Akkoord na advies van het kwaliteitsteam.",
    )
    after = client.get(reverse("procedure:request_list")).content.decode()

    assert 'data-testid="my-work-count">1<' in before
    assert 'data-testid="my-work-count"' not in after


def test_finance_work_runs_a_constant_number_of_queries(
    client, staff, django_assert_max_num_queries
):
    _drafts(12)
    for _ in range(5):
        ClaimImportFactory(status=ClaimImportStatus.REJECTED)
        AddressInvestigationFactory()
    client.force_login(staff[Role.FINANCE])
    selectors.work_changed()

    # Login and session, the requests, the lapsed contracts, finance's three counts (once for
    # the page, once for the menu's count): the same however many invoices, files or addresses.
    with django_assert_max_num_queries(9):
        response = client.get(reverse("dashboard:my_work"))

    assert _tasks(response)["invoices_to_approve"].startswith("12 ")
    assert Invoice.objects.filter(state=InvoiceState.DRAFT).count() == 12


def test_the_administrator_sees_the_logins_locked_after_failed_attempts(client, staff, settings):
    from axes.models import AccessAttempt

    AccessAttempt.objects.create(
        username="locatiemanager.zwolle",
        ip_address="10.0.0.1",
        user_agent="test",
        failures_since_start=settings.AXES_FAILURE_LIMIT,
        attempt_time=timezone.now(),
    )
    AccessAttempt.objects.create(
        username="iemand.anders", ip_address="10.0.0.2", user_agent="test", failures_since_start=1
    )
    client.force_login(staff[Role.ADMINISTRATOR])

    tasks = _tasks(client.get(reverse("dashboard:my_work")))

    assert tasks["locked_out_logins"].startswith("1 inlog")


def test_finance_sees_the_overdue_invoices_first(client, staff):
    organisation = CareOrganisationFactory()
    Invoice.objects.create(
        organisation=organisation,
        period=datetime.date(2026, 9, 1),
        state=InvoiceState.SENT,
        number="2026-09999",
        total="100.00",
        due_date=timezone.localdate() - datetime.timedelta(days=1),
    )
    client.force_login(staff[Role.FINANCE])

    tasks = client.get(reverse("dashboard:my_work")).context["tasks"]

    assert tasks[0].key == "overdue_invoices"
    assert tasks[0].action == "1 verlopen factuur opvolgen"


def test_a_request_past_its_steps_norm_comes_first_with_its_deadline(client, staff, location):
    council = staff[Role.REGIONAL_COUNCIL]
    now = timezone.now()
    # Waiting longest, but given three more weeks; the other is past its six weeks.
    longest = AdmissionRequestFactory(
        at_council=True, location=location, state_entered_at=now - datetime.timedelta(days=50)
    )
    ClockEvent.objects.create(
        admission_request=longest,
        step=RequestState.COUNCIL_REVIEW,
        kind=ClockEventKind.EXTENDED,
        days=21,
        reason="Vergadering verschoven.",
        at=now - datetime.timedelta(days=1),
    )
    over = AdmissionRequestFactory(
        at_council=True,
        location=CareLocationFactory(hap_post=location.hap_post),
        state_entered_at=now - datetime.timedelta(days=45),
    )
    near = AdmissionRequestFactory(
        at_council=True,
        location=CareLocationFactory(hap_post=location.hap_post),
        state_entered_at=now - datetime.timedelta(days=38),
    )
    client.force_login(council)

    response = client.get(reverse("dashboard:my_work"))
    rows = response.context["page"].object_list

    assert [row.pk for row in rows] == [over.pk, near.pk, longest.pk]
    assert rows[0].deadline_passed
    assert rows[0].deadline == timezone.localdate(over.state_entered_at) + datetime.timedelta(
        weeks=6
    )
    assert rows[1].deadline_near and not rows[1].deadline_passed
    assert not rows[2].deadline_passed and not rows[2].deadline_near
    assert 'data-testid="deadline-passed"' in response.content.decode()


def test_the_secretariat_sees_the_intake_deadline_counted_from_the_date_received(
    client, staff, location
):
    # Registered today, received three weeks ago: the intake's two weeks ran out a week ago.
    received_on = timezone.localdate() - datetime.timedelta(days=21)
    request = AdmissionRequestFactory(
        location=location, received_on=received_on, state_entered_at=timezone.now()
    )
    client.force_login(staff[Role.SECRETARIAT])

    response = client.get(reverse("dashboard:my_work"))
    [row] = response.context["page"].object_list

    assert row.pk == request.pk
    assert row.deadline == received_on + datetime.timedelta(weeks=2)
    assert row.deadline_passed
    assert f"{location.name} doorsturen naar een locatiemanager" in response.content.decode()


def test_a_regularisation_shows_its_grace_periods_end_when_that_comes_first(
    client, staff, location
):
    today = timezone.localdate()
    now = timezone.now()
    # Waiting longest, within its four weeks and without a grace period.
    plain = AdmissionRequestFactory(
        in_pre_assessment=True, location=location, state_entered_at=now - datetime.timedelta(10)
    )
    # Its grace period ended two days ago, long before its pre-assessment's four weeks.
    grace_passed = AdmissionRequestFactory(
        in_pre_assessment=True,
        location=CareLocationFactory(hap_post=location.hap_post),
        state_entered_at=now - datetime.timedelta(days=1),
        grace_ends_on=today - datetime.timedelta(days=2),
    )
    # Its grace period ends after the four weeks: the step's deadline stays.
    grace_later = AdmissionRequestFactory(
        in_pre_assessment=True,
        location=CareLocationFactory(hap_post=location.hap_post),
        state_entered_at=now - datetime.timedelta(days=2),
        grace_ends_on=today + datetime.timedelta(days=100),
    )
    client.force_login(staff[Role.PROGRAMME_MANAGER])

    response = client.get(reverse("dashboard:my_work"))
    rows = {row.pk: row for row in response.context["page"].object_list}

    assert list(rows) == [grace_passed.pk, plain.pk, grace_later.pk]
    assert rows[grace_passed.pk].deadline == grace_passed.grace_ends_on
    assert rows[grace_passed.pk].deadline_passed
    assert rows[grace_later.pk].deadline == today - datetime.timedelta(days=2) + datetime.timedelta(
        weeks=4
    )
    assert not rows[grace_later.pk].deadline_passed
