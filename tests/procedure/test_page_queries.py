"""The procedure's busiest pages run at most eight queries, login and session included, however
long the request's history or the list (``tests.pages``; measured in ``bench/procedure_pages.py``).
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from hap_contracting.core.roles import Role
from hap_contracting.procedure.constants import (
    AdviceOutcome,
    AdviceStep,
    ClockEventKind,
    RequestState,
)
from hap_contracting.procedure.models import Advice, ClockEvent, TransitionLog
from tests.organisations.factories import CareLocationFactory
from tests.pages import assert_constant_queries, queries_of_page
from tests.procedure.factories import AdmissionRequestFactory

S = RequestState
pytestmark = pytest.mark.django_db


def add_history(request, staff, steps: int) -> None:
    """``steps`` history rows, advices and deadline changes on ``request``."""
    now = timezone.now()
    for n in range(steps):
        TransitionLog.objects.create(
            content_object=request,
            source_state=S.PRE_ASSESSMENT,
            state=S.QUALITY_REVIEW,
            transition="location_manager_advise_positive",
            by=staff[Role.LOCATION_MANAGER],
            description="Voldoet.",
            timestamp=now - datetime.timedelta(days=40 - n),
        )
        Advice.objects.create(
            admission_request=request,
            step=AdviceStep.QUALITY_TEAM,
            outcome=AdviceOutcome.MORE_INFORMATION,
            motivation="Graag aanvullen.",
            decided_on=timezone.localdate() - datetime.timedelta(days=30 - n),
            decided_by=staff[Role.QUALITY_TEAM],
        )
        ClockEvent.objects.create(
            admission_request=request,
            step=S.COUNCIL_REVIEW,
            kind=ClockEventKind.EXTENDED,
            days=7,
            reason="Wacht op stukken.",
            by=staff[Role.SECRETARIAT],
        )


@pytest.mark.parametrize("role", [Role.LOCATION_MANAGER, Role.REGIONAL_COUNCIL])
def test_the_request_detail_runs_a_fixed_number_of_queries(
    client, staff, location, role, django_assert_max_num_queries
):
    request = AdmissionRequestFactory(
        at_council=True, location=location, assigned_location_manager=staff[Role.LOCATION_MANAGER]
    )
    add_history(request, staff, 1)
    client.force_login(staff[role])

    assert_constant_queries(
        client,
        reverse("procedure:request_detail", args=[request.pk]),
        lambda: add_history(request, staff, 12),
        django_assert_max_num_queries,
    )


def test_the_location_manager_sees_the_pre_assessment_in_eight_queries(client, staff, location):
    """The checklist's verdict (a condition of the positive advice) is read once, and only for
    the user who may give the advice."""
    request = AdmissionRequestFactory(
        in_pre_assessment=True,
        location=location,
        assigned_location_manager=staff[Role.LOCATION_MANAGER],
    )
    url = reverse("procedure:request_detail", args=[request.pk])

    client.force_login(staff[Role.LOCATION_MANAGER])
    manager_queries = queries_of_page(client, url)
    client.force_login(staff[Role.REGIONAL_COUNCIL])
    council_queries = queries_of_page(client, url)

    assert len(manager_queries) <= 8
    assert len(council_queries) == len(manager_queries) - 1


def test_the_request_list_runs_a_fixed_number_of_queries(
    client, staff, location, django_assert_max_num_queries
):
    def add_requests():
        for state in list(S) * 5:
            AdmissionRequestFactory(
                state=state, location=CareLocationFactory(hap_post=location.hap_post)
            )

    AdmissionRequestFactory(location=location)
    client.force_login(staff[Role.SECRETARIAT])

    assert_constant_queries(
        client, reverse("procedure:request_list"), add_requests, django_assert_max_num_queries
    )


def test_the_quality_teams_changelist_runs_a_fixed_number_of_queries(
    client, zwolle, location, make_user, django_assert_max_num_queries
):
    def add_requests():
        for _ in range(30):
            AdmissionRequestFactory(
                at_quality_team=True, location=CareLocationFactory(hap_post=location.hap_post)
            )

    AdmissionRequestFactory(at_quality_team=True, location=location)
    client.force_login(make_user(Role.QUALITY_TEAM, region=zwolle, is_staff=True))

    assert_constant_queries(
        client,
        reverse("admin:procedure_admissionrequest_changelist"),
        add_requests,
        django_assert_max_num_queries,
    )
