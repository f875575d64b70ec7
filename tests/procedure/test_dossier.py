"""The request's dossier for the regional council's meeting: every part of the request in one PDF,
for whoever may see the request, read in a constant number of queries."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.template.defaultfilters import date as date_filter
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from checklist.constants import AssessmentStatus
from checklist.models import Answer, Assessment
from hap_contracting.audit.constants import AccessAction, AccessOutcome
from hap_contracting.audit.models import AccessLogEntry
from hap_contracting.core import pdf
from hap_contracting.core.roles import Role
from hap_contracting.procedure.constants import AdviceOutcome, AdviceStep, RequestState
from hap_contracting.procedure.models import AdmissionRequest, Advice, TransitionLog
from hap_contracting.procedure.selectors.dossier import request_dossier
from hap_contracting.procedure.views.documents import dossier_html_context
from tests.accounts.factories import UserFactory
from tests.checklist.factories import submitted_assessment
from tests.procedure.factories import AdmissionRequestFactory

pytestmark = pytest.mark.django_db


def _revision(admission_request, revision: int, **values_by_code):
    """A further submitted revision of the request's checklist (a copy of revision 1's answers,
    with the values given)."""
    first = Assessment.objects.get(admission_request=admission_request, revision=1)
    assessment = Assessment.objects.create(
        admission_request=admission_request,
        template=first.template,
        revision=revision,
        created_by=first.created_by,
        status=AssessmentStatus.SUBMITTED,
        submitted_at=timezone.now(),
        submitted_by=first.submitted_by,
    )
    codes = {key.replace("_", "-"): value for key, value in values_by_code.items()}
    Answer.objects.bulk_create(
        Answer(
            assessment=assessment,
            item=answer.item,
            value=codes.get(answer.item.code, answer.value),
        )
        for answer in first.answers.select_related("item")
    )
    return assessment


def _history(admission_request, *, at, by, source, state, description):
    return TransitionLog.objects.create(
        content_type=ContentType.objects.get_for_model(AdmissionRequest),
        object_id=admission_request.pk,
        timestamp=at,
        by=by,
        source_state=source,
        state=state,
        transition="test",
        description=description,
    )


@pytest.fixture
def at_council(staff, location):
    """A request before the council: two checklist revisions, the second changing the TPM item
    to "no" (an unmet knock-out), two advices and two history rows."""
    manager = staff[Role.LOCATION_MANAGER]
    manager.first_name, manager.last_name = "Lotte", "de Vries"
    manager.save()
    admission_request = AdmissionRequestFactory(
        at_council=True, location=location, assigned_location_manager=manager
    )
    submitted_assessment(admission_request)
    _revision(admission_request, 2, voorwacht_via_tpm="no")
    today = timezone.localdate()
    Advice.objects.create(
        admission_request=admission_request,
        step=AdviceStep.LOCATION_MANAGER,
        outcome=AdviceOutcome.POSITIVE,
        motivation="Voorwacht en achterwacht zijn geregeld.",
        decided_on=today,
        decided_by=manager,
    )
    Advice.objects.create(
        admission_request=admission_request,
        step=AdviceStep.QUALITY_TEAM,
        outcome=AdviceOutcome.POSITIVE,
        motivation="Het kwaliteitsteam adviseert positief.",
        decided_on=today,
        decided_by=staff[Role.QUALITY_TEAM],
    )
    # 14:05:09.123456 UTC on 1 July is 16:05 in Amsterdam (summer time).
    _history(
        admission_request,
        at=datetime.datetime(2025, 7, 1, 14, 5, 9, 123456, tzinfo=datetime.UTC),
        by=manager,
        source=RequestState.PRE_ASSESSMENT,
        state=RequestState.QUALITY_REVIEW,
        description="Voorwacht en achterwacht zijn geregeld.",
    )
    _history(
        admission_request,
        at=datetime.datetime(2025, 7, 2, 9, 0, tzinfo=datetime.UTC),
        by=staff[Role.QUALITY_TEAM],
        source=RequestState.QUALITY_REVIEW,
        state=RequestState.COUNCIL_REVIEW,
        description="Het kwaliteitsteam adviseert positief.",
    )
    return admission_request


def _rendered_dossier(user, pk) -> str:
    context = dossier_html_context(user, pk)
    with translation.override("nl"):
        return render_to_string("procedure/dossier_pdf.html", context)


def test_the_dossier_holds_every_part_of_the_request(staff, at_council):
    html = _rendered_dossier(staff[Role.REGIONAL_COUNCIL], at_council.pk)
    location = at_council.location

    # The care location: name, address, organisation, region, post.
    assert location.name in html
    assert location.address in html
    assert location.organisation.name in html
    assert "Zwolle" in html
    assert "HAP Zwolle" in html
    # The request: reference, kind, received, state (Dutch).
    assert at_council.reference in html
    assert "Nieuwe toetreder" in html
    with translation.override("nl"):
        assert date_filter(at_council.received_on, "j F Y") in html
    assert "Beoordeling door de regioraad" in html
    # The checklist: the latest submitted revision, the unmet knock-out in words, the change.
    assert "revisie 2" in html
    assert "NIET VOLDAAN (knock-out)" in html
    assert "Gewijzigd" in html
    assert "1 knock-outvraag niet voldaan." in html
    # The advices with motivation, author (full name) and date.
    assert "Voorwacht en achterwacht zijn geregeld." in html
    assert "Lotte de Vries" in html
    assert staff[Role.QUALITY_TEAM].get_full_name() in html
    # The documents: the checklist revisions by name.
    assert "Checklist, revisie 1" in html and "Checklist, revisie 2" in html
    # The history: Dutch labels, the actor's name, Amsterdam time without seconds.
    history = html.split('data-part="history"')[1]
    assert "Vooronderzoek door de locatiemanager" in history
    assert "Beoordeling door het kwaliteitsteam" in history
    assert "Lotte de Vries" in history
    assert "1 juli 2025 16:05" in history
    assert "16:05:09" not in html and "123456" not in html


def test_only_the_checklists_latest_submitted_revision_is_in_the_dossier(staff, at_council):
    Assessment.objects.create(
        admission_request=at_council,
        template=Assessment.objects.get(admission_request=at_council, revision=1).template,
        revision=3,
        created_by=at_council.assigned_location_manager,
    )

    dossier = request_dossier(staff[Role.REGIONAL_COUNCIL], at_council.pk)

    assert dossier.checklist.assessment.revision == 2
    assert dossier.checklist.compared_with.revision == 1
    assert [row.item.code for row in dossier.unmet_knock_outs] == ["voorwacht-via-tpm"]
    assert [row.item.code for row in dossier.changed] == ["voorwacht-via-tpm"]


def test_the_unmet_knock_out_is_marked_in_words_on_its_own_row(staff, at_council):
    html = _rendered_dossier(staff[Role.REGIONAL_COUNCIL], at_council.pk)

    row = html.split('data-item="voorwacht-via-tpm"')[1].split("</tr>")[0]
    assert "NIET VOLDAAN (knock-out)" in row
    assert "Gewijzigd" in row
    met_row = html.split('data-item="voorwacht-24h-nursing"')[1].split("</tr>")[0]
    assert "Voldaan" in met_row and "NIET" not in met_row


def test_the_council_downloads_the_dossier_as_a_pdf_and_it_is_logged(
    client, staff, at_council, monkeypatch
):
    rendered = []
    render = pdf.render_to_string

    def spy(*args, **kwargs):
        rendered.append(render(*args, **kwargs))
        return rendered[-1]

    monkeypatch.setattr(pdf, "render_to_string", spy)
    council = staff[Role.REGIONAL_COUNCIL]
    client.force_login(council)

    response = client.get(reverse("procedure:request_dossier", args=[at_council.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert f"dossier-{at_council.reference}.pdf" in response["Content-Disposition"]
    assert "NIET VOLDAAN (knock-out)" in rendered[0]
    entry = AccessLogEntry.objects.get(user=council)
    assert (entry.action, entry.outcome) == (AccessAction.EXPORT, AccessOutcome.SHOWN)
    assert at_council.reference in entry.what


def test_the_request_page_and_the_admin_link_to_the_dossier(client, staff, at_council):
    client.force_login(staff[Role.SECRETARIAT])
    page = client.get(reverse("procedure:request_detail", args=[at_council.pk]))
    assert reverse("procedure:request_dossier", args=[at_council.pk]) in page.content.decode()
    assert "Dossier (PDF)" in page.content.decode()

    quality_team = UserFactory(roles=[Role.QUALITY_TEAM], region=at_council.location.region)
    quality_team.is_staff = True
    quality_team.save()
    client.force_login(quality_team)
    admin_page = client.get(
        reverse("admin:procedure_admissionrequest_change", args=[at_council.pk])
    )
    assert admin_page.status_code == 200
    assert reverse("procedure:request_dossier", args=[at_council.pk]) in admin_page.content.decode()


def test_a_user_of_another_region_gets_no_dossier_and_nothing_is_logged_as_shown(
    client, at_council, flevoland, make_user
):
    other = make_user(Role.REGIONAL_COUNCIL, region=flevoland)
    client.force_login(other)

    response = client.get(reverse("procedure:request_dossier", args=[at_council.pk]))

    assert response.status_code == 404
    assert not AccessLogEntry.objects.filter(outcome=AccessOutcome.SHOWN).exists()
    assert AccessLogEntry.objects.get(user=other).outcome == AccessOutcome.NOT_FOUND


def test_a_user_without_a_role_gets_no_dossier_and_nothing_is_logged_as_shown(
    client, at_council, zwolle
):
    """A staff account whose roles were taken away sees no request of its region."""
    no_role = UserFactory(roles=[], region=zwolle, is_staff=True)
    client.force_login(no_role)

    response = client.get(reverse("procedure:request_dossier", args=[at_council.pk]))

    assert response.status_code == 404
    assert not AccessLogEntry.objects.filter(outcome=AccessOutcome.SHOWN).exists()


def test_the_dossier_is_read_in_a_constant_number_of_queries(
    staff, at_council, django_assert_num_queries
):
    """Regression guard: a query per advice, revision, document or history row would make the
    count grow with the dossier; after five more revisions, advices and history rows it is the
    same."""
    council = staff[Role.REGIONAL_COUNCIL]
    _rendered_dossier(council, at_council.pk)  # the content type is cached after the first
    with CaptureQueriesContext(connection) as before:
        _rendered_dossier(council, at_council.pk)
    for number in range(3, 8):
        _revision(at_council, number, voorwacht_via_tpm="yes" if number % 2 else "no")
        _history(
            at_council,
            at=timezone.now(),
            by=council,
            source=RequestState.COUNCIL_REVIEW,
            state=RequestState.COUNCIL_REVIEW,
            description=f"Notitie {number}",
        )
        Advice.objects.create(
            admission_request=at_council,
            step=AdviceStep.QUALITY_TEAM,
            outcome=AdviceOutcome.MORE_INFORMATION,
            motivation=f"Aanvullen {number}.",
            decided_on=timezone.localdate(),
            decided_by=staff[Role.QUALITY_TEAM],
        )

    with django_assert_num_queries(len(before)):
        html = _rendered_dossier(council, at_council.pk)

    assert "Checklist, revisie 7" in html and "Aanvullen 7." in html
    assert len(before) <= 16


def test_the_dossier_lists_the_renewed_contracts_signed_documents_by_name(staff, location):
    from hap_contracting.contracts.models import ContractDocument
    from tests.contracts.factories import ContractFactory

    contract = ContractFactory(location=location)
    ContractDocument.objects.create(
        contract=contract,
        version=1,
        file="contracts/1/v1.pdf",
        original_name="overeenkomst-getekend.pdf",
        uploaded_by=staff[Role.SECRETARIAT],
    )
    renewal = AdmissionRequestFactory(at_council=True, location=location, renews_contract=contract)

    html = _rendered_dossier(staff[Role.REGIONAL_COUNCIL], renewal.pk)

    documents = html.split('data-part="documents"')[1].split("</section>")[0]
    assert "overeenkomst-getekend.pdf" in documents
    assert contract.reference in documents
