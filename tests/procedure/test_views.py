"""The app's own pages: scoped to the region, thin over the services, constant queries."""

import pytest
from django.urls import reverse
from django.utils import timezone

from hap_contracting.core.roles import Role
from hap_contracting.procedure.constants import RequestKind, RequestState
from hap_contracting.procedure.models import AdmissionRequest
from tests.organisations.factories import CareLocationFactory
from tests.procedure.factories import AdmissionRequestFactory

S = RequestState
pytestmark = pytest.mark.django_db


def test_my_work_lists_what_waits_for_the_user_and_nothing_else(client, staff, location):
    council = staff[Role.REGIONAL_COUNCIL]
    waiting = AdmissionRequestFactory(at_council=True, location=location)
    AdmissionRequestFactory(
        at_quality_team=True, location=CareLocationFactory(hap_post=location.hap_post)
    )
    client.force_login(council)

    response = client.get(reverse("dashboard:my_work"))

    assert list(response.context["page"].object_list) == [waiting]


def test_my_work_runs_a_constant_number_of_queries(
    client, staff, location, django_assert_max_num_queries
):
    manager = staff[Role.LOCATION_MANAGER]
    for _ in range(30):
        AdmissionRequestFactory(
            in_pre_assessment=True,
            assigned_location_manager=manager,
            location=CareLocationFactory(hap_post=location.hap_post),
        )
    client.force_login(manager)

    # 9: one more than before the step norms, for the norm table (read once per page).
    with django_assert_max_num_queries(9):
        response = client.get(reverse("dashboard:my_work"))

    assert len(response.context["page"].object_list) == 30


def test_request_list_and_detail_run_a_constant_number_of_queries(
    client, staff, location, django_assert_max_num_queries
):
    for _ in range(20):
        AdmissionRequestFactory(location=CareLocationFactory(hap_post=location.hap_post))
    request = AdmissionRequestFactory(at_council=True, location=location)
    client.force_login(staff[Role.REGIONAL_COUNCIL])

    with django_assert_max_num_queries(8):
        client.get(reverse("procedure:request_list"))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("procedure:request_detail", args=[request.pk]))

    assert response.status_code == 200


def test_a_user_cannot_open_another_regions_request_by_url(client, location, flevoland, make_user):
    request = AdmissionRequestFactory(at_council=True, location=location)
    client.force_login(make_user(Role.REGIONAL_COUNCIL, region=flevoland))

    detail = client.get(reverse("procedure:request_detail", args=[request.pk]))
    action = client.post(
        reverse("procedure:request_action", args=[request.pk, "decide-council"]),
        {"outcome": "positive", "motivation": "x", "decided_on": timezone.localdate()},
    )

    assert detail.status_code == 404
    assert action.status_code == 404
    request.refresh_from_db()
    assert request.state == S.COUNCIL_REVIEW


def test_finance_sees_all_regions(client, location, flevoland, make_user):
    other = AdmissionRequestFactory(
        location=CareLocationFactory(hap_post=flevoland.posts.get(), postcode="1315 HT")
    )
    client.force_login(make_user(Role.FINANCE))

    response = client.get(reverse("procedure:request_detail", args=[other.pk]))

    assert response.status_code == 200


def test_the_secretariat_registers_a_request_through_the_intake_form(client, staff, location):
    client.force_login(staff[Role.SECRETARIAT])

    response = client.post(
        reverse("procedure:request_create"),
        {
            "location": location.pk,
            "kind": RequestKind.NEW_ENTRANT,
            "received_on": timezone.localdate().isoformat(),
            "requester_name": "J. de Boer",
            "requester_email": "j.deboer@example.org",
        },
    )

    request = AdmissionRequest.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("procedure:request_detail", args=[request.pk])
    assert request.requester_name == "J. de Boer"


@pytest.mark.parametrize(
    ("email", "field", "message"),
    [
        ("geen-emailadres", "requester_email", "e-mailadres"),
        ("j.deboer@example.org", "location", "open aanvraag"),
    ],
)
def test_intake_form_shows_a_dutch_error_on_the_field_and_stores_nothing(
    client, staff, location, email, field, message
):
    AdmissionRequestFactory(location=location)
    client.force_login(staff[Role.SECRETARIAT])

    response = client.post(
        reverse("procedure:request_create"),
        {
            "location": location.pk,
            "kind": RequestKind.NEW_ENTRANT,
            "received_on": timezone.localdate().isoformat(),
            "requester_name": "J. de Boer",
            "requester_email": email,
        },
    )

    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert AdmissionRequest.objects.count() == 1


def test_only_the_secretariat_may_open_the_intake_form(client, staff):
    client.force_login(staff[Role.QUALITY_TEAM])

    assert client.get(reverse("procedure:request_create")).status_code == 403


def test_a_council_member_decides_through_the_action_page(client, staff, location):
    request = AdmissionRequestFactory(at_council=True, location=location)
    client.force_login(staff[Role.REGIONAL_COUNCIL])
    url = reverse("procedure:request_action", args=[request.pk, "decide-council"])

    missing = client.post(
        url,
        {"outcome": "positive", "motivation": "", "decided_on": timezone.localdate().isoformat()},
    )
    done = client.post(
        url,
        {
            "outcome": "negative",
            "motivation": "Past niet.",
            "decided_on": timezone.localdate().isoformat(),
            "confirmed": "1",
        },
    )

    assert missing.status_code == 200 and "motivation" in missing.context["form"].errors
    assert done.status_code == 302
    request.refresh_from_db()
    assert request.state == S.REJECTED


def test_the_detail_page_offers_only_the_users_own_steps(client, staff, location):
    request = AdmissionRequestFactory(at_council=True, location=location)

    client.force_login(staff[Role.REGIONAL_COUNCIL])
    council_actions = [
        a.slug
        for a in client.get(reverse("procedure:request_detail", args=[request.pk])).context[
            "actions"
        ]
    ]
    client.force_login(staff[Role.QUALITY_TEAM])
    quality_actions = [
        a.slug
        for a in client.get(reverse("procedure:request_detail", args=[request.pk])).context[
            "actions"
        ]
    ]

    assert council_actions == ["decide-council"]
    assert quality_actions == []


def test_the_requester_sees_the_status_and_can_withdraw(client, location):
    request = AdmissionRequestFactory(at_quality_team=True, location=location)
    url = reverse("procedure:requester_status", args=[request.public_token])

    page = client.get(url)
    withdrawn = client.post(url, {"reason": "Wij hebben een eigen huisarts gevonden."})

    assert page.status_code == 200
    assert withdrawn.status_code == 302
    request.refresh_from_db()
    assert request.state == S.WITHDRAWN


def test_the_requester_status_says_a_rejected_request_ends_the_procedure(client, location):
    request = AdmissionRequestFactory(state=S.REJECTED, location=location)

    page = client.get(reverse("procedure:requester_status", args=[request.public_token]))

    assert "afgewezen" in page.content.decode()
    assert page.context["form"] is None


def test_pages_need_a_login(client):
    response = client.get(reverse("dashboard:my_work"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_interface_switches_to_english(client, staff):
    client.force_login(staff[Role.SECRETARIAT])

    dutch = client.get(reverse("dashboard:my_work"))
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = client.get(reverse("dashboard:my_work"))

    assert "Mijn werk" in dutch.content.decode()
    assert "My work" in english.content.decode()


def test_a_negative_council_decision_says_the_procedure_has_ended(client, staff, location):
    request = AdmissionRequestFactory(at_council=True, location=location)
    client.force_login(staff[Role.REGIONAL_COUNCIL])

    response = client.post(
        reverse("procedure:request_action", args=[request.pk, "decide-council"]),
        {
            "outcome": "negative",
            "motivation": "Niet bereikbaar.",
            "decided_on": timezone.localdate(),
            "confirmed": "1",
        },
        follow=True,
    )

    said = " ".join(str(message) for message in response.context["messages"])
    assert "De procedure is afgerond: afgewezen." in said


def test_a_request_in_contracting_says_it_waits_for_the_location_managers_outcome(
    client, staff, location
):
    manager = staff[Role.LOCATION_MANAGER]
    request = AdmissionRequestFactory(
        in_contracting=True, location=location, assigned_location_manager=manager
    )
    client.force_login(staff[Role.SECRETARIAT])

    page = client.get(reverse("procedure:request_detail", args=[request.pk]))

    assert page.context["next_step"] == (
        f"De aanvraag ligt nu bij locatiemanager {manager.get_full_name() or manager.username}."
    )
    assert 'data-testid="next-step"' in page.content.decode()
