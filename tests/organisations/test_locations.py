"""A care location's region and post follow from its postcode, in the app's form and in the admin
alike (one service); a postcode outside the cooperative's area, or outside the user's own region,
is refused on the postcode field and nothing is stored."""

import pytest
from django.urls import reverse

from hap_contracting.core.errors import DomainError
from hap_contracting.core.roles import Role
from hap_contracting.organisations.models import CareLocation
from hap_contracting.organisations.services import care_location_change, care_location_register
from tests.organisations.factories import CareLocationFactory
from tests.procedure.factories import AdmissionRequestFactory

pytestmark = pytest.mark.django_db

ADD = "admin:organisations_carelocation_add"
CHANGE = "admin:organisations_carelocation_change"


def location_fields(**overrides) -> dict:
    fields = {
        "name": "De Nieuwe Hof",
        "street": "Hofweg",
        "house_number": 3,
        "house_number_addition": "",
        "postcode": "8012 AB",
        "city": "Zwolle",
        "number_of_residents": 12,
        "wlz_treatment_admission": True,
    }
    return {**fields, **overrides}


def admin_form(**overrides) -> dict:
    form = {**location_fields(), "wlz_treatment_admission": "on", **overrides}
    return {key: value for key, value in form.items() if value is not None}


@pytest.fixture
def administrator(make_user):
    return make_user(Role.ADMINISTRATOR, is_staff=True, region=None)


def test_adding_a_location_in_the_admin_derives_region_and_post_from_the_postcode(
    client, administrator, zwolle
):
    client.force_login(administrator)

    response = client.post(reverse(ADD), admin_form(postcode="8012ab", house_number_addition="b"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    location = CareLocation.objects.get()
    assert (location.postcode, location.house_number_addition) == ("8012 AB", "B")
    assert (location.region, location.hap_post) == (zwolle, zwolle.posts.get())


def test_a_new_postcode_in_another_region_moves_the_location_there_in_the_admin(
    client, administrator, location, flevoland
):
    client.force_login(administrator)

    response = client.post(
        reverse(CHANGE, args=[location.pk]),
        admin_form(name=location.name, postcode="1315 HT", city="Almere"),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    location.refresh_from_db()
    assert (location.region, location.hap_post) == (flevoland, flevoland.posts.get())


def test_an_administrator_of_one_region_cannot_move_a_location_out_of_it(
    client, make_user, zwolle, location, flevoland
):
    client.force_login(make_user(Role.ADMINISTRATOR, is_staff=True, region=zwolle))
    before = (location.name, location.postcode, location.region, location.hap_post)

    response = client.post(
        reverse(CHANGE, args=[location.pk]),
        admin_form(name="Verhuisd", postcode="1315 HT", city="Almere"),
    )

    assert response.status_code == 200
    assert "Flevoland" in str(response.context["adminform"].form.errors["postcode"])
    location.refresh_from_db()
    assert (location.name, location.postcode, location.region, location.hap_post) == before


def test_a_postcode_outside_the_cooperatives_area_is_refused(staff):
    with pytest.raises(DomainError) as refused:
        care_location_register(by=staff[Role.SECRETARIAT], **location_fields(postcode="9999 ZZ"))

    assert refused.value.field == "postcode"
    assert "buiten" in str(refused.value.message)
    assert not CareLocation.objects.exists()


def test_the_secretariat_registers_locations_of_its_own_region_only(staff, flevoland):
    with pytest.raises(DomainError) as refused:
        care_location_register(by=staff[Role.SECRETARIAT], **location_fields(postcode="1315 HT"))

    assert refused.value.field == "postcode"
    assert "Flevoland" in str(refused.value.message)
    assert not CareLocation.objects.exists()


def test_a_location_the_procedure_refers_to_is_not_moved_to_another_region(
    administrator, location, flevoland
):
    AdmissionRequestFactory(location=location)

    with pytest.raises(DomainError) as refused:
        care_location_change(
            location=location,
            by=administrator,
            **location_fields(name=location.name, postcode="1315 HT", city="Almere"),
        )

    assert refused.value.field == "postcode"
    location.refresh_from_db()
    assert location.postcode == "8011 AB"
    assert location.region.name == "Zwolle"


def test_another_postcode_of_the_same_region_is_a_plain_change(administrator, location, zwolle):
    CareLocationFactory(hap_post=location.hap_post, postcode="8011 AB", house_number=99)
    AdmissionRequestFactory(location=location)

    care_location_change(
        location=location, by=administrator, **location_fields(name="Hof", postcode="8019 ab")
    )

    location.refresh_from_db()
    assert (location.name, location.postcode, location.region) == ("Hof", "8019 AB", zwolle)


def test_who_may_not_register_locations_is_refused(staff):
    with pytest.raises(DomainError):
        care_location_register(by=staff[Role.QUALITY_TEAM], **location_fields())

    assert not CareLocation.objects.exists()
