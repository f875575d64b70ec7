"""The care location list: for who manages locations, in the user's region, sorted by a column,
filtered and exported (``core.listing``); in the menu for those roles."""

import pytest
from django.urls import reverse

from hap_contracting.core.roles import Role
from tests.lists import assert_sorts_by, column, export_rows, listed
from tests.organisations.factories import (
    CareLocationFactory,
    CareOrganisationFactory,
    HapPostFactory,
    RegionFactory,
)

pytestmark = pytest.mark.django_db

URL = reverse("organisations:location_list")


def export_url(fmt: str) -> str:
    return reverse("organisations:location_list_export", args=[fmt])


@pytest.fixture
def three_locations():
    rows = [
        ("Ceder", "Beta", "8012 AB", "Kampen", "Noord", "HAP B", False, 40),
        ("Anker", "Gamma", "8013 AB", "Zwolle", "Zuid", "HAP C", True, 10),
        ("Berk", "Alfa", "8011 AB", "Deventer", "Midden", "HAP A", None, 25),
    ]
    locations = []
    for name, organisation, postcode, city, region, post, treatment, residents in rows:
        hap_post = HapPostFactory(name=post, region=RegionFactory(name=region, slug=region.lower()))
        locations.append(
            CareLocationFactory(
                name=name,
                organisation=CareOrganisationFactory(name=organisation),
                postcode=postcode,
                city=city,
                hap_post=hap_post,
                wlz_treatment_admission=bool(treatment),
                number_of_residents=residents,
            )
        )
    return locations


SORT_VALUES = {
    "name": lambda loc: loc.name,
    "organisation": lambda loc: loc.organisation.name,
    "address": lambda loc: loc.postcode,
    "region": lambda loc: loc.region.name,
    "post": lambda loc: loc.hap_post.name,
    "treatment": lambda loc: loc.wlz_treatment_admission,
    "residents": lambda loc: loc.number_of_residents,
}


@pytest.mark.parametrize("key", SORT_VALUES)
def test_each_column_sorts_the_locations_both_ways(client, staff, three_locations, key):
    client.force_login(staff[Role.ADMINISTRATOR])

    assert_sorts_by(client, URL, key, SORT_VALUES[key])


def test_an_unknown_sort_falls_back_to_the_name(client, staff, three_locations):
    client.force_login(staff[Role.ADMINISTRATOR])

    assert listed(client, URL, sort="organisation__kvk_number") == sorted(
        three_locations, key=lambda loc: loc.name
    )


def test_the_secretariat_sees_the_own_regions_locations_only(client, staff, zwolle, flevoland):
    own = CareLocationFactory(hap_post=zwolle.posts.get())
    CareLocationFactory(hap_post=flevoland.posts.get(), postcode="1311 AB")
    client.force_login(staff[Role.SECRETARIAT])

    response = client.get(URL, {"region": flevoland.pk})

    assert list(response.context["page"].object_list) == [own]
    assert "region" not in response.context["filters"].fields
    # The name opens the location's page in the app; the secretariat has no admin link.
    content = response.content.decode()
    assert reverse("organisations:location_detail", args=[own.pk]) in content
    assert reverse("admin:organisations_carelocation_change", args=[own.pk]) not in content


def test_an_administrator_opens_a_location_from_its_name_and_its_admin_page_from_there(
    client, staff, location
):
    client.force_login(staff[Role.ADMINISTRATOR])
    detail = reverse("organisations:location_detail", args=[location.pk])

    assert detail in client.get(URL).content.decode()
    content = client.get(detail).content.decode()
    assert reverse("admin:organisations_carelocation_change", args=[location.pk]) in content


def test_the_locations_filter_on_region_post_treatment_and_search(client, staff, three_locations):
    client.force_login(staff[Role.ADMINISTRATOR])
    ceder, anker, berk = three_locations

    assert listed(client, URL, region=anker.region_id) == [anker]
    assert listed(client, URL, post=berk.hap_post_id) == [berk]
    assert listed(client, URL, treatment="no") == [berk, ceder]
    assert listed(client, URL, q="Gamma") == [anker]


@pytest.mark.parametrize(
    "role", [Role.LOCATION_MANAGER, Role.QUALITY_TEAM, Role.REGIONAL_COUNCIL, Role.FINANCE]
)
def test_only_who_manages_locations_opens_the_list(client, staff, role):
    client.force_login(staff[role])

    assert client.get(URL).status_code == 403
    assert client.get(export_url("csv")).status_code == 403
    assert URL not in client.get(reverse("dashboard:my_work")).content.decode()


@pytest.mark.parametrize("role", [Role.SECRETARIAT, Role.ADMINISTRATOR])
def test_the_menu_links_the_list_for_who_manages_locations(client, staff, role):
    client.force_login(staff[role])

    assert f'href="{URL}"' in client.get(reverse("dashboard:my_work")).content.decode()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_export_holds_the_filtered_locations_of_the_own_region_only(
    client, staff, zwolle, flevoland, fmt
):
    post = zwolle.posts.get()
    CareLocationFactory(hap_post=post, name="Anker", wlz_treatment_admission=True)
    CareLocationFactory(hap_post=post, name="Berk", wlz_treatment_admission=False)
    CareLocationFactory(hap_post=flevoland.posts.get(), postcode="1311 AB", name="Ceder")
    client.force_login(staff[Role.SECRETARIAT])

    response = client.get(export_url(fmt), {"treatment": "yes"})
    rows = export_rows(response)

    assert response["Content-Disposition"].startswith('attachment; filename="zorglocaties-')
    assert column(rows, "naam") == ["Anker"]
    assert column(rows, "Wlz-opname met behandeling") == ["ja"]
    assert column(rows, "regio") == ["Zwolle"]


@pytest.mark.parametrize("count", [3, 30])
def test_the_list_and_its_exports_run_a_constant_number_of_queries(
    client, staff, zwolle, count, django_assert_max_num_queries
):
    post = zwolle.posts.get()
    for _ in range(count):
        CareLocationFactory(hap_post=post)
    client.force_login(staff[Role.SECRETARIAT])

    # 8: the page's 7 and the menu's work count (cached for the next pages).
    with django_assert_max_num_queries(8):
        page = client.get(URL, {"sort": "organisation"})
    for fmt in ("csv", "xlsx"):
        with django_assert_max_num_queries(4):
            rows = export_rows(client.get(export_url(fmt), {"sort": "organisation"}))
        assert len(rows) == 1 + count

    assert len(page.context["page"].object_list) == count
