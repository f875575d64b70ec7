"""What blocks a step shows before the user fills in its form, from the transition's own
condition (the rule in one place): the checklist that blocks a positive advice, the location
manager's outcome that completing contracting waits for."""

import pytest
from django.urls import reverse

from hap_contracting.core.roles import Role
from hap_contracting.procedure.actions import action_blockers, blocked_actions
from hap_contracting.procedure.constants import RequestState
from hap_contracting.procedure.models import positive_advice_blockers
from tests.checklist.factories import submitted_assessment
from tests.procedure.factories import AdmissionRequestFactory

pytestmark = pytest.mark.django_db
OUTCOME_MISSING = "De locatiemanager moet de uitkomst vastleggen"


def test_the_advice_form_says_why_a_positive_advice_is_not_offered(client, location):
    request = AdmissionRequestFactory(in_pre_assessment=True, location=location)
    client.force_login(request.assigned_location_manager)

    response = client.get(
        reverse("procedure:request_action", args=[request.pk, "advise-location-manager"])
    )

    assert response.context["blockers"] == positive_advice_blockers(request)
    assert [value for value, _label in response.context["form"].fields["outcome"].choices] == [
        "negative"
    ]
    page = response.content.decode()
    assert 'data-testid="advice-blockers"' in page
    assert "De checklist is nog niet ingevuld." in page
    assert 'value="positive"' not in page


def test_once_the_checklist_allows_it_a_positive_advice_is_offered_without_a_warning(
    client, location
):
    request = AdmissionRequestFactory(in_pre_assessment=True, location=location)
    submitted_assessment(request)
    client.force_login(request.assigned_location_manager)

    response = client.get(
        reverse("procedure:request_action", args=[request.pk, "advise-location-manager"])
    )

    assert 'value="positive"' in response.content.decode()
    assert 'data-testid="advice-blockers"' not in response.content.decode()


def test_the_request_page_says_completing_contracting_waits_for_the_outcome(
    client, staff, location
):
    request = AdmissionRequestFactory(
        in_contracting=True,
        location=location,
        assigned_location_manager=staff[Role.LOCATION_MANAGER],
    )
    client.force_login(staff[Role.SECRETARIAT])

    response = client.get(reverse("procedure:request_detail", args=[request.pk]))

    [blocked] = response.context["blocked_actions"]
    assert blocked.action.slug == "complete-contracting"
    assert 'data-testid="blocked-action"' in response.content.decode()
    assert OUTCOME_MISSING in response.content.decode()
    assert "complete-contracting" not in [a.slug for a in response.context["actions"]]


def test_the_complete_contracting_form_says_it_waits_for_the_outcome(client, staff, location):
    request = AdmissionRequestFactory(
        in_contracting=True,
        location=location,
        assigned_location_manager=staff[Role.LOCATION_MANAGER],
    )
    client.force_login(staff[Role.SECRETARIAT])

    response = client.get(reverse("contracts:complete_contracting", args=[request.pk]))

    assert response.context["step_blockers"]
    assert 'data-testid="step-blockers"' in response.content.decode()
    assert OUTCOME_MISSING in response.content.decode()


def test_nothing_is_said_to_wait_once_the_outcome_is_recorded(staff, location):
    from django.utils import timezone

    request = AdmissionRequestFactory(
        in_contracting=True,
        location=location,
        assigned_location_manager=staff[Role.LOCATION_MANAGER],
        outcome_recorded_at=timezone.now(),
    )

    assert blocked_actions(request, staff[Role.SECRETARIAT]) == []
    assert action_blockers(request, staff[Role.SECRETARIAT], "complete-contracting") == []


def test_another_role_is_not_told_about_a_step_that_is_not_theirs(staff, location):
    request = AdmissionRequestFactory(
        in_contracting=True,
        location=location,
        assigned_location_manager=staff[Role.LOCATION_MANAGER],
    )

    assert blocked_actions(request, staff[Role.QUALITY_TEAM]) == []
    assert request.state == RequestState.CONTRACTING
