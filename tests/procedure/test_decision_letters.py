"""The decision letter to the requester: made once the council decided, from the template version
in force (the region's own before the national default), with only the documented placeholders,
and kept as it was made."""

import pytest
from django.urls import reverse

from hap_contracting.audit.constants import AccessAction
from hap_contracting.audit.models import AccessLogEntry
from hap_contracting.core import pdf
from hap_contracting.core.errors import DomainError
from hap_contracting.core.roles import Role
from hap_contracting.procedure.constants import AdviceOutcome, AdviceStep
from hap_contracting.procedure.models import DecisionLetter, DecisionLetterTemplate
from hap_contracting.procedure.services import admission as admission_services
from hap_contracting.procedure.services.letters import decision_letter_template_save
from tests.procedure.factories import AdmissionRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def council(staff):
    member = staff[Role.REGIONAL_COUNCIL]
    member.first_name, member.last_name = "Anna", "Bakker"
    member.save()
    return member


@pytest.fixture
def administrator(make_user):
    return make_user(Role.ADMINISTRATOR, is_staff=True)


@pytest.fixture
def at_council(location):
    return AdmissionRequestFactory(at_council=True, location=location)


def _decide(admission_request, council, outcome, motivation="De regioraad stemt in."):
    admission_services.admission_request_advise(
        admission_request=admission_request,
        by=council,
        step=AdviceStep.REGIONAL_COUNCIL,
        outcome=outcome,
        motivation=motivation,
    )


def _letter(client, admission_request):
    return client.get(reverse("procedure:decision_letter", args=[admission_request.pk]))


def test_an_approval_letter_carries_the_councils_motivation(client, council, at_council):
    _decide(at_council, council, AdviceOutcome.POSITIVE, "Alle knock-outvragen zijn voldaan.")
    client.force_login(council)

    response = _letter(client, at_council)

    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    letter = DecisionLetter.objects.get(admission_request=at_council)
    assert letter.outcome == AdviceOutcome.POSITIVE
    assert letter.template.region is None and letter.template.outcome == AdviceOutcome.POSITIVE
    assert "toegelaten" in letter.subject and at_council.reference in letter.subject
    assert "Alle knock-outvragen zijn voldaan." in letter.body
    assert "positief besloten" in letter.body
    assert "Anna Bakker" in letter.body
    assert at_council.location.name in letter.body
    assert "{{" not in letter.subject + letter.body
    assert AccessLogEntry.objects.filter(
        user=council, action=AccessAction.EXPORT, what__contains="decision letter"
    ).exists()


def test_a_rejection_letter_carries_the_councils_motivation(client, staff, council, at_council):
    _decide(at_council, council, AdviceOutcome.NEGATIVE, "De SO is 's nachts niet bereikbaar.")
    client.force_login(staff[Role.SECRETARIAT])

    assert _letter(client, at_council).status_code == 200

    letter = DecisionLetter.objects.get(admission_request=at_council)
    assert letter.outcome == AdviceOutcome.NEGATIVE
    assert "afgewezen" in letter.subject
    assert "De SO is 's nachts niet bereikbaar." in letter.body
    assert "af te wijzen" in letter.body


def test_the_letter_pdf_shows_the_letterhead_and_escapes_the_motivation(
    client, council, at_council, monkeypatch
):
    """A motivation is text: its braces are not read as placeholders, its markup is escaped."""
    rendered = []
    render = pdf.render_to_string
    monkeypatch.setattr(
        pdf, "render_to_string", lambda *a, **k: rendered.append(render(*a, **k)) or rendered[-1]
    )
    _decide(at_council, council, AdviceOutcome.POSITIVE, "Zie {{ regio }} <b>vet</b>.")
    client.force_login(council)

    _letter(client, at_council)

    html = rendered[0]
    assert "Regioraad Zwolle" in html
    assert "HAP Zwolle, Zwolle" in html
    assert at_council.requester_name in html
    assert "Zie {{ regio }} &lt;b&gt;vet&lt;/b&gt;." in html


def test_a_regions_own_template_beats_the_national_default(
    client, council, administrator, at_council, zwolle
):
    decision_letter_template_save(
        by=administrator,
        region=zwolle,
        outcome=AdviceOutcome.POSITIVE,
        subject="Regio {{ regio }}: akkoord met {{ referentie }}",
        body="Beste {{ aanvrager }}, akkoord. {{ motivering }}",
    )
    _decide(at_council, council, AdviceOutcome.POSITIVE, "Goed geregeld.")
    client.force_login(council)

    _letter(client, at_council)

    letter = DecisionLetter.objects.get(admission_request=at_council)
    assert letter.template.region == zwolle
    assert letter.subject == f"Regio Zwolle: akkoord met {at_council.reference}"
    assert letter.body == f"Beste {at_council.requester_name}, akkoord. Goed geregeld."


def test_another_regions_template_is_not_used(client, council, administrator, at_council):
    from tests.organisations.factories import RegionFactory

    decision_letter_template_save(
        by=administrator,
        region=RegionFactory(name="Hardenberg", slug="hardenberg"),
        outcome=AdviceOutcome.POSITIVE,
        subject="Hardenberg",
        body="Hardenberg",
    )
    _decide(at_council, council, AdviceOutcome.POSITIVE)
    client.force_login(council)

    _letter(client, at_council)

    assert DecisionLetter.objects.get(admission_request=at_council).template.region is None


@pytest.mark.parametrize(
    "placeholder", ["kvk", "locatie.organisation.kvk_number", "request.requester_email"]
)
def test_an_unknown_placeholder_is_refused_by_name_and_nothing_is_saved(
    client, administrator, placeholder
):
    before = DecisionLetterTemplate.objects.count()
    client.force_login(administrator)

    response = client.post(
        reverse("admin:procedure_decisionlettertemplate_add"),
        {
            "region": "",
            "outcome": AdviceOutcome.POSITIVE,
            "subject": "Besluit {{ referentie }}",
            "body": f"Geachte {{{{ aanvrager }}}}, uw KvK: {{{{ {placeholder} }}}}.",
        },
    )

    assert response.status_code == 200
    assert f"Onbekende plaatshouder {{{{ {placeholder} }}}}" in response.content.decode()
    assert DecisionLetterTemplate.objects.count() == before


def test_an_unclosed_placeholder_is_refused(administrator):
    with pytest.raises(DomainError) as refused:
        decision_letter_template_save(
            by=administrator,
            region=None,
            outcome=AdviceOutcome.NEGATIVE,
            subject="Besluit",
            body="Geachte {{ aanvrager,",
        )
    assert refused.value.field == "body"
    assert "niet gesloten" in str(refused.value.message)


def test_the_letter_is_not_available_before_the_council_decided(client, staff, at_council):
    client.force_login(staff[Role.SECRETARIAT])

    response = _letter(client, at_council)
    page = client.get(reverse("procedure:request_detail", args=[at_council.pk]))

    assert response.status_code == 404
    assert not DecisionLetter.objects.exists()
    assert reverse("procedure:decision_letter", args=[at_council.pk]) not in page.content.decode()


def test_a_request_rejected_before_the_council_has_no_decision_letter(client, staff, location):
    """A negative advice of the quality team ends the procedure, but the council did not decide:
    the letter is the council's."""
    rejected = AdmissionRequestFactory(at_quality_team=True, location=location)
    admission_services.admission_request_advise(
        admission_request=rejected,
        by=staff[Role.QUALITY_TEAM],
        step=AdviceStep.QUALITY_TEAM,
        outcome=AdviceOutcome.NEGATIVE,
        motivation="Voldoet niet.",
    )
    client.force_login(staff[Role.SECRETARIAT])

    assert _letter(client, rejected).status_code == 404
    assert not DecisionLetter.objects.exists()


def test_another_region_gets_no_letter(client, council, at_council, flevoland, make_user):
    _decide(at_council, council, AdviceOutcome.POSITIVE)
    client.force_login(make_user(Role.SECRETARIAT, region=flevoland))

    assert _letter(client, at_council).status_code == 404
    assert not DecisionLetter.objects.exists()


def test_after_the_decision_the_request_page_and_the_admin_link_to_the_letter(
    client, council, at_council, make_user, zwolle
):
    _decide(at_council, council, AdviceOutcome.POSITIVE)
    url = reverse("procedure:decision_letter", args=[at_council.pk])
    client.force_login(council)
    page = client.get(reverse("procedure:request_detail", args=[at_council.pk]))
    assert url in page.content.decode()

    client.force_login(make_user(Role.REGIONAL_COUNCIL, region=zwolle, is_staff=True))
    admin_page = client.get(
        reverse("admin:procedure_admissionrequest_change", args=[at_council.pk])
    )
    assert url in admin_page.content.decode()


def test_an_edited_template_changes_no_letter_made_before(
    client, council, administrator, at_council, location
):
    """Letters record the template version they were made with and keep their text: editing the
    template makes a new version, used by letters made afterwards only."""
    _decide(at_council, council, AdviceOutcome.POSITIVE, "Eerste besluit.")
    client.force_login(council)
    _letter(client, at_council)
    made = DecisionLetter.objects.get(admission_request=at_council)
    national = DecisionLetterTemplate.objects.get(
        region=None, outcome=AdviceOutcome.POSITIVE, version=1
    )
    old_subject, old_body = national.subject, national.body

    client.force_login(administrator)
    response = client.post(
        reverse("admin:procedure_decisionlettertemplate_change", args=[national.pk]),
        {"subject": "Nieuw: {{ referentie }}", "body": "Nieuwe tekst. {{ motivering }}"},
    )
    assert response.status_code == 302

    national.refresh_from_db()
    assert (national.subject, national.body) == (old_subject, old_body)
    newer = DecisionLetterTemplate.objects.get(
        region=None, outcome=AdviceOutcome.POSITIVE, version=2
    )
    assert newer.created_by == administrator
    client.force_login(council)
    _letter(client, at_council)
    again = DecisionLetter.objects.get(admission_request=at_council)
    assert (again.pk, again.template_id, again.body) == (made.pk, national.pk, made.body)

    later = AdmissionRequestFactory(
        at_council=True,
        location=type(location).objects.create(
            name="Huize Later",
            street="Laan",
            house_number=2,
            postcode="8012 AB",
            city="Zwolle",
            region=location.region,
            hap_post=location.hap_post,
        ),
    )
    _decide(later, council, AdviceOutcome.POSITIVE, "Tweede besluit.")
    _letter(client, later)
    assert DecisionLetter.objects.get(admission_request=later).body == (
        "Nieuwe tekst. Tweede besluit."
    )


def test_an_earlier_version_cannot_be_changed_in_the_admin(client, administrator):
    first = DecisionLetterTemplate.objects.get(
        region=None, outcome=AdviceOutcome.NEGATIVE, version=1
    )
    decision_letter_template_save(
        by=administrator,
        region=None,
        outcome=AdviceOutcome.NEGATIVE,
        subject="Versie 2",
        body="Tekst {{ motivering }}",
    )
    client.force_login(administrator)

    client.post(
        reverse("admin:procedure_decisionlettertemplate_change", args=[first.pk]),
        {"subject": "Overschreven", "body": "Overschreven"},
    )

    first.refresh_from_db()
    assert first.subject != "Overschreven"
    assert DecisionLetterTemplate.objects.filter(outcome=AdviceOutcome.NEGATIVE).count() == 2


def test_a_regional_administrator_changes_only_the_regions_own_letters(
    make_user, zwolle, flevoland
):
    regional = make_user(Role.ADMINISTRATOR, region=zwolle, is_staff=True)

    for region in (None, flevoland):
        with pytest.raises(DomainError):
            decision_letter_template_save(
                by=regional,
                region=region,
                outcome=AdviceOutcome.POSITIVE,
                subject="x",
                body="y",
            )
    assert not DecisionLetterTemplate.objects.exclude(created_by=None).exists()
    saved = decision_letter_template_save(
        by=regional, region=zwolle, outcome=AdviceOutcome.POSITIVE, subject="x", body="y"
    )
    assert (saved.region, saved.version) == (zwolle, 1)


def test_the_default_letters_use_only_the_documented_placeholders():
    from hap_contracting.core.placeholders import check_placeholders
    from hap_contracting.procedure.constants import LETTER_PLACEHOLDERS

    defaults = DecisionLetterTemplate.objects.filter(region=None, version=1)
    assert sorted(defaults.values_list("outcome", flat=True)) == ["negative", "positive"]
    for template in defaults:
        check_placeholders(template.subject, LETTER_PLACEHOLDERS, field="subject")
        check_placeholders(template.body, LETTER_PLACEHOLDERS, field="body")


def test_the_admin_lists_the_versions_a_regional_administrator_uses(client, make_user, zwolle):
    regional = make_user(Role.ADMINISTRATOR, region=zwolle, is_staff=True)
    decision_letter_template_save(
        by=regional, region=zwolle, outcome=AdviceOutcome.POSITIVE, subject="Zwolle", body="z"
    )
    client.force_login(regional)

    response = client.get(reverse("admin:procedure_decisionlettertemplate_changelist"))
    letters = client.get(reverse("admin:procedure_decisionletter_changelist"))

    assert response.status_code == 200 and letters.status_code == 200
    shown = {(t.region_id, t.outcome) for t in response.context["cl"].result_list}
    assert shown == {(zwolle.pk, "positive"), (None, "positive"), (None, "negative")}
