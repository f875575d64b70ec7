"""The quality team and the council work in the Django admin, within their own region."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hap_contracting.core.roles import Role
from hap_contracting.procedure.constants import AdviceOutcome, AdviceStep, RequestState
from hap_contracting.procedure.models import Advice
from tests.organisations.factories import CareLocationFactory
from tests.procedure.factories import AdmissionRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def quality_team(zwolle, make_user):
    return make_user(Role.QUALITY_TEAM, region=zwolle, is_staff=True)


def test_the_changelist_shows_only_the_users_region(client, quality_team, location, flevoland):
    own = AdmissionRequestFactory(at_quality_team=True, location=location)
    AdmissionRequestFactory(
        at_quality_team=True,
        location=CareLocationFactory(hap_post=flevoland.posts.get(), postcode="1315 HT"),
    )
    client.force_login(quality_team)

    response = client.get(reverse("admin:procedure_admissionrequest_changelist"))

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [own]


def test_the_list_opens_on_the_requests_waiting_for_me_and_can_show_all(
    client, quality_team, location
):
    waiting = AdmissionRequestFactory(at_quality_team=True, location=location)
    at_council = AdmissionRequestFactory(
        at_council=True, location=CareLocationFactory(hap_post=location.hap_post)
    )
    client.force_login(quality_team)
    changelist = reverse("admin:procedure_admissionrequest_changelist")

    by_default = client.get(changelist)
    explicitly = client.get(changelist + "?waiting=me")
    everything = client.get(changelist + "?waiting=all")

    assert list(by_default.context["cl"].result_list) == [waiting]
    assert list(explicitly.context["cl"].result_list) == [waiting]
    assert set(everything.context["cl"].result_list) == {waiting, at_council}


def test_the_changelist_runs_a_constant_number_of_queries(
    client, quality_team, location, django_assert_max_num_queries
):
    for _ in range(30):
        AdmissionRequestFactory(
            at_quality_team=True, location=CareLocationFactory(hap_post=location.hap_post)
        )
    client.force_login(quality_team)

    with django_assert_max_num_queries(15):
        client.get(reverse("admin:procedure_admissionrequest_changelist"))


def test_the_change_page_reads_the_advices_and_who_gave_them_in_one_query(
    client, quality_team, location, make_user, django_assert_max_num_queries
):
    """The request is read once (not again for the page's extra context), the advices with the
    users who gave them: as many queries for five advices by five people as for one."""
    one = AdmissionRequestFactory(at_quality_team=True, location=location)
    five = AdmissionRequestFactory(
        at_quality_team=True, location=CareLocationFactory(hap_post=location.hap_post)
    )
    _advise(one, [quality_team])
    _advise(five, [make_user(Role.QUALITY_TEAM, region=location.region) for _ in range(5)])
    client.force_login(quality_team)
    change = "admin:procedure_admissionrequest_change"
    client.get(reverse(change, args=[one.pk]))

    with CaptureQueriesContext(connection) as for_one:
        client.get(reverse(change, args=[one.pk]))
    with django_assert_max_num_queries(len(for_one.captured_queries)):
        page = client.get(reverse(change, args=[five.pk]))

    assert page.content.decode().count("Nog niet compleet.") == 5
    assert (
        sum(
            '"procedure_admissionrequest"."id" = ' in query["sql"]
            and 'FROM "procedure_admissionrequest"' in query["sql"]
            for query in for_one.captured_queries
        )
        == 1
    )


def _advise(admission_request, users) -> None:
    for day, user in enumerate(users, start=1):
        Advice.objects.create(
            admission_request=admission_request,
            step=AdviceStep.QUALITY_TEAM,
            outcome=AdviceOutcome.MORE_INFORMATION,
            motivation="Nog niet compleet.",
            decided_on=datetime.date(2026, 10, day),
            decided_by=user,
        )


def test_the_quality_team_advises_from_the_admin(client, quality_team, location):
    request = AdmissionRequestFactory(at_quality_team=True, location=location)
    client.force_login(quality_team)

    change = client.get(reverse("admin:procedure_admissionrequest_change", args=[request.pk]))
    response = client.post(
        reverse(
            "admin:procedure_admissionrequest_action",
            args=[request.pk, "advise-quality-team"],
        ),
        {
            "outcome": "more_information",
            "motivation": "Bereikbaarheid AVG ontbreekt.",
            "decided_on": timezone.localdate().isoformat(),
        },
    )

    assert [a.slug for a in change.context["procedure_actions"]] == ["advise-quality-team"]
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == RequestState.PRE_ASSESSMENT


def test_the_admin_action_refuses_another_roles_step(client, quality_team, location):
    request = AdmissionRequestFactory(at_council=True, location=location)
    client.force_login(quality_team)

    response = client.post(
        reverse("admin:procedure_admissionrequest_action", args=[request.pk, "decide-council"]),
        {
            "outcome": "positive",
            "motivation": "Akkoord.",
            "decided_on": timezone.localdate().isoformat(),
        },
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    request.refresh_from_db()
    assert request.state == RequestState.COUNCIL_REVIEW


def test_another_regions_request_is_not_found_in_the_admin(client, quality_team, flevoland):
    other = AdmissionRequestFactory(
        at_quality_team=True,
        location=CareLocationFactory(hap_post=flevoland.posts.get(), postcode="1315 HT"),
    )
    client.force_login(quality_team)

    change = client.get(reverse("admin:procedure_admissionrequest_change", args=[other.pk]))
    action = client.post(
        reverse("admin:procedure_admissionrequest_action", args=[other.pk, "advise-quality-team"]),
        {"outcome": "positive", "motivation": "x", "decided_on": timezone.localdate().isoformat()},
    )

    assert change.status_code == 302  # the admin redirects a missing object to its index
    assert action.status_code == 404


def test_a_location_manager_has_no_access_to_the_admin(client, zwolle, make_user):
    client.force_login(make_user(Role.LOCATION_MANAGER, region=zwolle, is_staff=True))

    response = client.get(reverse("admin:procedure_admissionrequest_changelist"))

    assert response.status_code == 403


def test_after_a_positive_advice_the_message_says_who_acts_next(client, quality_team, location):
    request = AdmissionRequestFactory(at_quality_team=True, location=location)
    client.force_login(quality_team)

    response = client.post(
        reverse(
            "admin:procedure_admissionrequest_action",
            args=[request.pk, "advise-quality-team"],
        ),
        {
            "outcome": "positive",
            "motivation": "Voldoet aan alle voorwaarden.",
            "decided_on": timezone.localdate().isoformat(),
        },
        follow=True,
    )

    said = [str(message) for message in response.context["messages"]]
    region = location.region.name
    assert said == [
        f"Advies kwaliteitsteam geven: gedaan. De aanvraag ligt nu bij de regioraad {region}."
    ]
