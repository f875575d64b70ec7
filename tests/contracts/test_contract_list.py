"""The contract register as a work list: sorted by a column, filtered, exported within the
user's region (``core.listing``)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from hap_contracting.contracts.constants import ContractKind
from hap_contracting.core.roles import Role
from tests.contracts.factories import ContractFactory
from tests.lists import assert_sorts_by, column, export_rows, listed
from tests.organisations.factories import (
    CareLocationFactory,
    CareOrganisationFactory,
    HapPostFactory,
    RegionFactory,
)
from tests.procedure.factories import AdmissionRequestFactory

pytestmark = pytest.mark.django_db

URL = reverse("contracts:contract_list")


def export_url(fmt: str) -> str:
    return reverse("contracts:contract_list_export", args=[fmt])


@pytest.fixture
def three_contracts():
    """Three contracts that differ in every column: running, expiring and expired."""
    today = timezone.localdate()
    rows = [
        ("Beta", "Noord", ContractKind.WLZ_WITH_TREATMENT, -400, 300),
        ("Alfa", "Zuid", ContractKind.WLZ_WITHOUT_TREATMENT, -100, 30),
        ("Gamma", "Midden", ContractKind.WLZ_WITH_TREATMENT, -700, -10),
    ]
    contracts = []
    for name, region, kind, start, end in rows:
        post = HapPostFactory(region=RegionFactory(name=region, slug=region.lower()))
        location = CareLocationFactory(
            hap_post=post, organisation=CareOrganisationFactory(name=name)
        )
        contracts.append(
            ContractFactory(
                location=location,
                kind=kind,
                start_date=today + datetime.timedelta(days=start),
                end_date=today + datetime.timedelta(days=end),
            )
        )
    return contracts


SORT_VALUES = {
    "reference": lambda c: c.pk,
    "organisation": lambda c: c.organisation.name,
    "region": lambda c: c.region.name,
    "kind": lambda c: c.kind,
    "start": lambda c: c.start_date,
    "end": lambda c: c.end_date,
    "status": lambda c: c.status,
}


@pytest.mark.parametrize("key", SORT_VALUES)
def test_each_column_sorts_the_register_both_ways(client, staff, three_contracts, key):
    client.force_login(staff[Role.ADMINISTRATOR])

    assert_sorts_by(client, URL, key, SORT_VALUES[key])


@pytest.mark.parametrize("sort", ["nonsense", "organisation__kvk_number", "-"])
def test_an_unknown_sort_falls_back_to_soonest_end_first(client, staff, three_contracts, sort):
    client.force_login(staff[Role.ADMINISTRATOR])

    assert listed(client, URL, sort=sort) == sorted(three_contracts, key=lambda c: c.end_date)


def test_the_register_filters_on_kind(client, staff, three_contracts):
    client.force_login(staff[Role.ADMINISTRATOR])

    listed_contracts = listed(client, URL, kind=ContractKind.WLZ_WITHOUT_TREATMENT)

    assert listed_contracts == [three_contracts[1]]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_export_holds_the_filtered_contracts_of_the_own_region_only(
    client, staff, zwolle, flevoland, fmt
):
    post = zwolle.posts.get()
    wanted = ContractFactory(
        location=CareLocationFactory(hap_post=post, name="Anker"),
        kind=ContractKind.WLZ_WITH_TREATMENT,
    )
    ContractFactory(location=CareLocationFactory(hap_post=post, name="Berk"))
    ContractFactory(
        location=CareLocationFactory(hap_post=flevoland.posts.get(), name="Ceder"),
        kind=ContractKind.WLZ_WITH_TREATMENT,
    )
    client.force_login(staff[Role.SECRETARIAT])

    response = client.get(export_url(fmt), {"kind": ContractKind.WLZ_WITH_TREATMENT})
    rows = export_rows(response)

    assert response["Content-Disposition"].startswith('attachment; filename="contracten-')
    assert column(rows, "contract") == [wanted.reference]
    assert column(rows, "zorglocatie") == ["Anker"]
    assert column(rows, "status") == ["Lopend"]


@pytest.mark.parametrize("count", [3, 30])
def test_the_register_and_its_exports_run_a_constant_number_of_queries(
    client, staff, zwolle, count, django_assert_max_num_queries
):
    post = zwolle.posts.get()
    for _ in range(count):
        ContractFactory(location=CareLocationFactory(hap_post=post))
    client.force_login(staff[Role.SECRETARIAT])

    # 8: the page's 7 and the menu's work count (cached for the next pages).
    with django_assert_max_num_queries(8):
        page = client.get(URL, {"sort": "status"})
    for fmt in ("csv", "xlsx"):
        with django_assert_max_num_queries(4):
            rows = export_rows(client.get(export_url(fmt), {"sort": "status"}))
        assert len(rows) == 1 + count

    assert len(page.context["page"].object_list) == count


def test_the_register_links_each_contract_to_its_renewal_request(client, staff, zwolle):
    post = zwolle.posts.get()
    renewed = ContractFactory(location=CareLocationFactory(hap_post=post))
    renewal = AdmissionRequestFactory(
        at_council=True, location=renewed.location, renews_contract=renewed
    )
    ContractFactory(location=CareLocationFactory(hap_post=post))
    client.force_login(staff[Role.SECRETARIAT])

    html = client.get(URL).content.decode()
    renewal_link = reverse("procedure:request_detail", args=[renewal.pk])

    assert html.count(f'href="{renewal_link}"') == 1
    assert html.count('<span class="text-muted">—</span>') == 1
