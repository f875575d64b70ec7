"""The procedure explained to its users: the steps read from the state machine, in plain Dutch,
and each request's step indicator (where it stands, since when, who acts, what to do)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django_fsm import FSMFieldMixin

from hap_contracting.core.roles import Role
from hap_contracting.procedure.constants import AdviceOutcome, AdviceStep, RequestState
from hap_contracting.procedure.models import AdmissionRequest
from hap_contracting.procedure.selectors.admission import admission_request_history
from hap_contracting.procedure.selectors.steps import (
    TRANSITION_MEANINGS,
    procedure_steps,
    request_progress,
)
from hap_contracting.procedure.services import admission as services
from tests.procedure.factories import AdmissionRequestFactory
from tests.procedure.test_procedure import advise, register, run_until_quality_review

S = RequestState
pytestmark = pytest.mark.django_db


def transition_names() -> set[str]:
    field = next(f for f in AdmissionRequest._meta.fields if isinstance(f, FSMFieldMixin))
    return {t.name for t in field.get_all_transitions(AdmissionRequest)}


def test_every_transition_of_the_state_machine_is_explained_in_plain_words():
    assert set(TRANSITION_MEANINGS) == transition_names()


def test_the_steps_run_from_the_request_to_contracting_in_the_order_of_the_procedure():
    steps = procedure_steps()

    assert [step.state for step in steps] == [
        S.RECEIVED,
        S.PRE_ASSESSMENT,
        S.QUALITY_REVIEW,
        S.COUNCIL_REVIEW,
        S.CONTRACTING,
    ]
    assert [step.number for step in steps] == [1, 2, 3, 4, 5]


def test_each_step_names_who_acts_from_the_roles_in_its_rules():
    actors = {step.state: step.actors for step in procedure_steps()}

    assert actors[S.PRE_ASSESSMENT][0] == Role.LOCATION_MANAGER.label
    assert actors[S.QUALITY_REVIEW][0] == Role.QUALITY_TEAM.label
    assert actors[S.COUNCIL_REVIEW][0] == Role.REGIONAL_COUNCIL.label
    assert actors[S.CONTRACTING] == (Role.LOCATION_MANAGER.label, Role.SECRETARIAT.label)
    # Withdrawing is told once for all steps, so the secretariat is not "who acts" at each.
    assert Role.SECRETARIAT.label not in actors[S.QUALITY_REVIEW]


def test_the_request_can_be_withdrawn_until_the_council_decides_by_requester_or_secretariat():
    from hap_contracting.procedure.selectors.steps import withdrawal

    told = withdrawal()

    assert told.steps == (
        "Aanvraag ontvangen",
        "Vooronderzoek",
        "Advies van het kwaliteitsteam",
        "Besluit van de regioraad",
    )
    assert {exit.actor for exit in told.exits} == {"De aanvrager", Role.SECRETARIAT.label}


def test_a_negative_advice_at_any_step_is_shown_as_ending_the_procedure():
    steps = {step.state: step for step in procedure_steps()}

    for state in (S.PRE_ASSESSMENT, S.QUALITY_REVIEW, S.COUNCIL_REVIEW):
        ending = [e for e in steps[state].exits if e.target == S.REJECTED]
        assert ending and all(e.ends_procedure for e in ending)
    send_back = next(e for e in steps[S.QUALITY_REVIEW].exits if e.target == S.PRE_ASSESSMENT)
    assert send_back.goes_back and not send_back.ends_procedure


def test_the_procedure_page_is_in_dutch_without_code_names(client, staff):
    client.force_login(staff[Role.LOCATION_MANAGER])

    page = client.get(reverse("procedure:procedure_graph")).content.decode()

    for code_word in ("forward_to_location_manager", "has_role", "in_region_of", "_advise_"):
        assert code_word not in page
    for dutch in ("Vooronderzoek", "Advies van het kwaliteitsteam", "Besluit van de regioraad"):
        assert dutch in page
    assert "de locatie krijgt geen ANW-contract" in page
    assert page.count('class="procedure-diagram__step') == 6


def test_a_request_at_the_quality_team_shows_the_steps_done_and_the_current_one(staff, location):
    request = AdmissionRequestFactory(at_quality_team=True, location=location)
    request.state_entered_at = timezone.now() - datetime.timedelta(days=12)

    progress = request_progress(request, history=[])

    assert [mark.status for mark in progress.marks] == [
        "done",
        "done",
        "current",
        "todo",
        "todo",
    ]
    assert progress.waiting_days == 12
    assert progress.current.state == S.QUALITY_REVIEW
    assert not progress.ended


def test_contracting_says_whether_the_location_manager_or_the_secretariat_acts(location):
    request = AdmissionRequestFactory(in_contracting=True, location=location)

    waiting_for_outcome = request_progress(request, history=[]).task
    request.outcome_recorded_at = timezone.now()
    waiting_for_contract = request_progress(request, history=[]).task

    assert "locatiemanager" in waiting_for_outcome
    assert "secretariaat" in waiting_for_contract


def test_a_request_rejected_by_the_quality_team_shows_the_procedure_ended_there(staff, location):
    request = run_until_quality_review(staff, location)
    advise(request, staff[Role.QUALITY_TEAM], AdviceStep.QUALITY_TEAM, AdviceOutcome.NEGATIVE)

    progress = request_progress(request, admission_request_history(request))

    assert [mark.status for mark in progress.marks] == ["done", "done", "ended", "todo", "todo"]
    assert progress.ended and progress.current is None


def test_a_request_withdrawn_on_arrival_ended_at_the_first_step(staff, location):
    request = register(staff, location)
    services.admission_request_withdraw(
        admission_request=request, by=staff[Role.SECRETARIAT], reason="Ingetrokken."
    )

    progress = request_progress(request, admission_request_history(request))

    assert [mark.status for mark in progress.marks][:2] == ["ended", "todo"]


def test_the_request_page_marks_the_current_step_and_says_since_when(client, staff, location):
    request = AdmissionRequestFactory(at_council=True, location=location)
    client.force_login(staff[Role.SECRETARIAT])

    page = client.get(reverse("procedure:request_detail", args=[request.pk])).content.decode()

    assert 'aria-current="step"' in page
    assert 'data-testid="waiting-since"' in page
    assert "Besluit van de regioraad" in page
