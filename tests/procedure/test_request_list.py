"""The request list as a work list: sorted by a column, filtered, paginated and exported within
the user's region (``core.listing``)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from hap_contracting.core.roles import Role
from hap_contracting.procedure.constants import RequestKind, RequestState
from tests.lists import assert_sorts_by, column, export_rows, listed
from tests.organisations.factories import CareLocationFactory, HapPostFactory, RegionFactory
from tests.procedure.factories import AdmissionRequestFactory

pytestmark = pytest.mark.django_db

S = RequestState
URL = reverse("procedure:request_list")


def export_url(fmt: str) -> str:
    return reverse("procedure:request_list_export", args=[fmt])


@pytest.fixture
def three_regions_requests():
    """Three requests that differ in every column, in an order no column shares with another."""
    today = timezone.localdate()
    rows = [
        ("Ceder", "Noord", RequestKind.RENEWAL, S.QUALITY_REVIEW, 5),
        ("Anker", "Zuid", RequestKind.REGULARISATION, S.RECEIVED, 20),
        ("Berk", "Midden", RequestKind.NEW_ENTRANT, S.CONTRACTING, 1),
    ]
    requests = []
    for name, region, kind, state, days_ago in rows:
        post = HapPostFactory(region=RegionFactory(name=region, slug=region.lower()))
        requests.append(
            AdmissionRequestFactory(
                location=CareLocationFactory(name=name, hap_post=post),
                kind=kind,
                state=state,
                received_on=today - datetime.timedelta(days=days_ago),
            )
        )
    return requests


SORT_VALUES = {
    "reference": lambda r: r.pk,
    "location": lambda r: r.location.name,
    "region": lambda r: r.location.region.name,
    "kind": lambda r: r.kind,
    "state": lambda r: r.state,
    "received": lambda r: r.received_on,
}


@pytest.mark.parametrize("key", SORT_VALUES)
def test_each_column_sorts_the_list_both_ways(client, staff, three_regions_requests, key):
    client.force_login(staff[Role.ADMINISTRATOR])

    assert_sorts_by(client, URL, key, SORT_VALUES[key])


@pytest.mark.parametrize("sort", ["", "nonsense", "location__region__name", "-pk", "received;--"])
def test_an_unknown_sort_falls_back_to_newest_received_first(
    client, staff, three_regions_requests, sort
):
    client.force_login(staff[Role.ADMINISTRATOR])

    requests = listed(client, URL, sort=sort)

    assert requests == sorted(three_regions_requests, key=lambda r: r.received_on, reverse=True)


def test_the_filters_keep_the_sort_and_the_pages_keep_both(client, staff, zwolle):
    location = CareLocationFactory(hap_post=zwolle.posts.get())
    for _ in range(51):
        AdmissionRequestFactory(location=location, state=S.WITHDRAWN)
    client.force_login(staff[Role.SECRETARIAT])

    response = client.get(URL, {"state": S.WITHDRAWN, "sort": "-reference"})
    content = response.content.decode()

    assert response.context["page"].paginator.count == 51
    assert '<input type="hidden" name="sort" value="-reference">' in content
    assert "state=withdrawn&amp;sort=-reference&amp;page=2" in content
    assert f"{export_url('csv')}?state=withdrawn&amp;sort=-reference" in content


def test_who_sees_every_region_filters_on_region_and_period(client, staff, three_regions_requests):
    client.force_login(staff[Role.ADMINISTRATOR])
    anker = three_regions_requests[1]
    today = timezone.localdate()

    by_region = listed(client, URL, region=anker.location.region_id)
    by_period = listed(
        client,
        URL,
        received_from=today - datetime.timedelta(days=10),
        received_until=today - datetime.timedelta(days=2),
    )

    assert by_region == [anker]
    assert by_period == [three_regions_requests[0]]


def test_a_regional_user_has_no_region_filter(client, staff, zwolle, flevoland):
    AdmissionRequestFactory(location=CareLocationFactory(hap_post=flevoland.posts.get()))
    client.force_login(staff[Role.SECRETARIAT])

    response = client.get(URL, {"region": flevoland.pk})

    assert "region" not in response.context["filters"].fields
    assert list(response.context["page"].object_list) == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_export_holds_the_filtered_rows_of_the_own_region_only(
    client, staff, zwolle, flevoland, fmt
):
    post = zwolle.posts.get()
    received = AdmissionRequestFactory(location=CareLocationFactory(name="Anker", hap_post=post))
    AdmissionRequestFactory(
        location=CareLocationFactory(name="Berk", hap_post=post), state=S.REJECTED
    )
    AdmissionRequestFactory(
        location=CareLocationFactory(name="Ceder", hap_post=flevoland.posts.get())
    )
    client.force_login(staff[Role.SECRETARIAT])

    response = client.get(export_url(fmt), {"state": S.RECEIVED})
    rows = export_rows(response)

    assert response["Content-Disposition"].startswith('attachment; filename="aanvragen-')
    assert rows[0][:3] == ["aanvraag", "zorglocatie", "postcode"]
    assert column(rows, "aanvraag") == [received.reference]
    assert column(rows, "zorglocatie") == ["Anker"]
    assert column(rows, "status") == ["Ontvangen"]


def test_the_csv_export_writes_dutch_dates(client, staff, zwolle):
    AdmissionRequestFactory(
        location=CareLocationFactory(hap_post=zwolle.posts.get()),
        received_on=datetime.date(2026, 3, 9),
    )
    client.force_login(staff[Role.SECRETARIAT])

    rows = export_rows(client.get(export_url("csv")))

    assert column(rows, "ontvangen op") == ["09-03-2026"]


def test_the_export_follows_the_sort_of_the_list(client, staff, three_regions_requests):
    client.force_login(staff[Role.ADMINISTRATOR])

    rows = export_rows(client.get(export_url("csv"), {"sort": "location"}))

    assert column(rows, "zorglocatie") == ["Anker", "Berk", "Ceder"]


def test_an_export_in_another_format_is_not_found(client, staff):
    client.force_login(staff[Role.SECRETARIAT])

    assert client.get(export_url("pdf")).status_code == 404


@pytest.mark.parametrize("count", [3, 30])
def test_the_list_and_its_exports_run_a_constant_number_of_queries(
    client, staff, zwolle, count, django_assert_max_num_queries
):
    post = zwolle.posts.get()
    for _ in range(count):
        AdmissionRequestFactory(location=CareLocationFactory(hap_post=post))
    client.force_login(staff[Role.SECRETARIAT])

    # 7: the page's 6 and the menu's work count (cached for the next pages).
    with django_assert_max_num_queries(7):
        page = client.get(URL, {"sort": "region"})
    for fmt in ("csv", "xlsx"):
        with django_assert_max_num_queries(4):
            rows = export_rows(client.get(export_url(fmt), {"sort": "region"}))
        assert len(rows) == 1 + count

    assert len(page.context["page"].object_list) == count
