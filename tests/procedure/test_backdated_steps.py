"""A step recorded after the fact (the demo's history) carries its moment: the history row, the
advice and the request's dates agree, and the order of the steps can't be turned around."""

import datetime

import pytest
from django.utils import timezone

from hap_contracting.core.errors import DomainError
from hap_contracting.core.roles import Role
from hap_contracting.procedure.constants import AdviceOutcome, AdviceStep, RequestKind, RequestState
from hap_contracting.procedure.models import AdmissionRequest, Advice, TransitionLog
from hap_contracting.procedure.services import admission as services

pytestmark = pytest.mark.django_db


def _register(staff, location, *, at, received_days_ago=40):
    return services.admission_request_register(
        by=staff[Role.SECRETARIAT],
        location=location,
        kind=RequestKind.NEW_ENTRANT,
        requester_name="M. van den Berg",
        requester_email="aanvrager@example.org",
        received_on=timezone.localdate() - datetime.timedelta(days=received_days_ago),
        at=at,
    )


def test_steps_taken_after_the_fact_are_dated_in_the_history_advice_and_request(staff, location):
    registered = timezone.now() - datetime.timedelta(days=30)
    forwarded = registered + datetime.timedelta(days=2)
    request = _register(staff, location, at=registered)
    services.admission_request_forward(
        admission_request=request,
        by=staff[Role.SECRETARIAT],
        location_manager=staff[Role.LOCATION_MANAGER],
        at=forwarded,
    )
    rejected = forwarded + datetime.timedelta(days=10)
    services.admission_request_advise(
        admission_request=request,
        by=staff[Role.LOCATION_MANAGER],
        step=AdviceStep.LOCATION_MANAGER,
        outcome=AdviceOutcome.NEGATIVE,
        motivation="Geen 24-uurs zorg.",
        at=rejected,
    )

    request.refresh_from_db()
    assert request.created_at == registered
    assert request.state_entered_at == rejected
    assert list(TransitionLog.objects.order_by("pk").values_list("timestamp", flat=True)) == [
        forwarded,
        rejected,
    ]
    advice = Advice.objects.get()
    assert (advice.recorded_at, advice.decided_on) == (rejected, timezone.localdate(rejected))


def test_a_step_without_a_moment_is_dated_now(staff, location):
    before = timezone.now()
    request = _register(staff, location, at=None)
    services.admission_request_forward(
        admission_request=request,
        by=staff[Role.SECRETARIAT],
        location_manager=staff[Role.LOCATION_MANAGER],
    )

    assert before <= TransitionLog.objects.get().timestamp <= timezone.now()
    assert before <= request.created_at <= request.state_entered_at <= timezone.now()


@pytest.mark.parametrize(
    "offset, message",
    [
        (datetime.timedelta(hours=1), "in de toekomst"),
        (-datetime.timedelta(days=6), "vóór de vorige stap"),
    ],
)
def test_a_step_is_not_dated_in_the_future_nor_before_the_previous_one(
    staff, location, offset, message
):
    registered = timezone.now() - datetime.timedelta(days=5)
    request = _register(staff, location, at=registered)
    at = (timezone.now() if offset > datetime.timedelta(0) else registered) + offset

    with pytest.raises(DomainError, match=message):
        services.admission_request_forward(
            admission_request=request,
            by=staff[Role.SECRETARIAT],
            location_manager=staff[Role.LOCATION_MANAGER],
            at=at,
        )

    request.refresh_from_db()
    assert request.state == RequestState.RECEIVED
    assert request.state_entered_at == registered
    assert not TransitionLog.objects.exists()


def test_a_request_is_not_registered_before_the_day_it_was_received(staff, location):
    with pytest.raises(DomainError, match="op of na de dag waarop hij is ontvangen"):
        _register(
            staff,
            location,
            at=timezone.now() - datetime.timedelta(days=10),
            received_days_ago=5,
        )

    assert not AdmissionRequest.objects.exists()
