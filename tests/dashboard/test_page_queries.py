""" "Mijn werk" and the regional dashboard run at most eight queries, login and session included,
however much waits or has happened (``tests.pages``; measured in ``bench/procedure_pages.py``).
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from hap_contracting.core.roles import Role
from hap_contracting.procedure.constants import RequestKind, RequestState
from tests.contracts.factories import ContractFactory
from tests.dashboard.test_dashboard import _populate
from tests.organisations.factories import CareLocationFactory
from tests.pages import assert_constant_queries, queries_of_page
from tests.procedure.factories import AdmissionRequestFactory

S = RequestState
pytestmark = pytest.mark.django_db


def add_work(location, manager, count: int) -> None:
    """Requests waiting for ``manager``: in pre-assessment, in contracting, a renewal of a
    contract that lapsed and a regularisation with a grace period."""
    today = timezone.localdate()
    for n in range(count):
        lapsed = ContractFactory(
            location=CareLocationFactory(hap_post=location.hap_post),
            end_date=today - datetime.timedelta(days=n + 1),
        )
        for fields in (
            {"state": S.PRE_ASSESSMENT},
            {"state": S.CONTRACTING},
            {"state": S.PRE_ASSESSMENT, "kind": RequestKind.RENEWAL, "renews_contract": lapsed},
            {
                "state": S.PRE_ASSESSMENT,
                "kind": RequestKind.REGULARISATION,
                "grace_ends_on": today + datetime.timedelta(days=n),
            },
        ):
            renewal = "renews_contract" in fields
            AdmissionRequestFactory(
                location=lapsed.location
                if renewal
                else CareLocationFactory(hap_post=location.hap_post),
                assigned_location_manager=manager,
                state_entered_at=timezone.now() - datetime.timedelta(days=3 * n),
                **fields,
            )


def test_my_work_runs_a_fixed_number_of_queries(
    client, staff, location, django_assert_max_num_queries
):
    manager = staff[Role.LOCATION_MANAGER]
    add_work(location, manager, 1)
    client.force_login(manager)

    assert_constant_queries(
        client,
        reverse("dashboard:my_work"),
        lambda: add_work(location, manager, 20),  # more than a page of them
        django_assert_max_num_queries,
    )


def test_my_work_counts_the_menu_itself(client, staff, location):
    """The menu's count on "Mijn werk" is the page's own: no second count, cold or warm."""
    manager = staff[Role.LOCATION_MANAGER]
    add_work(location, manager, 2)
    client.force_login(manager)

    response = client.get(reverse("dashboard:my_work"))

    assert response.context["my_work_count"] == 8
    assert len(queries_of_page(client, reverse("dashboard:my_work"))) <= 8


def test_the_dashboard_runs_a_fixed_number_of_queries_once_its_figures_are_kept(
    client, staff, zwolle, django_assert_max_num_queries
):
    _populate(zwolle, 1, staff[Role.REGIONAL_COUNCIL])
    client.force_login(staff[Role.PROGRAMME_MANAGER])

    assert_constant_queries(
        client,
        reverse("dashboard:region", args=[zwolle.slug]),
        lambda: _populate(zwolle, 6, staff[Role.REGIONAL_COUNCIL]),
        django_assert_max_num_queries,
    )


def test_the_dashboards_figures_are_drawn_again_after_a_change(client, staff, zwolle, location):
    """Kept a minute at most, and fresh after a change of what they count."""
    client.force_login(staff[Role.PROGRAMME_MANAGER])
    url = reverse("dashboard:region", args=[zwolle.slug])
    before = client.get(url).content.decode()

    AdmissionRequestFactory(location=location)

    assert client.get(url).content.decode() != before
