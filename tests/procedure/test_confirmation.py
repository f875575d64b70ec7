"""Steps that can't be undone are confirmed first, in the app and in the admin alike: the first
POST shows what was chosen and what follows from it, and changes nothing; only the POST that
carries the confirmation takes the step; "Back" shows the form filled in again."""

import pytest
from django.urls import reverse
from django.utils import timezone

from hap_contracting.core.roles import Role
from hap_contracting.procedure.constants import RequestState
from hap_contracting.procedure.models import Advice, TransitionLog
from tests.checklist.factories import submitted_assessment
from tests.procedure.factories import AdmissionRequestFactory

pytestmark = pytest.mark.django_db
S = RequestState


def admin_action(request, slug):
    return reverse("admin:procedure_admissionrequest_action", args=[request.pk, slug])


def app_action(request, slug):
    return reverse("procedure:request_action", args=[request.pk, slug])


def advice(outcome, **extra):
    return {
        "outcome": outcome,
        "motivation": "Er is geen sluitende achterwacht in de nacht.",
        "decided_on": timezone.localdate().isoformat(),
        **extra,
    }


@pytest.fixture
def quality_team(zwolle, make_user):
    return make_user(Role.QUALITY_TEAM, region=zwolle, is_staff=True)


def test_a_negative_quality_advice_is_not_recorded_before_it_is_confirmed(
    client, quality_team, location
):
    request = AdmissionRequestFactory(at_quality_team=True, location=location)
    client.force_login(quality_team)

    response = client.post(admin_action(request, "advise-quality-team"), advice("negative"))

    assert response.status_code == 200
    confirmation = response.context["confirmation"]
    assert "De procedure eindigt" in confirmation.consequence
    assert ("Motivering", "Er is geen sluitende achterwacht in de nacht.") in confirmation.summary
    page = response.content.decode()
    assert "Bevestigen" in page and "Terug" in page
    request.refresh_from_db()
    assert request.state == S.QUALITY_REVIEW
    assert not Advice.objects.exists()
    assert not TransitionLog.objects.exists()


def test_the_confirmed_negative_advice_ends_the_procedure(client, quality_team, location):
    request = AdmissionRequestFactory(at_quality_team=True, location=location)
    client.force_login(quality_team)

    response = client.post(
        admin_action(request, "advise-quality-team"), advice("negative", confirmed="1")
    )

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == S.REJECTED
    assert Advice.objects.get().motivation == "Er is geen sluitende achterwacht in de nacht."


def test_the_confirmation_page_posts_the_input_again(client, quality_team, location):
    request = AdmissionRequestFactory(at_quality_team=True, location=location)
    client.force_login(quality_team)

    response = client.post(admin_action(request, "advise-quality-team"), advice("negative"))

    resubmitted = dict(response.context["confirmation"].resubmit)
    assert resubmitted["outcome"] == "negative"
    assert resubmitted["motivation"] == "Er is geen sluitende achterwacht in de nacht."
    assert "csrfmiddlewaretoken" not in resubmitted
    assert 'name="confirmed"' in response.content.decode()


def test_back_shows_the_form_with_the_input_kept_and_changes_nothing(
    client, quality_team, location
):
    request = AdmissionRequestFactory(at_quality_team=True, location=location)
    client.force_login(quality_team)

    response = client.post(
        admin_action(request, "advise-quality-team"), advice("negative", back="1")
    )

    assert response.status_code == 200
    assert response.context["confirmation"] is None
    form = response.context["form"]
    assert form["motivation"].value() == "Er is geen sluitende achterwacht in de nacht."
    assert form["outcome"].value() == "negative"
    assert "Er is geen sluitende achterwacht in de nacht." in response.content.decode()
    request.refresh_from_db()
    assert request.state == S.QUALITY_REVIEW
    assert not Advice.objects.exists()


def test_a_positive_advice_needs_no_confirmation(client, quality_team, location):
    request = AdmissionRequestFactory(at_quality_team=True, location=location)
    client.force_login(quality_team)

    response = client.post(admin_action(request, "advise-quality-team"), advice("positive"))

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == S.COUNCIL_REVIEW


def test_sending_a_request_back_needs_no_confirmation(client, quality_team, location):
    request = AdmissionRequestFactory(at_quality_team=True, location=location)
    client.force_login(quality_team)

    response = client.post(admin_action(request, "advise-quality-team"), advice("more_information"))

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == S.PRE_ASSESSMENT


def test_the_councils_rejection_is_confirmed_first_in_the_app(client, staff, location):
    request = AdmissionRequestFactory(at_council=True, location=location)
    client.force_login(staff[Role.REGIONAL_COUNCIL])

    first = client.post(app_action(request, "decide-council"), advice("negative"))
    request.refresh_from_db()
    state_after_first = request.state
    confirmed = client.post(
        app_action(request, "decide-council"), advice("negative", confirmed="1")
    )

    assert first.status_code == 200
    assert first.context["confirmation"] is not None
    assert 'data-testid="confirmation"' in first.content.decode()
    assert state_after_first == S.COUNCIL_REVIEW
    assert confirmed.status_code == 302
    request.refresh_from_db()
    assert request.state == S.REJECTED


def test_the_councils_approval_needs_no_confirmation(client, staff, location):
    request = AdmissionRequestFactory(at_council=True, location=location)
    client.force_login(staff[Role.REGIONAL_COUNCIL])

    response = client.post(app_action(request, "decide-council"), advice("positive"))

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == S.CONTRACTING


def test_the_location_managers_negative_advice_is_confirmed_first(client, location):
    request = AdmissionRequestFactory(in_pre_assessment=True, location=location)
    submitted_assessment(request)
    client.force_login(request.assigned_location_manager)

    first = client.post(app_action(request, "advise-location-manager"), advice("negative"))
    request.refresh_from_db()

    assert first.context["confirmation"] is not None
    assert request.state == S.PRE_ASSESSMENT
    assert not Advice.objects.exists()


def test_an_invalid_form_is_shown_with_its_errors_not_the_confirmation(client, staff, location):
    request = AdmissionRequestFactory(at_council=True, location=location)
    client.force_login(staff[Role.REGIONAL_COUNCIL])

    response = client.post(app_action(request, "decide-council"), advice("negative", motivation=""))

    assert response.context["confirmation"] is None
    assert "motivation" in response.context["form"].errors
