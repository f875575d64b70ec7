"""The quality team's and the council's admin pages: the history in Dutch, the dossier beside
the advice form, and an admin index with only their own sections, in Dutch."""

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hap_contracting.core.roles import Role
from hap_contracting.procedure.constants import AdviceOutcome, AdviceStep
from hap_contracting.procedure.models import Advice, TransitionLog
from hap_contracting.procedure.selectors.admission import advice_dossier
from hap_contracting.procedure.services import admission as services
from tests.checklist.factories import submitted_assessment
from tests.organisations.factories import CareLocationFactory
from tests.procedure.factories import AdmissionRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def quality_team(zwolle, make_user):
    return make_user(
        Role.QUALITY_TEAM, region=zwolle, is_staff=True, first_name="Karin", last_name="de Vries"
    )


@pytest.fixture
def advised_request(quality_team, location):
    return sent_back_request(quality_team, location)


def sent_back_request(quality_team, location):
    request = AdmissionRequestFactory(at_quality_team=True, location=location)
    submitted_assessment(request)
    services.admission_request_advise(
        admission_request=request,
        by=quality_team,
        step=AdviceStep.QUALITY_TEAM,
        outcome=AdviceOutcome.MORE_INFORMATION,
        motivation="Bereikbaarheid AVG ontbreekt.",
    )
    return request


def test_the_admin_history_reads_in_dutch_with_full_names_and_amsterdam_time(
    client, quality_team, location
):
    # 13:05 UTC on 3 November is 14:05 in Amsterdam (winter time). The history is append-only
    # (on PostgreSQL a trigger refuses UPDATE), so the step is taken at that moment.
    moment = datetime.datetime(2026, 11, 3, 13, 5, 42, 123456, tzinfo=datetime.UTC)
    with time_machine.travel(moment, tick=False):
        advised_request = sent_back_request(quality_team, location)
    client.force_login(quality_team)

    response = client.get(
        reverse("admin:procedure_admissionrequest_change", args=[advised_request.pk])
    )

    page = response.content.decode()
    headers = {
        "when": "Wanneer",
        "who": "Wie",
        "step": "Stap",
        "from_state": "Van",
        "to_state": "Naar",
        "motivation": "Motivering",
    }
    for column, header in headers.items():
        assert re.search(rf'class="column-{column}[^"]*"[^>]*>\s*{header}', page), header
    assert "3 november 2026 14:05" in page
    assert "14:05:42" not in page and "123456" not in page
    assert "Karin de Vries" in page
    assert "Beoordeling door het kwaliteitsteam" in page  # the label, not "quality_review"
    assert (
        "quality_review" not in page.split('id="procedure-transitionlog')[-1].split("</table>")[0]
    )
    assert "Advies kwaliteitsteam geven" in page  # the step, not "quality_team_send_back"


def test_the_history_inline_is_read_only(client, quality_team, advised_request):
    client.force_login(quality_team)

    response = client.get(
        reverse("admin:procedure_admissionrequest_change", args=[advised_request.pk])
    )

    inline = next(
        formset
        for formset in response.context["inline_admin_formsets"]
        if formset.opts.model is TransitionLog
    )
    assert not inline.has_add_permission and not inline.has_change_permission
    assert not inline.has_delete_permission


def changed_second_revision(request):
    """Two submitted revisions; in the second a knock-out item is answered "no"."""
    second = submitted_assessment(request)
    second.revision = 2
    second.save()
    submitted_assessment(request)  # revision 1, as it was before the change
    answer = second.answers.select_related("item").filter(item__is_knock_out=True).first()
    answer.value, answer.explanation = "no", "Geen achterwacht in het weekend."
    answer.save()
    return answer


def test_beside_the_advice_form_lie_the_checklist_the_advices_and_the_documents(
    client, quality_team, location
):
    request = AdmissionRequestFactory(at_quality_team=True, location=location)
    answer = changed_second_revision(request)
    manager = request.assigned_location_manager
    manager.first_name, manager.last_name = "Piet", "Jansen"
    manager.save()
    Advice.objects.create(
        admission_request=request,
        step=AdviceStep.LOCATION_MANAGER,
        outcome=AdviceOutcome.POSITIVE,
        motivation="De zorg is goed geregeld.",
        decided_on=datetime.date(2026, 10, 1),
        decided_by=manager,
    )
    client.force_login(quality_team)

    response = client.get(
        reverse("admin:procedure_admissionrequest_action", args=[request.pk, "advise-quality-team"])
    )

    dossier = response.context["dossier"]
    assert [row.item.pk for row in dossier.checklist.unmet] == [answer.item_id]
    assert [row.item.pk for row in dossier.checklist.changed] == [answer.item_id]
    page = response.content.decode()
    assert answer.item.question in page and "Geen achterwacht in het weekend." in page
    assert "De zorg is goed geregeld." in page and "Piet Jansen" in page
    assert "1 oktober 2026" in page
    assert reverse("procedure:checklist_print_revision", args=[request.pk, 2]) in page
    assert reverse("procedure:checklist_print_revision", args=[request.pk, 1]) in page


def test_the_dossier_is_read_in_a_constant_number_of_queries(
    location, quality_team, django_assert_max_num_queries
):
    small = AdmissionRequestFactory(at_quality_team=True, location=location)
    submitted_assessment(small)
    large = AdmissionRequestFactory(
        at_quality_team=True, location=CareLocationFactory(hap_post=location.hap_post)
    )
    changed_second_revision(large)
    for day in range(1, 6):
        Advice.objects.create(
            admission_request=large,
            step=AdviceStep.QUALITY_TEAM,
            outcome=AdviceOutcome.MORE_INFORMATION,
            motivation="Nog niet compleet.",
            decided_on=datetime.date(2026, 10, day),
            decided_by=quality_team,
        )

    with CaptureQueriesContext(connection) as few:
        advice_dossier(small)
    with django_assert_max_num_queries(len(few.captured_queries) + 1):
        # One more: the second revision is compared with the first, the first with none.
        advice_dossier(large)


def test_a_quality_team_members_admin_index_shows_only_their_sections_in_dutch(
    client, quality_team
):
    client.force_login(quality_team)

    response = client.get(reverse("admin:index"))

    sections = [str(app["name"]) for app in response.context["app_list"]]
    assert sections == ["ANW-contracten", "Regio's en zorglocaties", "Toelatingsprocedure"]


def test_no_third_party_section_shows_in_english_or_invites_editing_the_schedule(client, make_user):
    client.force_login(make_user(is_staff=True, is_superuser=True))

    response = client.get(reverse("admin:index"))

    apps = {app["app_label"]: app for app in response.context["app_list"]}
    assert "django_celery_beat" not in apps  # the beat schedule is the settings'
    assert "auth" not in apps  # roles are given on the user's page
    assert str(apps["axes"]["name"]) == "Inlogpogingen"
    assert str(apps["otp_totp"]["name"]) == "Tweestapsverificatie"
    names = [str(model["name"]) for app in apps.values() for model in app["models"]]
    assert "Inlogpogingen (blokkades)" in names and "Authenticator-apps" in names
    english = {"Access attempts", "Access failures", "Access logs", "TOTP devices", "Groups"}
    assert not english & set(names)
