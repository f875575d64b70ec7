"""What an advice or decision form offers comes from the state machine: the outcomes the step's
transitions record that this user may take now."""

import pytest

from hap_contracting.core.roles import Role
from hap_contracting.procedure.actions import ACTIONS, available_actions
from hap_contracting.procedure.constants import AdviceOutcome, AdviceStep
from hap_contracting.procedure.selectors.admission import advice_choices
from tests.checklist.factories import submitted_assessment
from tests.procedure.factories import AdmissionRequestFactory

pytestmark = pytest.mark.django_db
OUTCOME = AdviceOutcome


def values(choices):
    return [value for value, _label in choices]


def test_the_quality_team_may_advise_either_way_or_send_the_request_back(staff, location):
    request = AdmissionRequestFactory(at_quality_team=True, location=location)

    choices = advice_choices(request, staff[Role.QUALITY_TEAM], AdviceStep.QUALITY_TEAM)

    assert values(choices) == [OUTCOME.POSITIVE, OUTCOME.NEGATIVE, OUTCOME.MORE_INFORMATION]


def test_the_council_decides_in_the_words_its_decision_then_reads(staff, location):
    """One word for one thing: the council chose "Akkoord" and the result read "Positief"."""
    request = AdmissionRequestFactory(at_council=True, location=location)

    choices = advice_choices(request, staff[Role.REGIONAL_COUNCIL], AdviceStep.REGIONAL_COUNCIL)

    assert [(value, str(label)) for value, label in choices] == [
        (OUTCOME.POSITIVE, str(OUTCOME.POSITIVE.label)),
        (OUTCOME.NEGATIVE, str(OUTCOME.NEGATIVE.label)),
    ]
    assert [str(label) for _value, label in choices] == ["Positief", "Negatief"]


def test_the_location_manager_advises_positively_or_negatively_once_the_checklist_allows_it(
    location,
):
    request = AdmissionRequestFactory(in_pre_assessment=True, location=location)
    submitted_assessment(request)
    manager = request.assigned_location_manager

    choices = advice_choices(request, manager, AdviceStep.LOCATION_MANAGER)

    assert values(choices) == [OUTCOME.POSITIVE, OUTCOME.NEGATIVE]


def test_a_positive_advice_the_checklist_blocks_is_not_offered(location):
    """The checklist's rule (the transition's condition) decides what the form offers: before,
    a location manager could choose "positive" and only learn on submit that it was refused."""
    request = AdmissionRequestFactory(in_pre_assessment=True, location=location)
    manager = request.assigned_location_manager

    choices = advice_choices(request, manager, AdviceStep.LOCATION_MANAGER)

    assert values(choices) == [OUTCOME.NEGATIVE]


def test_another_role_is_offered_the_step_and_then_refused_by_the_service(staff, location):
    request = AdmissionRequestFactory(at_council=True, location=location)
    quality_team = staff[Role.QUALITY_TEAM]

    choices = advice_choices(request, quality_team, AdviceStep.REGIONAL_COUNCIL)

    assert values(choices) == [OUTCOME.POSITIVE, OUTCOME.NEGATIVE]
    assert ACTIONS["decide-council"] not in available_actions(request, quality_team)


def test_a_step_the_request_is_not_at_offers_no_action(staff, location):
    request = AdmissionRequestFactory(at_quality_team=True, location=location)

    assert available_actions(request, staff[Role.REGIONAL_COUNCIL]) == []
    assert [action.slug for action in available_actions(request, staff[Role.QUALITY_TEAM])] == [
        "advise-quality-team"
    ]
