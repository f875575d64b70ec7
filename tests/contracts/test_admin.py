"""Contracts and the daily job's reminders in the Django admin, within the user's region."""

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone

from hap_contracting.contracts.constants import ContractStatus, ReminderKind
from hap_contracting.contracts.models import Reminder
from hap_contracting.core.roles import Role
from hap_contracting.triage.constants import TriageFilterReason
from hap_contracting.triage.models import TriageFilterEntry
from tests.contracts.factories import ContractFactory
from tests.organisations.factories import CareLocationFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:contracts_contract_changelist"


@pytest.fixture
def quality_team(zwolle, make_user):
    return make_user(Role.QUALITY_TEAM, region=zwolle, is_staff=True)


@pytest.fixture
def finance(make_user):
    return make_user(Role.FINANCE, is_staff=True)


@pytest.fixture
def administrator(make_user):
    return make_user(Role.ADMINISTRATOR, is_staff=True)


def test_the_contract_changelist_shows_only_the_users_region(
    client, quality_team, location, flevoland
):
    own = ContractFactory(location=location)
    ContractFactory(
        location=CareLocationFactory(hap_post=flevoland.posts.get(), postcode="1315 HT")
    )
    client.force_login(quality_team)

    response = client.get(reverse(CHANGELIST))

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [own]


def test_the_contract_changelist_filters_on_derived_status_and_expiry_month(
    client, quality_team, location
):
    today = timezone.localdate()
    expiring = ContractFactory(
        location=location,
        start_date=today - relativedelta(years=1),
        end_date=today + relativedelta(months=1),
    )
    ContractFactory(location=CareLocationFactory(hap_post=location.hap_post))
    client.force_login(quality_team)

    by_status = client.get(reverse(CHANGELIST), {"status": ContractStatus.EXPIRING})
    by_month = client.get(reverse(CHANGELIST), {"ends": expiring.end_date.strftime("%Y-%m")})

    assert list(by_status.context["cl"].result_list) == [expiring]
    assert list(by_month.context["cl"].result_list) == [expiring]


def test_the_contract_changelist_and_change_page_run_a_constant_number_of_queries(
    client, quality_team, location, django_assert_max_num_queries
):
    for _ in range(30):
        contract = ContractFactory(location=CareLocationFactory(hap_post=location.hap_post))
    client.force_login(quality_team)

    with django_assert_max_num_queries(12):
        client.get(reverse(CHANGELIST))
    with django_assert_max_num_queries(25):
        change = client.get(reverse("admin:contracts_contract_change", args=[contract.pk]))

    assert change.status_code == 200
    assert not change.context["has_change_permission"]


def test_another_regions_contract_is_not_found_in_the_admin(client, quality_team, flevoland):
    other = ContractFactory(
        location=CareLocationFactory(hap_post=flevoland.posts.get(), postcode="1315 HT")
    )
    client.force_login(quality_team)

    response = client.get(reverse("admin:contracts_contract_change", args=[other.pk]))

    assert response.status_code == 302  # the admin redirects a missing object to its index


def test_administrators_read_reminders_and_the_triage_filter_list(
    client, administrator, quality_team, location, django_assert_max_num_queries
):
    for _ in range(10):
        contract = ContractFactory(location=CareLocationFactory(hap_post=location.hap_post))
        Reminder.objects.create(
            kind=ReminderKind.RENEWAL_OPENED, contract=contract, due_on=timezone.localdate()
        )
    TriageFilterEntry.objects.create(
        location=location,
        reason=TriageFilterReason.GRACE_PERIOD_ENDED,
        listed_on=timezone.localdate(),
    )
    client.force_login(administrator)

    with django_assert_max_num_queries(12):
        reminders = client.get(reverse("admin:contracts_reminder_changelist"))
    entries = client.get(reverse("admin:triage_triagefilterentry_changelist"))
    reminder_page = client.get(
        reverse("admin:contracts_reminder_change", args=[Reminder.objects.first().pk])
    )
    client.force_login(quality_team)
    refused = client.get(reverse("admin:contracts_reminder_changelist"))

    assert reminders.status_code == entries.status_code == 200
    assert len(reminders.context["cl"].result_list) == 10
    assert not reminder_page.context["has_change_permission"]
    assert refused.status_code == 403
