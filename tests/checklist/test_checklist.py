"""The pre-assessment checklist (seed 004, appendix 4) and how it gates the advice."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from checklist.constants import AssessmentStatus
from checklist.demo import complete_answers
from checklist.models import Answer, Assessment, ChecklistItem, ChecklistTemplate
from checklist.selectors import assessment_view, assessment_views, current_template
from checklist.services import checklist_template_new_version
from hap_contracting.core.errors import DomainError
from hap_contracting.core.roles import Role
from hap_contracting.core.text import TextLimit
from hap_contracting.procedure.constants import AdviceOutcome, AdviceStep, RequestKind, RequestState
from hap_contracting.procedure.models import positive_advice_blockers
from hap_contracting.procedure.services.admission import admission_request_advise
from hap_contracting.procedure.services.pre_assessment import (
    pre_assessment_save,
    pre_assessment_start,
    pre_assessment_submit,
)
from tests.checklist.factories import submitted_assessment
from tests.organisations.factories import TargetGroupFactory
from tests.procedure.factories import AdmissionRequestFactory

S = RequestState


def close_procedure(admission_request):
    """The earlier procedure ended (a location has one open request at a time)."""
    type(admission_request).objects.filter(pk=admission_request.pk).update(state=S.CONTRACTED)


pytestmark = pytest.mark.django_db

APPENDIX_4_ITEMS = {
    "voorwacht-24h-nursing",
    "voorwacht-nursing-triage",
    "voorwacht-own-physician",
    "voorwacht-via-tpm",
    "triage-blood-pressure",
    "triage-pulse",
    "triage-oxygen",
    "triage-temperature",
    "triage-urine",
    "triage-tpm-principle",
    "achterwacht-nurse-receives-gp",
    "achterwacht-nurse-assists",
    "achterwacht-so-avg-reachable",
    "achterwacht-so-avg-video",
    "achterwacht-so-avg-name",
    "achterwacht-so-avg-phone",
    "achterwacht-so-avg-hours",
    "special-consultation-24-7",
    "special-consultant",
    "record-access",
    "interpreter-phone",
    "hap-vecozo",
    "hap-central-so-avg-number",
}


@pytest.fixture
def manager(staff):
    return staff[Role.LOCATION_MANAGER]


@pytest.fixture
def request_in_pre_assessment(location, manager):
    return AdmissionRequestFactory(
        in_pre_assessment=True, location=location, assigned_location_manager=manager
    )


def started(request, manager):
    return pre_assessment_start(admission_request=request, by=manager)


def answers_with(assessment, **values):
    return complete_answers(assessment.template, **values)


def item(code):
    return ChecklistItem.objects.get(section__template=current_template(), code=code)


def test_version_1_0_ships_every_item_of_appendix_4():
    template = ChecklistTemplate.objects.get(version="1.0")

    codes = set(
        ChecklistItem.objects.filter(section__template=template).values_list("code", flat=True)
    )

    assert codes == APPENDIX_4_ITEMS
    assert (template.owner, template.revised_on) == ("Locatiemanager", datetime.date(2021, 1, 6))
    assert current_template() == template


def test_knock_out_items_are_the_appendixs_conditions():
    knock_outs = set(ChecklistItem.objects.filter(is_knock_out=True).values_list("code", flat=True))

    assert "achterwacht-so-avg-hours" in knock_outs
    assert {
        "triage-blood-pressure",
        "triage-pulse",
        "triage-oxygen",
        "triage-temperature",
    } <= knock_outs
    assert not {"triage-urine", "interpreter-phone", "hap-vecozo"} & knock_outs


def test_a_draft_is_saved_incomplete_and_continued_later(request_in_pre_assessment, manager):
    assessment = started(request_in_pre_assessment, manager)
    first = item("voorwacht-24h-nursing")

    pre_assessment_save(
        assessment=assessment,
        by=manager,
        answers={first.pk: {"value": "yes", "explanation": "", "remark": "Gezien bij bezoek."}},
    )

    assert started(request_in_pre_assessment, manager) == assessment
    answer = Answer.objects.get(assessment=assessment, item=first)
    assert (answer.value, answer.remark) == ("yes", "Gezien bij bezoek.")
    assert assessment.status == AssessmentStatus.DRAFT


def test_submitting_an_incomplete_checklist_names_every_missing_item_and_keeps_the_draft(
    request_in_pre_assessment, manager
):
    assessment = started(request_in_pre_assessment, manager)
    answers = answers_with(assessment)
    missing = item("record-access")
    answers[missing.pk]["value"] = None

    with pytest.raises(DomainError) as error:
        pre_assessment_submit(assessment=assessment, by=manager, answers=answers)

    assert list(error.value.errors) == [missing.pk]
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.DRAFT
    assert assessment.answers.count() == len(answers)


def test_a_no_needs_an_explanation(request_in_pre_assessment, manager):
    assessment = started(request_in_pre_assessment, manager)
    answers = answers_with(assessment, voorwacht_24h_nursing="no")

    with pytest.raises(DomainError) as error:
        pre_assessment_submit(assessment=assessment, by=manager, answers=answers)

    assert error.value.errors == {item("voorwacht-24h-nursing").pk: "Licht toe waarom niet."}


@pytest.mark.parametrize("number", ["12345", "0381234", "+31 6 1234", "telefoon"])
def test_a_telephone_number_that_is_not_one_is_refused_and_nothing_is_saved(
    request_in_pre_assessment, manager, number
):
    assessment = started(request_in_pre_assessment, manager)
    phone = item("achterwacht-so-avg-phone")

    with pytest.raises(DomainError) as error:
        pre_assessment_save(
            assessment=assessment,
            by=manager,
            answers=answers_with(assessment, achterwacht_so_avg_phone=number),
        )

    assert phone.pk in error.value.errors
    assert not assessment.answers.exists()


def test_an_explanation_over_its_limit_is_refused_at_its_field_and_nothing_is_saved(
    request_in_pre_assessment, manager
):
    assessment = started(request_in_pre_assessment, manager)
    nursing = item("voorwacht-24h-nursing")
    answers = answers_with(assessment)
    answers[nursing.pk] |= {"explanation": "x" * (TextLimit.DESCRIPTION + 1)}

    with pytest.raises(DomainError) as error:
        pre_assessment_save(assessment=assessment, by=manager, answers=answers)

    assert list(error.value.errors) == [(nursing.pk, "explanation")]
    assert not assessment.answers.exists()


def test_a_text_answer_or_remark_over_its_limit_is_shown_at_its_field_on_the_page(
    client, request_in_pre_assessment, manager
):
    client.force_login(manager)
    client.post(reverse("procedure:checklist_start", args=[request_in_pre_assessment.pk]))
    name = item("achterwacht-so-avg-name").pk
    remark = item("record-access").pk

    response = client.post(
        reverse("procedure:checklist", args=[request_in_pre_assessment.pk]),
        {
            f"item_{name}_value": "x" * (TextLimit.ANSWER + 1),
            f"item_{remark}_remark": "x" * (TextLimit.REMARK + 1),
            "save": "1",
        },
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert f"item_{name}_value" in errors and f"item_{remark}_remark" in errors
    assert not Answer.objects.exists()


@pytest.mark.parametrize(
    "number", ["038 123 45 67", "0381234567", "+31 38 123 4567", "06-12345678"]
)
def test_dutch_telephone_numbers_are_accepted_and_normalised(
    request_in_pre_assessment, manager, number
):
    assessment = started(request_in_pre_assessment, manager)

    pre_assessment_save(
        assessment=assessment,
        by=manager,
        answers=answers_with(assessment, achterwacht_so_avg_phone=number),
    )

    stored = assessment.answers.get(item__code="achterwacht-so-avg-phone").value
    assert stored.replace(" ", "").replace("-", "").startswith("0")


@pytest.mark.parametrize(
    ("hours", "gap"),
    [
        ({"from": "17:00", "to": "23:00", "weekends": True}, "nacht"),
        ({"from": "19:00", "to": "08:00", "weekends": True}, "avond"),
        ({"from": "17:00", "to": "06:00", "weekends": True}, "nacht"),
        ({"from": "17:00", "to": "08:00", "weekends": False}, "weekend"),
        ({"from": "17:00", "to": "23:59", "weekends": True}, "nacht"),
    ],
)
def test_hours_that_do_not_cover_evenings_nights_and_weekends_are_named(
    request_in_pre_assessment, manager, hours, gap
):
    assessment = started(request_in_pre_assessment, manager)

    with pytest.raises(DomainError) as error:
        pre_assessment_submit(
            assessment=assessment,
            by=manager,
            answers=answers_with(assessment, achterwacht_so_avg_hours=hours),
        )

    assert gap in error.value.errors[item("achterwacht-so-avg-hours").pk]


@pytest.mark.parametrize(
    "hours",
    [
        {"from": "17:00", "to": "08:00", "weekends": True},
        {"from": "16:00", "to": "09:00", "weekends": True},
        {"from": "00:00", "to": "00:00", "weekends": True},
        {"from": "00:00", "to": "23:59", "weekends": True},
        {"from": "23:59", "to": "23:59", "weekends": True},
    ],
)
def test_hours_covering_anw_meet_the_item(request_in_pre_assessment, manager, hours):
    assessment = started(request_in_pre_assessment, manager)

    pre_assessment_submit(
        assessment=assessment,
        by=manager,
        answers=answers_with(assessment, achterwacht_so_avg_hours=hours),
    )

    assert positive_advice_blockers(request_in_pre_assessment) == []


def test_a_submitted_revision_is_frozen(request_in_pre_assessment, manager):
    assessment = started(request_in_pre_assessment, manager)
    pre_assessment_submit(assessment=assessment, by=manager, answers=answers_with(assessment))

    with pytest.raises(DomainError):
        pre_assessment_save(
            assessment=assessment, by=manager, answers=answers_with(assessment, record_access="no")
        )

    assert assessment.answers.get(item__code="record-access").value == "yes"


def test_positive_advice_is_impossible_while_the_checklist_is_not_submitted(
    request_in_pre_assessment, manager
):
    assessment = started(request_in_pre_assessment, manager)
    pre_assessment_save(assessment=assessment, by=manager, answers=answers_with(assessment))

    with pytest.raises(DomainError) as error:
        admission_request_advise(
            admission_request=request_in_pre_assessment,
            by=manager,
            step=AdviceStep.LOCATION_MANAGER,
            outcome=AdviceOutcome.POSITIVE,
            motivation="Prima.",
        )

    assert "niet ingediend" in error.value.message
    assert request_in_pre_assessment.state == S.PRE_ASSESSMENT


def test_positive_advice_is_impossible_while_a_knock_out_item_is_unmet(
    request_in_pre_assessment, manager
):
    submitted_assessment(request_in_pre_assessment, record_access="no")

    with pytest.raises(DomainError) as error:
        admission_request_advise(
            admission_request=request_in_pre_assessment,
            by=manager,
            step=AdviceStep.LOCATION_MANAGER,
            outcome=AdviceOutcome.POSITIVE,
            motivation="Prima.",
        )

    assert item("record-access").question in error.value.message
    request_in_pre_assessment.refresh_from_db()
    assert request_in_pre_assessment.state == S.PRE_ASSESSMENT


def test_a_negative_advice_is_always_possible(request_in_pre_assessment, manager):
    admission_request_advise(
        admission_request=request_in_pre_assessment,
        by=manager,
        step=AdviceStep.LOCATION_MANAGER,
        outcome=AdviceOutcome.NEGATIVE,
        motivation="Geen nachtelijke achterwacht.",
    )

    assert request_in_pre_assessment.state == S.REJECTED


def test_an_unmet_informative_item_does_not_block(request_in_pre_assessment, manager):
    submitted_assessment(request_in_pre_assessment, interpreter_phone="no")

    assert positive_advice_blockers(request_in_pre_assessment) == []


def test_special_target_group_items_are_asked_only_where_such_a_group_lives(
    request_in_pre_assessment, manager
):
    assessment = started(request_in_pre_assessment, manager)
    answers = answers_with(assessment, special_consultation_24_7=None, special_consultant=None)
    pre_assessment_submit(assessment=assessment, by=manager, answers=answers)
    assert positive_advice_blockers(request_in_pre_assessment) == []

    request_in_pre_assessment.location.target_groups.add(
        TargetGroupFactory(name="Gedragsproblematiek", is_special=True)
    )
    rows = {row.item.code: row for row in assessment_view(assessment).rows}
    assert rows["special-consultation-24-7"].unmet_knock_out
    assert positive_advice_blockers(request_in_pre_assessment) != []


def test_a_new_template_version_never_changes_assessments_already_made(
    request_in_pre_assessment, manager, location, staff
):
    old = submitted_assessment(request_in_pre_assessment, interpreter_phone="no")
    new = checklist_template_new_version(
        template=old.template, version="1.1", effective_from=timezone.localdate()
    )
    ChecklistItem.objects.filter(section__template=new, code="interpreter-phone").update(
        is_knock_out=True
    )

    assert current_template() == new
    assert old.template.version == "1.0"
    assert positive_advice_blockers(request_in_pre_assessment) == []
    close_procedure(request_in_pre_assessment)
    renewal = AdmissionRequestFactory(
        in_pre_assessment=True,
        location=location,
        assigned_location_manager=manager,
        kind=RequestKind.NEW_ENTRANT,
    )
    assert started(renewal, manager).template == new


def test_a_renewal_starts_prefilled_from_the_previous_assessment_to_confirm(
    location, manager, request_in_pre_assessment
):
    previous = submitted_assessment(request_in_pre_assessment, triage_urine="no")
    close_procedure(request_in_pre_assessment)
    renewal = AdmissionRequestFactory(
        in_pre_assessment=True,
        location=location,
        assigned_location_manager=manager,
        kind=RequestKind.RENEWAL,
    )

    assessment = started(renewal, manager)

    assert assessment.prefilled_from == previous
    assert assessment.answers.count() == previous.answers.count()
    assert all(assessment.answers.values_list("to_confirm", flat=True))
    with pytest.raises(DomainError) as error:
        pre_assessment_submit(assessment=assessment, by=manager, answers={})
    applicable = {a.item_id for a in assessment.answers.filter(item__applies="always")}
    assert set(error.value.errors) == applicable

    confirmed = {
        a.item_id: {
            "value": a.value,
            "explanation": "Nog steeds zo.",
            "remark": "",
            "confirmed": True,
        }
        for a in assessment.answers.all()
    }
    pre_assessment_submit(assessment=assessment, by=manager, answers=confirmed)
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SUBMITTED


def send_back(admission_request, manager, staff) -> None:
    """The location manager advises positively; the quality team asks for more information."""
    admission_request_advise(
        admission_request=admission_request,
        by=manager,
        step=AdviceStep.LOCATION_MANAGER,
        outcome=AdviceOutcome.POSITIVE,
        motivation="Voldoet.",
    )
    admission_request_advise(
        admission_request=admission_request,
        by=staff[Role.QUALITY_TEAM],
        step=AdviceStep.QUALITY_TEAM,
        outcome=AdviceOutcome.MORE_INFORMATION,
        motivation="Naam SO ontbreekt.",
    )


def test_sending_back_starts_a_new_revision_and_keeps_the_earlier_one(
    request_in_pre_assessment, manager, staff
):
    first = submitted_assessment(request_in_pre_assessment)
    send_back(request_in_pre_assessment, manager, staff)

    second = started(request_in_pre_assessment, manager)

    assert (first.revision, second.revision) == (1, 2)
    assert second.status == AssessmentStatus.DRAFT
    assert second.answers.count() == first.answers.count()
    first.refresh_from_db()
    assert first.status == AssessmentStatus.SUBMITTED
    assert positive_advice_blockers(request_in_pre_assessment) != []


def test_after_a_send_back_a_positive_advice_needs_a_new_submitted_revision(
    request_in_pre_assessment, manager, staff
):
    submitted_assessment(request_in_pre_assessment)
    send_back(request_in_pre_assessment, manager, staff)

    blocked_on_the_old_revision = positive_advice_blockers(request_in_pre_assessment)
    second = started(request_in_pre_assessment, manager)
    pre_assessment_submit(
        assessment=second,
        by=manager,
        answers={
            a.item_id: {"value": a.value, "explanation": a.explanation}
            for a in second.answers.all()
        },
    )

    assert blocked_on_the_old_revision
    assert "teruggestuurd" in blocked_on_the_old_revision[0]
    assert positive_advice_blockers(request_in_pre_assessment) == []


def test_only_the_assigned_location_manager_fills_in_the_checklist(
    request_in_pre_assessment, make_user, zwolle, staff
):
    colleague = make_user(Role.LOCATION_MANAGER, region=zwolle)

    for user in (colleague, staff[Role.QUALITY_TEAM], staff[Role.SECRETARIAT]):
        with pytest.raises(DomainError):
            started(request_in_pre_assessment, user)
    assert not Assessment.objects.exists()


def test_the_checklist_can_only_be_started_during_pre_assessment(location, manager):
    request = AdmissionRequestFactory(
        at_quality_team=True, location=location, assigned_location_manager=manager
    )

    with pytest.raises(DomainError):
        started(request, manager)


# --- pages -----------------------------------------------------------------------------------


def test_the_location_manager_fills_in_and_submits_through_the_page(
    client, request_in_pre_assessment, manager
):
    client.force_login(manager)
    url = reverse("procedure:checklist", args=[request_in_pre_assessment.pk])
    client.post(reverse("procedure:checklist_start", args=[request_in_pre_assessment.pk]))
    assessment = Assessment.objects.get()
    data = {}
    for item_id, answer in answers_with(assessment).items():
        value = answer["value"]
        if isinstance(value, dict):
            data |= {
                f"item_{item_id}_from": value["from"],
                f"item_{item_id}_to": value["to"],
                f"item_{item_id}_weekends": "on",
            }
        elif value is not None:
            data[f"item_{item_id}_value"] = value

    draft = client.post(url, {**data, f"item_{item('record-access').pk}_value": "", "save": "1"})
    incomplete = client.post(
        url, {**data, f"item_{item('record-access').pk}_value": "", "submit": "1"}
    )
    submitted = client.post(url, {**data, "submit": "1"})

    assert draft.status_code == 302
    assert incomplete.status_code == 200
    assert f"item_{item('record-access').pk}_value" in incomplete.context["form"].errors
    assert submitted.status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SUBMITTED


def test_others_in_the_region_read_the_checklist_and_cannot_post(
    client, request_in_pre_assessment, staff
):
    submitted_assessment(request_in_pre_assessment, record_access="no")
    client.force_login(staff[Role.QUALITY_TEAM])
    url = reverse("procedure:checklist", args=[request_in_pre_assessment.pk])

    page = client.get(url)
    client.post(url, {"submit": "1"})

    assert page.status_code == 200
    assert page.context["form"] is None
    assert b'data-item="record-access"' in page.content
    assert b"table-danger" in page.content


def test_another_region_cannot_open_the_checklist(
    client, request_in_pre_assessment, make_user, flevoland
):
    client.force_login(make_user(Role.LOCATION_MANAGER, region=flevoland))

    assert (
        client.get(reverse("procedure:checklist", args=[request_in_pre_assessment.pk])).status_code
        == 404
    )


def test_the_advice_page_shows_the_unmet_items(client, request_in_pre_assessment, manager):
    submitted_assessment(request_in_pre_assessment, record_access="no")
    client.force_login(manager)

    page = client.get(
        reverse(
            "procedure:request_action",
            args=[request_in_pre_assessment.pk, "advise-location-manager"],
        )
    )

    assert item("record-access").question in page.content.decode()


def test_the_council_sees_the_checklist_in_the_admin_with_unmet_items_highlighted(
    client, location, manager, zwolle, make_user
):
    request = AdmissionRequestFactory(
        at_council=True, location=location, assigned_location_manager=manager
    )
    submitted_assessment(request, interpreter_phone="no")
    client.force_login(make_user(Role.REGIONAL_COUNCIL, region=zwolle, is_staff=True))

    page = client.get(reverse("admin:procedure_admissionrequest_change", args=[request.pk]))

    content = page.content.decode()
    assert "Versie 1.0" in content
    assert 'data-item="interpreter-phone" class=""' in content  # informative: not highlighted
    assert 'data-item="record-access" class=""' in content


def test_the_admin_highlights_unmet_knock_outs_and_answers_changed_since_last_time(
    client, location, manager, zwolle, make_user
):
    earlier = AdmissionRequestFactory(
        state=RequestState.CONTRACTED, location=location, assigned_location_manager=manager
    )
    submitted_assessment(earlier, interpreter_phone="yes")
    request = AdmissionRequestFactory(
        at_council=True, location=location, assigned_location_manager=manager
    )
    submitted_assessment(request, interpreter_phone="no", triage_pulse="no")
    client.force_login(make_user(Role.REGIONAL_COUNCIL, region=zwolle, is_staff=True))

    page = client.get(reverse("admin:procedure_admissionrequest_change", args=[request.pk]))

    content = page.content.decode()
    assert 'data-item="triage-pulse" class="checklist-unmet"' in content
    assert 'data-item="interpreter-phone" class="checklist-changed"' in content
    assert 'data-item="record-access" class=""' in content
    assert earlier.reference in content


def _revision(request, number, **values_by_code):
    assessment = submitted_assessment(request, **values_by_code)
    assessment.revision = number
    assessment.save()
    return assessment


def test_each_revision_is_compared_with_the_one_before_it_in_a_constant_number_of_queries(
    location, manager, django_assert_max_num_queries
):
    earlier = AdmissionRequestFactory(
        state=RequestState.CONTRACTED, location=location, assigned_location_manager=manager
    )
    submitted_assessment(earlier, interpreter_phone="yes")
    request = AdmissionRequestFactory(
        at_council=True, location=location, assigned_location_manager=manager
    )
    # The newest revision on a new version of the checklist, the others on the old one.
    new_version = checklist_template_new_version(
        template=current_template(), version="1.1", effective_from=timezone.localdate()
    )
    third = _revision(request, 3, interpreter_phone="no", triage_pulse="no")
    new_version.effective_from = timezone.localdate() + datetime.timedelta(days=1)
    new_version.save()
    second = _revision(request, 2, interpreter_phone="no")
    first = _revision(request, 1, interpreter_phone="yes")

    with CaptureQueriesContext(connection) as all_three:
        views = assessment_views(request)

    changed = [{row.item.code for row in view.rows if row.changed} for view in views]
    assert [view.assessment for view in views] == [third, second, first]
    assert [view.assessment.template.version for view in views] == ["1.1", "1.0", "1.0"]
    assert [view.compared_with for view in views][:2] == [second, first]
    with django_assert_max_num_queries(0):  # the tables name the request compared with
        assert views[2].compared_with.admission_request.reference == earlier.reference
    assert changed == [{"triage-pulse"}, {"interpreter-phone"}, set()]
    for view in views:  # as each revision's own page compares it
        alone = assessment_view(view.assessment)
        assert [(r.item.pk, r.changed, r.verdict) for r in alone.rows] == [
            (r.item.pk, r.changed, r.verdict) for r in view.rows
        ]
    Assessment.objects.filter(pk__in=[second.pk, third.pk]).delete()
    with django_assert_max_num_queries(len(all_three.captured_queries)):
        assert len(assessment_views(request)) == 1
    assert len(all_three.captured_queries) <= 7


def _admin_form_data(response) -> dict:
    """What the admin change page would post back unchanged: the form and its inlines."""
    data = {}

    def put(bound_field):
        value = bound_field.value()
        if value is True:
            data[bound_field.html_name] = "on"
        elif value not in (None, False):
            data[bound_field.html_name] = value

    for field in response.context["adminform"].form:
        put(field)
    for inline in response.context["inline_admin_formsets"]:
        for field in inline.formset.management_form:
            put(field)
        for form in inline.formset.forms:
            for field in form:
                put(field)
    return data


def test_an_administrator_makes_an_item_knock_out_in_a_new_version_only(
    client, request_in_pre_assessment, make_user
):
    submitted_assessment(request_in_pre_assessment)
    client.force_login(make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True))
    old = current_template()
    client.post(
        reverse("admin:checklist_checklisttemplate_changelist"),
        {"action": "make_new_version", "_selected_action": [old.pk]},
    )
    new = ChecklistTemplate.objects.get(version="1.1")
    section = new.sections.get(items__code="interpreter-phone")
    change = reverse("admin:checklist_checklistsection_change", args=[section.pk])

    data = _admin_form_data(client.get(change))
    formset = next(
        inline.formset
        for inline in client.get(change).context["inline_admin_formsets"]
        if inline.formset.model is ChecklistItem
    )
    position = next(
        i for i, form in enumerate(formset.forms) if form.instance.code == "interpreter-phone"
    )
    data[f"{formset.prefix}-{position}-is_knock_out"] = "on"
    saved = client.post(change, data)

    assert saved.status_code == 302
    assert ChecklistItem.objects.get(section__template=new, code="interpreter-phone").is_knock_out
    assert not ChecklistItem.objects.get(
        section__template=old, code="interpreter-phone"
    ).is_knock_out


def test_sections_of_a_version_in_use_cannot_be_added_or_deleted_in_the_admin(
    client, request_in_pre_assessment, make_user
):
    submitted_assessment(request_in_pre_assessment)
    client.force_login(make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True))
    template = current_template()
    section = template.sections.first()
    items_before = ChecklistItem.objects.filter(section__template=template).count()

    added = client.post(
        reverse("admin:checklist_checklistsection_add"),
        {
            "template": template.pk,
            "order": 99,
            "title": "Nieuw",
            "guidance": "",
            "items-TOTAL_FORMS": 0,
            "items-INITIAL_FORMS": 0,
        },
    )
    deleted = client.post(
        reverse("admin:checklist_checklistsection_delete", args=[section.pk]), {"post": "yes"}
    )

    assert added.status_code == 200 and "template" in added.context["adminform"].form.errors
    assert deleted.status_code == 403
    assert not template.sections.filter(title="Nieuw").exists()
    assert ChecklistItem.objects.filter(section__template=template).count() == items_before


def test_the_print_view_shows_version_and_answers(client, request_in_pre_assessment, manager):
    submitted_assessment(request_in_pre_assessment)
    client.force_login(manager)

    page = client.get(reverse("procedure:checklist_print", args=[request_in_pre_assessment.pk]))

    assert page.status_code == 200
    assert "Checklist beoordeling zorgaanbieder" in page.content.decode()


def test_the_council_downloads_the_checklist_as_a_pdf_and_other_regions_cannot(
    client, request_in_pre_assessment, manager, make_user, zwolle, flevoland
):
    submitted_assessment(request_in_pre_assessment)
    url = reverse("procedure:checklist_pdf", args=[request_in_pre_assessment.pk])

    client.force_login(make_user(Role.REGIONAL_COUNCIL, region=zwolle))
    document = client.get(url)
    client.force_login(make_user(Role.REGIONAL_COUNCIL, region=flevoland))
    elsewhere = client.get(url)

    assert document.status_code == 200
    assert document["Content-Type"] == "application/pdf"
    assert document.content.startswith(b"%PDF-")
    assert elsewhere.status_code == 404


def test_the_checklist_page_runs_a_constant_number_of_queries(
    client, request_in_pre_assessment, manager, django_assert_max_num_queries
):
    assessment = started(request_in_pre_assessment, manager)
    pre_assessment_save(assessment=assessment, by=manager, answers=answers_with(assessment))
    client.force_login(manager)

    # 17: the page's 16 and the menu's work count (cached for the next pages).
    with django_assert_max_num_queries(17):
        client.get(reverse("procedure:checklist", args=[request_in_pre_assessment.pk]))


def test_a_template_in_use_cannot_be_edited_in_the_admin(
    client, request_in_pre_assessment, make_user
):
    submitted_assessment(request_in_pre_assessment)
    admin_user = make_user(Role.ADMINISTRATOR, is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    template = current_template()

    response = client.post(
        reverse("admin:checklist_checklisttemplate_change", args=[template.pk]),
        {"name": "Anders", "version": "1.0", "effective_from": "2021-01-06", "owner": "x"},
    )

    template.refresh_from_db()
    assert response.status_code == 403
    assert template.name == "Checklist beoordeling zorgaanbieder"
