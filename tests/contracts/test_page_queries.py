"""The contract register runs at most eight queries, login and session included, however many
contracts it holds (``tests.pages``; measured in ``bench/procedure_pages.py``)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from hap_contracting.core.roles import Role
from hap_contracting.procedure.constants import RequestKind, RequestState
from tests.contracts.factories import ContractFactory
from tests.organisations.factories import CareLocationFactory
from tests.pages import assert_constant_queries
from tests.procedure.factories import AdmissionRequestFactory

pytestmark = pytest.mark.django_db


def add_contracts(location, count: int) -> None:
    """Running, ending and lapsed contracts, some with a renewal request."""
    today = timezone.localdate()
    for n in range(count):
        contract = ContractFactory(
            location=CareLocationFactory(hap_post=location.hap_post),
            end_date=today + datetime.timedelta(days=60 * n - 200),
        )
        if n % 2:
            AdmissionRequestFactory(
                location=contract.location,
                kind=RequestKind.RENEWAL,
                renews_contract=contract,
                state=RequestState.PRE_ASSESSMENT,
            )


def test_the_contract_list_runs_a_fixed_number_of_queries(
    client, staff, location, django_assert_max_num_queries
):
    add_contracts(location, 2)
    client.force_login(staff[Role.SECRETARIAT])

    assert_constant_queries(
        client,
        reverse("contracts:contract_list"),
        lambda: add_contracts(location, 60),
        django_assert_max_num_queries,
    )
