"""Finance keeps the administrative costs in the Django admin."""

from decimal import Decimal

import pytest
from django.urls import reverse

from hap_contracting.core.roles import Role

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:contracts_contract_changelist"


@pytest.fixture
def finance(make_user):
    return make_user(Role.FINANCE, is_staff=True)


def test_administrative_cost_periods_may_not_overlap(client, finance):
    from hap_contracting.billing.models import AdministrativeCost

    client.force_login(finance)
    add = reverse("admin:billing_administrativecost_add")

    def period(amount, valid_from, valid_until=""):
        data = {"amount": amount, "valid_from": valid_from, "valid_until": valid_until}
        return client.post(add, {**data, "note": "Voorbeeldbedrag"})

    created = period("25.00", "2026-01-01", "2026-12-31")
    overlapping = period("30.00", "2026-12-01")
    following = period("30.00", "2027-01-01")

    assert created.status_code == 302 and following.status_code == 302
    assert overlapping.status_code == 200
    assert overlapping.context["adminform"].form.errors["valid_from"] == [
        "Deze periode overlapt de administratiekosten geldig vanaf 01-01-2026."
    ]
    assert list(
        AdministrativeCost.objects.order_by("valid_from").values_list("amount", flat=True)
    ) == [
        Decimal("25.00"),
        Decimal("30.00"),
    ]
