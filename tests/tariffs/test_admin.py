"""Finance keeps the insurer tariffs in the Django admin, through the same service as elsewhere."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from hap_contracting.core.roles import Role
from hap_contracting.tariffs.models import Act, InsurerTariff

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:contracts_contract_changelist"


@pytest.fixture
def quality_team(zwolle, make_user):
    return make_user(Role.QUALITY_TEAM, region=zwolle, is_staff=True)


@pytest.fixture
def finance(make_user):
    return make_user(Role.FINANCE, is_staff=True)


def _tariff_form(act, amount, valid_from, valid_until=""):
    return {
        "act": act.pk,
        "amount": amount,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "note": "Contract zorgverzekeraar 2026",
    }


def test_finance_adds_a_tariff_and_an_overlapping_period_is_refused(client, finance):
    consult = Act.objects.get(code="CONSULT")
    client.force_login(finance)
    add = reverse("admin:tariffs_insurertariff_add")

    created = client.post(add, _tariff_form(consult, "52.40", "2026-01-01", "2026-12-31"))
    overlapping = client.post(add, _tariff_form(consult, "55.00", "2026-07-01"))

    assert created.status_code == 302
    tariff = InsurerTariff.objects.get()
    assert (tariff.amount, tariff.note) == (Decimal("52.40"), "Contract zorgverzekeraar 2026")
    assert overlapping.status_code == 200
    assert overlapping.context["adminform"].form.errors["valid_from"] == [
        "Deze periode overlapt het tarief van Consult op de huisartsenpost geldig vanaf 01-01-2026."
    ]
    assert InsurerTariff.objects.count() == 1


def test_finance_changes_a_tariffs_period_through_the_service(client, finance):
    consult = Act.objects.get(code="CONSULT")
    first = InsurerTariff.objects.create(
        act=consult, amount=Decimal("50.00"), valid_from=datetime.date(2025, 1, 1)
    )
    client.force_login(finance)
    add = reverse("admin:tariffs_insurertariff_add")
    change = reverse("admin:tariffs_insurertariff_change", args=[first.pk])

    refused = client.post(add, _tariff_form(consult, "52.40", "2026-01-01"))
    closed = client.post(change, {**_tariff_form(consult, "50.00", "2025-01-01", "2025-12-31")})
    added = client.post(add, _tariff_form(consult, "52.40", "2026-01-01"))

    assert refused.status_code == 200
    assert closed.status_code == added.status_code == 302
    first.refresh_from_db()
    assert first.valid_until == datetime.date(2025, 12, 31)
    assert InsurerTariff.objects.count() == 2


def test_finance_sees_tariffs_but_not_contracts_and_the_quality_team_no_tariffs(
    client, finance, quality_team
):
    client.force_login(finance)
    finance_tariffs = client.get(reverse("admin:tariffs_insurertariff_changelist"))
    finance_contracts = client.get(reverse(CHANGELIST))
    client.force_login(quality_team)
    quality_tariffs = client.get(reverse("admin:tariffs_insurertariff_changelist"))

    assert finance_tariffs.status_code == 200
    assert finance_contracts.status_code == 403
    assert quality_tariffs.status_code == 403
