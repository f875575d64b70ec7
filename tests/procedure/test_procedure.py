"""The admission procedure, step by step (seed 004, appendix 5)."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from hap_contracting.contracts.services import contracts as contract_services
from hap_contracting.core.errors import DomainError
from hap_contracting.core.roles import Role
from hap_contracting.core.text import TextLimit
from hap_contracting.procedure.constants import AdviceOutcome, AdviceStep, RequestKind, RequestState
from hap_contracting.procedure.models import Advice
from hap_contracting.procedure.selectors.admission import admission_request_history
from hap_contracting.procedure.services import admission as services
from tests.checklist.factories import submitted_assessment
from tests.contracts.factories import without_treatment_terms
from tests.organisations.factories import CareLocationFactory
from tests.procedure.factories import AdmissionRequestFactory

S = RequestState
pytestmark = pytest.mark.django_db


def register(staff, location, **overrides):
    data = {
        "by": staff[Role.SECRETARIAT],
        "location": location,
        "kind": RequestKind.NEW_ENTRANT,
        "requester_name": "M. van den Berg",
        "requester_email": "aanvrager@example.org",
        "received_on": timezone.localdate(),
    } | overrides
    return services.admission_request_register(**data)


def advise(request, by, step, outcome, motivation="Gemotiveerd advies."):
    return services.admission_request_advise(
        admission_request=request, by=by, step=step, outcome=outcome, motivation=motivation
    )


def run_until_quality_review(staff, location):
    request = register(staff, location)
    services.admission_request_forward(
        admission_request=request,
        by=staff[Role.SECRETARIAT],
        location_manager=staff[Role.LOCATION_MANAGER],
    )
    submitted_assessment(request)
    advise(
        request, staff[Role.LOCATION_MANAGER], AdviceStep.LOCATION_MANAGER, AdviceOutcome.POSITIVE
    )
    return request


def test_secretariat_registers_a_request_as_received(staff, location):
    request = register(staff, location)

    assert request.state == S.RECEIVED
    assert request.created_by == staff[Role.SECRETARIAT]


def test_a_second_open_request_for_the_same_location_is_refused(staff, location):
    first = register(staff, location)

    with pytest.raises(DomainError) as error:
        register(staff, location)

    assert error.value.field == "location"
    assert first.reference in error.value.message


def test_a_received_date_in_the_future_is_refused(staff, location):
    with pytest.raises(DomainError) as error:
        register(staff, location, received_on=timezone.localdate() + datetime.timedelta(days=1))

    assert error.value.field == "received_on"


def test_forwarding_assigns_the_location_manager_and_starts_pre_assessment(staff, location):
    request = register(staff, location)

    services.admission_request_forward(
        admission_request=request,
        by=staff[Role.SECRETARIAT],
        location_manager=staff[Role.LOCATION_MANAGER],
    )

    request.refresh_from_db()
    assert request.state == S.PRE_ASSESSMENT
    assert request.assigned_location_manager == staff[Role.LOCATION_MANAGER]


def test_forwarding_to_a_location_manager_of_another_region_is_refused(
    staff, location, flevoland, make_user
):
    request = register(staff, location)
    other_manager = make_user(Role.LOCATION_MANAGER, region=flevoland)

    with pytest.raises(DomainError) as error:
        services.admission_request_forward(
            admission_request=request, by=staff[Role.SECRETARIAT], location_manager=other_manager
        )

    assert error.value.field == "location_manager"
    request.refresh_from_db()
    assert request.state == S.RECEIVED


def test_positive_location_manager_advice_goes_to_the_quality_team(staff, location):
    request = run_until_quality_review(staff, location)

    assert request.state == S.QUALITY_REVIEW


def test_negative_location_manager_advice_ends_procedure(staff, location):
    request = register(staff, location)
    services.admission_request_forward(
        admission_request=request,
        by=staff[Role.SECRETARIAT],
        location_manager=staff[Role.LOCATION_MANAGER],
    )

    advise(
        request, staff[Role.LOCATION_MANAGER], AdviceStep.LOCATION_MANAGER, AdviceOutcome.NEGATIVE
    )

    assert request.state == S.REJECTED


def test_negative_quality_advice_ends_procedure(staff, location):
    request = run_until_quality_review(staff, location)

    advise(request, staff[Role.QUALITY_TEAM], AdviceStep.QUALITY_TEAM, AdviceOutcome.NEGATIVE)

    assert request.state == S.REJECTED


def test_quality_team_sends_back_for_more_information_without_ending_it(staff, location):
    request = run_until_quality_review(staff, location)

    advice = advise(
        request,
        staff[Role.QUALITY_TEAM],
        AdviceStep.QUALITY_TEAM,
        AdviceOutcome.MORE_INFORMATION,
        "De weekendbereikbaarheid van de AVG ontbreekt.",
    )

    assert request.state == S.PRE_ASSESSMENT
    assert advice.outcome == AdviceOutcome.MORE_INFORMATION
    assert request.assigned_location_manager == staff[Role.LOCATION_MANAGER]


def test_only_the_quality_team_can_send_back(staff, location):
    request = register(staff, location)
    services.admission_request_forward(
        admission_request=request,
        by=staff[Role.SECRETARIAT],
        location_manager=staff[Role.LOCATION_MANAGER],
    )

    with pytest.raises(DomainError) as error:
        advise(
            request,
            staff[Role.LOCATION_MANAGER],
            AdviceStep.LOCATION_MANAGER,
            AdviceOutcome.MORE_INFORMATION,
        )

    assert error.value.field == "outcome"


def test_positive_quality_advice_goes_to_the_council(staff, location):
    request = run_until_quality_review(staff, location)

    advise(request, staff[Role.QUALITY_TEAM], AdviceStep.QUALITY_TEAM, AdviceOutcome.POSITIVE)

    assert request.state == S.COUNCIL_REVIEW


def test_negative_council_decision_ends_procedure(staff):
    request = AdmissionRequestFactory(
        at_council=True, location__hap_post=staff[Role.SECRETARIAT].region.posts.get()
    )

    advise(
        request, staff[Role.REGIONAL_COUNCIL], AdviceStep.REGIONAL_COUNCIL, AdviceOutcome.NEGATIVE
    )

    assert request.state == S.REJECTED


def test_council_approval_starts_contracting(staff, location):
    request = AdmissionRequestFactory(at_council=True, location=location)

    advise(
        request, staff[Role.REGIONAL_COUNCIL], AdviceStep.REGIONAL_COUNCIL, AdviceOutcome.POSITIVE
    )

    assert request.state == S.CONTRACTING


def test_council_cannot_decide_a_request_that_is_not_at_the_council(staff, location):
    request = AdmissionRequestFactory(at_quality_team=True, location=location)

    with pytest.raises(DomainError) as error:
        advise(
            request,
            staff[Role.REGIONAL_COUNCIL],
            AdviceStep.REGIONAL_COUNCIL,
            AdviceOutcome.POSITIVE,
        )

    assert "kwaliteitsteam" in error.value.message.lower()
    request.refresh_from_db()
    assert request.state == S.QUALITY_REVIEW
    assert not Advice.objects.exists()


@pytest.mark.parametrize("motivation", ["", "   "])
def test_an_advice_without_motivation_is_refused_and_changes_nothing(staff, location, motivation):
    request = AdmissionRequestFactory(at_council=True, location=location)

    with pytest.raises(DomainError) as error:
        advise(
            request,
            staff[Role.REGIONAL_COUNCIL],
            AdviceStep.REGIONAL_COUNCIL,
            AdviceOutcome.POSITIVE,
            motivation,
        )

    assert error.value.field == "motivation"
    request.refresh_from_db()
    assert request.state == S.COUNCIL_REVIEW
    assert not admission_request_history(request).exists()


def test_an_advice_dated_in_the_future_is_refused(staff, location):
    request = AdmissionRequestFactory(at_council=True, location=location)

    with pytest.raises(DomainError) as error:
        services.admission_request_advise(
            admission_request=request,
            by=staff[Role.REGIONAL_COUNCIL],
            step=AdviceStep.REGIONAL_COUNCIL,
            outcome=AdviceOutcome.POSITIVE,
            motivation="Akkoord.",
            decided_on=timezone.localdate() + datetime.timedelta(days=2),
        )

    assert error.value.field == "decided_on"


def test_every_advice_keeps_its_motivation_and_date(staff, location):
    request = AdmissionRequestFactory(at_council=True, location=location)
    decided_on = timezone.localdate() - datetime.timedelta(days=3)

    services.admission_request_advise(
        admission_request=request,
        by=staff[Role.REGIONAL_COUNCIL],
        step=AdviceStep.REGIONAL_COUNCIL,
        outcome=AdviceOutcome.POSITIVE,
        motivation="Akkoord in de vergadering.",
        decided_on=decided_on,
    )

    advice = request.advices.get()
    assert (advice.step, advice.outcome, advice.motivation, advice.decided_on) == (
        AdviceStep.REGIONAL_COUNCIL,
        AdviceOutcome.POSITIVE,
        "Akkoord in de vergadering.",
        decided_on,
    )
    assert advice.decided_by == staff[Role.REGIONAL_COUNCIL]


def test_contracting_cannot_complete_before_the_outcome_is_recorded(staff, location):
    request = AdmissionRequestFactory(
        in_contracting=True,
        location=location,
        assigned_location_manager=staff[Role.LOCATION_MANAGER],
    )

    with pytest.raises(DomainError):
        contract_services.contracting_complete(
            admission_request=request,
            by=staff[Role.SECRETARIAT],
            completed_on=timezone.localdate(),
            terms=without_treatment_terms(),
        )

    request.refresh_from_db()
    assert request.state == S.CONTRACTING


def test_the_whole_procedure_ends_contracted_with_a_completion_date(staff, location):
    location.wlz_treatment_admission = False  # a contract without treatment needs no rates
    location.save()
    request = run_until_quality_review(staff, location)
    advise(request, staff[Role.QUALITY_TEAM], AdviceStep.QUALITY_TEAM, AdviceOutcome.POSITIVE)
    advise(
        request, staff[Role.REGIONAL_COUNCIL], AdviceStep.REGIONAL_COUNCIL, AdviceOutcome.POSITIVE
    )
    services.admission_request_record_outcome(
        admission_request=request, by=staff[Role.LOCATION_MANAGER], notes="Afspraken vastgelegd."
    )
    contract_services.contracting_complete(
        admission_request=request,
        by=staff[Role.SECRETARIAT],
        completed_on=timezone.localdate(),
        terms=without_treatment_terms(),
    )

    request.refresh_from_db()
    assert request.state == S.CONTRACTED
    assert request.completed_on == timezone.localdate()
    assert request.outcome_notes == "Afspraken vastgelegd."
    history = list(admission_request_history(request).values_list("source_state", "state"))
    assert history == [
        (S.RECEIVED, S.PRE_ASSESSMENT),
        (S.PRE_ASSESSMENT, S.QUALITY_REVIEW),
        (S.QUALITY_REVIEW, S.COUNCIL_REVIEW),
        (S.COUNCIL_REVIEW, S.CONTRACTING),
        (S.CONTRACTING, S.CONTRACTING),
        (S.CONTRACTING, S.CONTRACTED),
    ]


def test_the_outcome_can_be_recorded_only_once(staff, location):
    request = AdmissionRequestFactory(
        in_contracting=True,
        location=location,
        assigned_location_manager=staff[Role.LOCATION_MANAGER],
    )
    services.admission_request_record_outcome(
        admission_request=request, by=staff[Role.LOCATION_MANAGER], notes="Verwerkt."
    )

    with pytest.raises(DomainError):
        services.admission_request_record_outcome(
            admission_request=request, by=staff[Role.LOCATION_MANAGER], notes="Nogmaals."
        )


def test_each_transition_records_actor_source_target_and_motivation(staff, location):
    request = run_until_quality_review(staff, location)

    advise(
        request,
        staff[Role.QUALITY_TEAM],
        AdviceStep.QUALITY_TEAM,
        AdviceOutcome.NEGATIVE,
        "SO niet bereikbaar in de nacht.",
    )

    last = admission_request_history(request).last()
    assert last.by == staff[Role.QUALITY_TEAM]
    assert (last.source_state, last.state) == (S.QUALITY_REVIEW, S.REJECTED)
    assert last.transition == "quality_team_advise_negative"
    assert last.description == "SO niet bereikbaar in de nacht."
    assert last.timestamp is not None


@pytest.mark.parametrize(
    "state", [S.RECEIVED, S.PRE_ASSESSMENT, S.QUALITY_REVIEW, S.COUNCIL_REVIEW]
)
def test_secretariat_can_withdraw_an_undecided_request(staff, location, state):
    request = AdmissionRequestFactory(state=state, location=location)

    services.admission_request_withdraw(
        admission_request=request, by=staff[Role.SECRETARIAT], reason="Op verzoek van de locatie."
    )

    assert request.state == S.WITHDRAWN


@pytest.mark.parametrize("state", [S.CONTRACTING, S.CONTRACTED, S.REJECTED])
def test_a_decided_request_cannot_be_withdrawn(staff, location, state):
    request = AdmissionRequestFactory(state=state, location=location)

    with pytest.raises(DomainError):
        services.admission_request_withdraw(
            admission_request=request, by=staff[Role.SECRETARIAT], reason="Te laat."
        )

    request.refresh_from_db()
    assert request.state == state


def test_withdrawal_needs_a_reason(staff, location):
    request = AdmissionRequestFactory(location=location)

    with pytest.raises(DomainError) as error:
        services.admission_request_withdraw(
            admission_request=request, by=staff[Role.SECRETARIAT], reason=" "
        )

    assert error.value.field == "reason"


def test_the_requester_withdraws_without_an_account(staff, location):
    request = AdmissionRequestFactory(state=S.QUALITY_REVIEW, location=location)

    services.admission_request_withdraw(
        admission_request=request, by=None, reason="Niet meer nodig."
    )

    assert request.state == S.WITHDRAWN
    assert admission_request_history(request).get().by is None


def test_an_anonymous_caller_cannot_take_any_other_step(location):
    request = AdmissionRequestFactory(at_council=True, location=location)

    with pytest.raises(DomainError):
        services._run_transition(
            request, "council_approve", by=None, description="x", not_at_step_message="x"
        )


def test_the_next_actor_is_emailed_after_commit(
    staff, location, django_capture_on_commit_callbacks
):
    request = run_until_quality_review(staff, location)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        advise(request, staff[Role.QUALITY_TEAM], AdviceStep.QUALITY_TEAM, AdviceOutcome.POSITIVE)

    assert [m.to for m in mail.outbox] == [[staff[Role.REGIONAL_COUNCIL].email]]
    assert request.reference in mail.outbox[0].subject
    assert "regioraad" in mail.outbox[0].body.lower()


def test_no_email_is_sent_for_a_refused_step(staff, location, django_capture_on_commit_callbacks):
    request = AdmissionRequestFactory(at_council=True, location=location)

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(DomainError):
        advise(
            request,
            staff[Role.REGIONAL_COUNCIL],
            AdviceStep.REGIONAL_COUNCIL,
            AdviceOutcome.POSITIVE,
            "",
        )

    assert callbacks == []
    assert mail.outbox == []


def test_the_requester_is_told_when_the_request_is_rejected(
    staff, location, django_capture_on_commit_callbacks
):
    request = AdmissionRequestFactory(at_council=True, location=location)

    with django_capture_on_commit_callbacks(execute=True):
        advise(
            request,
            staff[Role.REGIONAL_COUNCIL],
            AdviceStep.REGIONAL_COUNCIL,
            AdviceOutcome.NEGATIVE,
        )

    to_requester = [m for m in mail.outbox if m.to == [request.requester_email]]
    assert len(to_requester) == 1
    assert str(request.public_token) in to_requester[0].body
    assert "afgewezen" in to_requester[0].body


def test_a_location_in_another_region_is_not_registered_by_this_secretariat(staff, flevoland):
    other_location = CareLocationFactory(hap_post=flevoland.posts.get(), postcode="1315 HT")

    with pytest.raises(DomainError) as error:
        register(staff, other_location)

    assert error.value.field == "location"


def test_an_advice_with_a_motivation_over_its_limit_is_refused_and_changes_nothing(staff, location):
    request = AdmissionRequestFactory(at_council=True, location=location)

    with pytest.raises(DomainError) as error:
        advise(
            request,
            staff[Role.REGIONAL_COUNCIL],
            AdviceStep.REGIONAL_COUNCIL,
            AdviceOutcome.POSITIVE,
            "x" * (TextLimit.MOTIVATION + 1),
        )

    assert error.value.field == "motivation"
    request.refresh_from_db()
    assert request.state == S.COUNCIL_REVIEW
    assert not Advice.objects.exists()
    assert not admission_request_history(request).exists()


def test_a_withdrawal_reason_over_its_limit_is_refused_and_changes_nothing(staff, location):
    request = register(staff, location)

    with pytest.raises(DomainError) as error:
        services.admission_request_withdraw(
            admission_request=request,
            by=staff[Role.SECRETARIAT],
            reason="x" * (TextLimit.REASON + 1),
        )

    assert error.value.field == "reason"
    request.refresh_from_db()
    assert request.state == S.RECEIVED
