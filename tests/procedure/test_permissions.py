"""Every step belongs to one role, in the request's own region (permission matrix)."""

import pytest
from django.utils import timezone

from hap_contracting.contracts.services import contracts as contract_services
from hap_contracting.core.errors import DomainError
from hap_contracting.core.roles import Role
from hap_contracting.procedure.constants import AdviceOutcome, AdviceStep, RequestState
from hap_contracting.procedure.services import admission as services
from tests.accounts.factories import UserFactory
from tests.checklist.factories import submitted_assessment
from tests.contracts.factories import without_treatment_terms
from tests.organisations.factories import CareLocationFactory
from tests.procedure.factories import AdmissionRequestFactory

S = RequestState
pytestmark = pytest.mark.django_db

# transition → (state it starts from, role that may take it, call)
STEPS = {
    "forward": (
        S.RECEIVED,
        Role.SECRETARIAT,
        lambda r, u: services.admission_request_forward(
            admission_request=r, by=u, location_manager=r.location_manager_for_test
        ),
    ),
    "location_manager_advice": (
        S.PRE_ASSESSMENT,
        Role.LOCATION_MANAGER,
        lambda r, u: services.admission_request_advise(
            admission_request=r,
            by=u,
            step=AdviceStep.LOCATION_MANAGER,
            outcome=AdviceOutcome.POSITIVE,
            motivation="Voldoet.",
        ),
    ),
    "quality_advice": (
        S.QUALITY_REVIEW,
        Role.QUALITY_TEAM,
        lambda r, u: services.admission_request_advise(
            admission_request=r,
            by=u,
            step=AdviceStep.QUALITY_TEAM,
            outcome=AdviceOutcome.NEGATIVE,
            motivation="Voldoet niet.",
        ),
    ),
    "quality_send_back": (
        S.QUALITY_REVIEW,
        Role.QUALITY_TEAM,
        lambda r, u: services.admission_request_advise(
            admission_request=r,
            by=u,
            step=AdviceStep.QUALITY_TEAM,
            outcome=AdviceOutcome.MORE_INFORMATION,
            motivation="Aanvullen.",
        ),
    ),
    "council_decision": (
        S.COUNCIL_REVIEW,
        Role.REGIONAL_COUNCIL,
        lambda r, u: services.admission_request_advise(
            admission_request=r,
            by=u,
            step=AdviceStep.REGIONAL_COUNCIL,
            outcome=AdviceOutcome.POSITIVE,
            motivation="Akkoord.",
        ),
    ),
    "record_outcome": (
        S.CONTRACTING,
        Role.LOCATION_MANAGER,
        lambda r, u: services.admission_request_record_outcome(
            admission_request=r, by=u, notes="Verwerkt."
        ),
    ),
    "withdraw": (
        S.QUALITY_REVIEW,
        Role.SECRETARIAT,
        lambda r, u: services.admission_request_withdraw(
            admission_request=r, by=u, reason="Op verzoek."
        ),
    ),
    "location_manager_negative_advice": (
        S.PRE_ASSESSMENT,
        Role.LOCATION_MANAGER,
        lambda r, u: services.admission_request_advise(
            admission_request=r,
            by=u,
            step=AdviceStep.LOCATION_MANAGER,
            outcome=AdviceOutcome.NEGATIVE,
            motivation="Voldoet niet.",
        ),
    ),
    "quality_positive_advice": (
        S.QUALITY_REVIEW,
        Role.QUALITY_TEAM,
        lambda r, u: services.admission_request_advise(
            admission_request=r,
            by=u,
            step=AdviceStep.QUALITY_TEAM,
            outcome=AdviceOutcome.POSITIVE,
            motivation="Voldoet.",
        ),
    ),
    "council_rejection": (
        S.COUNCIL_REVIEW,
        Role.REGIONAL_COUNCIL,
        lambda r, u: services.admission_request_advise(
            admission_request=r,
            by=u,
            step=AdviceStep.REGIONAL_COUNCIL,
            outcome=AdviceOutcome.NEGATIVE,
            motivation="Niet akkoord.",
        ),
    ),
    "complete_contracting": (
        S.CONTRACTING,
        Role.SECRETARIAT,
        lambda r, u: contract_services.contracting_complete(
            admission_request=r,
            by=u,
            completed_on=timezone.localdate(),
            terms=without_treatment_terms(),
        ),
    ),
}


@pytest.mark.parametrize("step", list(STEPS))
@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("same_region", [True, False], ids=["own-region", "other-region"])
def test_permission_matrix(step, role, same_region, zwolle, flevoland, location):
    state, allowed_role, perform = STEPS[step]
    all_regions = role in (Role.FINANCE, Role.ADMINISTRATOR)
    user = UserFactory(
        roles=[role],
        region=None if all_regions else (zwolle if same_region else flevoland),
        is_superuser=role == Role.ADMINISTRATOR,
    )
    manager = (
        user
        if role == Role.LOCATION_MANAGER and same_region
        else UserFactory(roles=[Role.LOCATION_MANAGER], region=zwolle)
    )
    if step == "complete_contracting":
        location.wlz_treatment_admission = False  # a contract without treatment needs no rates
        location.save()
    request = AdmissionRequestFactory(
        state=state,
        location=location,
        assigned_location_manager=None if state == S.RECEIVED else manager,
        outcome_recorded_at=timezone.now() if step == "complete_contracting" else None,
    )
    request.location_manager_for_test = UserFactory(roles=[Role.LOCATION_MANAGER], region=zwolle)
    if state == S.PRE_ASSESSMENT:
        submitted_assessment(request)
    expected = role == allowed_role and same_region

    if expected:
        perform(request, user)
        request.refresh_from_db()
        assert request.state != state or request.outcome_recorded_at is not None
    else:
        with pytest.raises(DomainError):
            perform(request, user)
        request.refresh_from_db()
        assert request.state == state
        if step != "complete_contracting":
            assert request.outcome_recorded_at is None


def test_the_requester_withdraws_through_the_status_link_only_before_the_decision(location):
    undecided = AdmissionRequestFactory(at_council=True, location=location)
    decided = AdmissionRequestFactory(
        state=S.CONTRACTING, location=CareLocationFactory(hap_post=location.hap_post)
    )

    services.admission_request_withdraw(admission_request=undecided, by=None, reason="Gestopt.")
    with pytest.raises(DomainError):
        services.admission_request_withdraw(admission_request=decided, by=None, reason="Gestopt.")

    undecided.refresh_from_db()
    decided.refresh_from_db()
    assert undecided.state == S.WITHDRAWN
    assert decided.state == S.CONTRACTING


def test_only_the_assigned_location_manager_advises(zwolle, location, make_user):
    assigned = make_user(Role.LOCATION_MANAGER, region=zwolle)
    colleague = make_user(Role.LOCATION_MANAGER, region=zwolle)
    request = AdmissionRequestFactory(
        in_pre_assessment=True, location=location, assigned_location_manager=assigned
    )

    with pytest.raises(DomainError):
        services.admission_request_advise(
            admission_request=request,
            by=colleague,
            step=AdviceStep.LOCATION_MANAGER,
            outcome=AdviceOutcome.POSITIVE,
            motivation="Voldoet.",
        )


def test_completing_contracting_is_the_secretariats_step(zwolle, location, make_user):
    location.wlz_treatment_admission = False  # a contract without treatment needs no rates
    location.save()
    request = AdmissionRequestFactory(in_contracting=True, location=location)
    request.outcome_recorded_at = timezone.now()
    request.save()
    council = make_user(Role.REGIONAL_COUNCIL, region=zwolle)
    secretariat = make_user(Role.SECRETARIAT, region=zwolle)

    with pytest.raises(DomainError):
        contract_services.contracting_complete(
            admission_request=request,
            by=council,
            completed_on=timezone.localdate(),
            terms=without_treatment_terms(),
        )
    contract_services.contracting_complete(
        admission_request=request,
        by=secretariat,
        completed_on=timezone.localdate(),
        terms=without_treatment_terms(),
    )

    assert request.state == S.CONTRACTED


def test_a_deactivated_user_can_take_no_step(zwolle, location, make_user):
    council = make_user(Role.REGIONAL_COUNCIL, region=zwolle, is_active=False)
    request = AdmissionRequestFactory(at_council=True, location=location)

    with pytest.raises(DomainError):
        services.admission_request_advise(
            admission_request=request,
            by=council,
            step=AdviceStep.REGIONAL_COUNCIL,
            outcome=AdviceOutcome.POSITIVE,
            motivation="Akkoord.",
        )
