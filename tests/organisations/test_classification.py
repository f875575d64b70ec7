"""What kind of location is this? From the facts on a location the system derives which of the
four Wkkgz situations applies (or which fact is still missing), shows what follows from it with
its sources, recomputes it when a fact changes and keeps the change in the history."""

import re

import pytest
from django.urls import reverse

from hap_contracting.core.errors import DomainError
from hap_contracting.core.roles import Role
from hap_contracting.organisations.classification import (
    CONDITIONS,
    SITUATIONS,
    Facts,
    classify,
)
from hap_contracting.organisations.constants import (
    Answer,
    GpCare,
    HousingAndCare,
    WkkgzSituation,
)
from hap_contracting.organisations.models import CareLocation, ClassificationChange
from hap_contracting.organisations.services import care_location_change, care_location_register
from tests.organisations.factories import CareLocationFactory
from tests.procedure.factories import AdmissionRequestFactory

S = WkkgzSituation

FACTS = {
    S.WLZ_INSTITUTION: Facts(wlz_treatment_admission=True),
    S.HOUSING_WITH_CARE: Facts(
        wlz_treatment_admission=False,
        pgb_without_zorgkantoor_contract=Answer.NO,
        housing_and_care=HousingAndCare.COMBINED_CARE_DOMINANT,
    ),
    S.HOUSING_SEPARATE: Facts(
        wlz_treatment_admission=False,
        pgb_without_zorgkantoor_contract=Answer.NO,
        housing_and_care=HousingAndCare.SEPARATE,
    ),
    S.PGB_INITIATIVE: Facts(
        wlz_treatment_admission=False, pgb_without_zorgkantoor_contract=Answer.YES
    ),
}


# --- The rule: facts -> situation -> consequences (pure) -------------------------------------


def test_a_location_admitted_for_wlz_treatment_is_an_institution_that_organises_medical_care():
    result = classify(FACTS[S.WLZ_INSTITUTION])

    assert result.situation == S.WLZ_INSTITUTION
    situation = result.details
    assert "instelling moet ook de medische zorg" in _nl(situation.responsible.text)
    assert situation.gp_care == GpCare.INSTITUTION_CONTRACT
    assert situation.triage_filter_can_apply is True
    assert situation.conditions == CONDITIONS


def test_housing_with_care_dominant_makes_the_provider_responsible_and_gp_care_insurer_paid():
    situation = classify(FACTS[S.HOUSING_WITH_CARE]).details

    assert situation.code == S.HOUSING_WITH_CARE
    assert "zorgaanbieder is ook verantwoordelijk" in _nl(situation.responsible.text)
    assert situation.gp_care == GpCare.INSURER
    assert situation.triage_filter_can_apply is False
    assert len(situation.conditions) == 8


def test_fully_separate_housing_and_care_leaves_only_the_home_care_provider_accountable():
    situation = classify(FACTS[S.HOUSING_SEPARATE]).details

    assert situation.code == S.HOUSING_SEPARATE
    assert "thuiszorg (VVT)" in _nl(situation.responsible.text)
    assert situation.gp_care == GpCare.INSURER
    assert situation.triage_filter_can_apply is False


def test_pgb_without_zorgkantoor_contract_is_no_care_provider_under_the_wkkgz():
    situation = classify(FACTS[S.PGB_INITIATIVE]).details

    assert situation.code == S.PGB_INITIATIVE
    assert "geen zorgaanbieder" in _nl(situation.responsible.text)
    assert situation.gp_care == GpCare.INSURER
    assert situation.triage_filter_can_apply is False


def test_pgb_without_contract_comes_before_how_housing_and_care_are_offered():
    """Without a zorgkantoor contract the location is no care provider, even when it offers
    housing and care together (seed 000, situation 4 against 2)."""
    facts = Facts(
        wlz_treatment_admission=False,
        pgb_without_zorgkantoor_contract=Answer.YES,
        housing_and_care=HousingAndCare.COMBINED_CARE_DOMINANT,
    )

    assert classify(facts).situation == S.PGB_INITIATIVE


@pytest.mark.parametrize(
    ("pgb", "housing", "missing"),
    [
        (
            Answer.UNKNOWN,
            HousingAndCare.UNKNOWN,
            ("pgb_without_zorgkantoor_contract", "housing_and_care"),
        ),
        (Answer.UNKNOWN, HousingAndCare.SEPARATE, ("pgb_without_zorgkantoor_contract",)),
        (Answer.NO, HousingAndCare.UNKNOWN, ("housing_and_care",)),
    ],
)
def test_unknown_facts_leave_the_situation_unknown_naming_the_missing_fact(pgb, housing, missing):
    facts = Facts(
        wlz_treatment_admission=False,
        pgb_without_zorgkantoor_contract=pgb,
        housing_and_care=housing,
    )

    result = classify(facts)

    assert result.situation == S.UNKNOWN
    assert result.details is None
    assert result.missing == missing


def test_admitted_but_not_delivering_treatment_adds_the_note_that_it_stays_responsible():
    result = classify(Facts(wlz_treatment_admission=True, treatment_delivered=False))

    assert result.situation == S.WLZ_INSTITUTION
    assert len(result.notes) == 1
    assert classify(FACTS[S.WLZ_INSTITUTION]).notes == ()


def test_every_consequence_names_a_source_document_by_its_title():
    for situation in SITUATIONS.values():
        for consequence in (
            situation.responsible,
            situation.gp_care_consequence,
            situation.triage,
            situation.conditions_consequence,
        ):
            assert consequence.sources
            for source in consequence.sources:
                assert source.document and not re.search(r"seed 0\d\d", str(source), re.I)


def _nl(text) -> str:
    from django.utils import translation

    with translation.override("nl"):
        return str(text)


# --- Stored on the location by the service, with its history --------------------------------


def _fields(location, **overrides) -> dict:
    fields = {
        "organisation": location.organisation,
        "name": location.name,
        "street": location.street,
        "house_number": location.house_number,
        "house_number_addition": location.house_number_addition,
        "postcode": location.postcode,
        "city": location.city,
        "wlz_treatment_admission": location.wlz_treatment_admission,
        "treatment_delivered": location.treatment_delivered,
        "highest_care_profile": location.highest_care_profile,
        "financed_vpt": location.financed_vpt,
        "financed_mpt": location.financed_mpt,
        "financed_pgb": location.financed_pgb,
        "number_of_residents": location.number_of_residents,
        "housing_and_care": location.housing_and_care,
        "pgb_without_zorgkantoor_contract": location.pgb_without_zorgkantoor_contract,
    }
    return {**fields, **overrides}


@pytest.fixture
def secretariat(staff):
    return staff[Role.SECRETARIAT]


@pytest.fixture
def unknown_location(zwolle, secretariat):
    return care_location_register(
        by=secretariat,
        name="De Nieuwe Hof",
        street="Hofweg",
        house_number=3,
        postcode="8012 AB",
        city="Zwolle",
        wlz_treatment_admission=False,
    )


@pytest.mark.django_db
def test_registering_stores_the_situation_and_a_first_history_row(unknown_location, secretariat):
    assert unknown_location.wkkgz_situation == S.UNKNOWN
    change = ClassificationChange.objects.get()
    assert (change.old_situation, change.new_situation, change.by) == ("", S.UNKNOWN, secretariat)


@pytest.mark.django_db
def test_changing_a_fact_recomputes_the_situation_and_records_old_new_who_and_which_fact(
    unknown_location, staff
):
    administrator = staff[Role.ADMINISTRATOR]
    care_location_change(
        location=unknown_location,
        by=administrator,
        **_fields(unknown_location, pgb_without_zorgkantoor_contract=Answer.YES),
    )

    stored = CareLocation.objects.get(pk=unknown_location.pk)
    assert stored.wkkgz_situation == S.PGB_INITIATIVE
    change = ClassificationChange.objects.latest("pk")
    assert (change.old_situation, change.new_situation) == (S.UNKNOWN, S.PGB_INITIATIVE)
    assert change.by == administrator and change.at is not None
    assert change.changed_facts == [
        {"fact": "pgb_without_zorgkantoor_contract", "old": "unknown", "new": "yes"}
    ]


@pytest.mark.django_db
def test_a_save_that_changes_no_fact_writes_no_history_row(unknown_location, secretariat):
    care_location_change(
        location=unknown_location, by=secretariat, **_fields(unknown_location, name="Andere naam")
    )

    assert ClassificationChange.objects.count() == 1  # the registration's


@pytest.mark.django_db
def test_the_admin_saves_the_facts_through_the_service(client, staff, unknown_location):
    client.force_login(staff[Role.ADMINISTRATOR])
    data = {
        key: ("" if value is None else value)
        for key, value in _fields(
            unknown_location,
            pgb_without_zorgkantoor_contract=Answer.NO,
            housing_and_care=HousingAndCare.SEPARATE,
        ).items()
        if key not in ("organisation", "wlz_treatment_admission", "treatment_delivered")
        and value is not False
    }

    response = client.post(
        reverse("admin:organisations_carelocation_change", args=[unknown_location.pk]), data
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert CareLocation.objects.get(pk=unknown_location.pk).wkkgz_situation == S.HOUSING_SEPARATE
    assert ClassificationChange.objects.latest("pk").new_situation == S.HOUSING_SEPARATE


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "label"),
    [
        ("housing_and_care", "samen", "Wonen en zorg"),
        ("pgb_without_zorgkantoor_contract", "misschien", "Alleen pgb"),
        ("wlz_treatment_admission", "ja", "Wlz-opname met behandeling"),
    ],
)
def test_a_bad_fact_is_refused_in_dutch_naming_the_field_and_nothing_changes(
    unknown_location, secretariat, settings, field, value, label
):
    from django.utils import translation

    with translation.override("nl"), pytest.raises(DomainError) as refusal:
        care_location_change(
            location=unknown_location, by=secretariat, **_fields(unknown_location, **{field: value})
        )

    assert refusal.value.field == field
    assert label in refusal.value.message
    stored = CareLocation.objects.get(pk=unknown_location.pk)
    assert stored.wkkgz_situation == S.UNKNOWN
    assert getattr(stored, field) == getattr(CareLocation(), field)
    assert ClassificationChange.objects.count() == 1


# --- On the pages ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("situation", list(FACTS))
def test_the_location_page_shows_the_situation_its_consequences_and_sources(
    client, staff, zwolle, situation
):
    facts = FACTS[situation]
    location = CareLocationFactory(
        hap_post=zwolle.posts.get(),
        wlz_treatment_admission=facts.wlz_treatment_admission,
        pgb_without_zorgkantoor_contract=facts.pgb_without_zorgkantoor_contract,
        housing_and_care=facts.housing_and_care,
    )
    client.force_login(staff[Role.SECRETARIAT])

    response = client.get(reverse("organisations:location_detail", args=[location.pk]))

    content = response.content.decode()
    assert f'data-situation="{situation}"' in content
    assert "<cite>Huisartsenzorg per woonsituatie</cite>" in content
    assert "<cite>Handelingsperspectief geclusterde woonvoorzieningen</cite>" in content
    assert content.count("<li>", content.index('data-testid="wkkgz-conditions"')) >= 8


@pytest.mark.django_db
def test_the_location_page_names_the_missing_fact_and_the_history(client, staff, unknown_location):
    client.force_login(staff[Role.SECRETARIAT])

    response = client.get(reverse("organisations:location_detail", args=[unknown_location.pk]))

    content = response.content.decode()
    assert 'data-testid="wkkgz-missing"' in content
    assert "Wonen en zorg" in content
    assert 'data-testid="classification-history"' in content


@pytest.mark.django_db
def test_the_location_page_is_scoped_to_the_users_region(client, make_user, flevoland, location):
    client.force_login(make_user(Role.SECRETARIAT, region=flevoland))

    response = client.get(reverse("organisations:location_detail", args=[location.pk]))

    assert response.status_code == 404


@pytest.mark.django_db
def test_the_request_and_the_checklist_show_the_classification(client, staff, location):
    request = AdmissionRequestFactory(location=location)
    client.force_login(staff[Role.SECRETARIAT])

    detail = client.get(reverse("procedure:request_detail", args=[request.pk]))
    checklist = client.get(reverse("procedure:checklist", args=[request.pk]))

    for response in (detail, checklist):
        assert 'data-situation="wlz_institution"' in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("count", [3, 30])
def test_the_list_filters_on_the_situation_with_constant_queries(
    client, staff, zwolle, count, django_assert_max_num_queries
):
    post = zwolle.posts.get()
    for _ in range(count):
        CareLocationFactory(hap_post=post, wlz_treatment_admission=True)
        CareLocationFactory(
            hap_post=post, wlz_treatment_admission=False, pgb_without_zorgkantoor_contract="yes"
        )
    client.force_login(staff[Role.SECRETARIAT])
    url = reverse("organisations:location_list")

    # As the list without the filter: the page's 7 and the menu's work count.
    with django_assert_max_num_queries(8):
        response = client.get(url, {"situation": S.PGB_INITIATIVE})

    listed = list(response.context["page"].object_list)
    assert len(listed) == count
    assert {item.wkkgz_situation for item in listed} == {S.PGB_INITIATIVE}


@pytest.mark.django_db
def test_the_export_names_each_locations_situation(client, staff, location):
    from tests.lists import export_rows

    client.force_login(staff[Role.SECRETARIAT])

    rows = export_rows(client.get(reverse("organisations:location_list_export", args=["csv"])))

    column = rows[0].index("Wkkgz-situatie")
    assert rows[1][column] == "Wlz-instelling met verblijf en behandeling"


@pytest.mark.django_db
def test_the_admin_shows_the_situation_and_its_history_read_only(client, staff, unknown_location):
    client.force_login(staff[Role.ADMINISTRATOR])

    response = client.get(
        reverse("admin:organisations_carelocation_change", args=[unknown_location.pk])
    )

    content = response.content.decode()
    assert "Nog niet genoeg gegevens" in content
    assert "(geregistreerd)" in content
    assert "wkkgz_situation" not in response.context["adminform"].form.fields
