"""The dashboard's payments: outstanding and overdue per region, and days to payment."""

import datetime
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from hap_contracting.billing.constants import InvoiceState
from hap_contracting.billing.models import Payment
from hap_contracting.core.roles import Role
from hap_contracting.dashboard import selectors
from tests.accounts.factories import UserFactory
from tests.dashboard.test_dashboard import _invoice
from tests.organisations.factories import CareLocationFactory, CareOrganisationFactory

pytestmark = pytest.mark.django_db


def _pay(invoice, amount, paid_on):
    Payment.objects.create(
        invoice=invoice,
        amount=Decimal(amount),
        paid_on=paid_on,
        reference="NL00BANK",
        recorded_by=UserFactory(roles=[Role.FINANCE], region=None),
    )


@pytest.fixture
def payments(zwolle, flevoland):
    today = timezone.localdate()
    organisation = CareOrganisationFactory()
    in_zwolle = CareLocationFactory(
        organisation=organisation, hap_post=zwolle.posts.get(), postcode="8050 AB"
    )
    in_flevoland = CareLocationFactory(
        organisation=organisation, hap_post=flevoland.posts.get(), postcode="1350 AB"
    )

    def months_ago(months):
        return today.replace(day=1) - relativedelta(months=months)

    # 330 overdue, split 2 : 1 (administrative costs too); 30 paid: 300 left, 200 : 100.
    overdue = _invoice(
        organisation,
        months_ago(1),
        InvoiceState.SENT,
        [(in_zwolle, "200.00"), (in_flevoland, "100.00")],
        administrative_costs="30.00",
        invoice_date=today - datetime.timedelta(days=60),
        due_date=today - datetime.timedelta(days=30),
    )
    _pay(overdue, "30.00", today - datetime.timedelta(days=10))
    # 90 open in Zwolle, not yet due.
    _invoice(
        organisation,
        months_ago(2),
        InvoiceState.APPROVED,
        [(in_zwolle, "90.00")],
        invoice_date=today,
        due_date=today + datetime.timedelta(days=30),
    )
    # Paid after 20 days (two payments: the last counts) in Zwolle; after 40 in Flevoland.
    paid = _invoice(
        organisation,
        months_ago(3),
        InvoiceState.SENT,
        [(in_zwolle, "50.00")],
        invoice_date=today - datetime.timedelta(days=100),
    )
    _pay(paid, "20.00", today - datetime.timedelta(days=90))
    _pay(paid, "30.00", today - datetime.timedelta(days=80))
    paid_flevoland = _invoice(
        organisation,
        months_ago(4),
        InvoiceState.SENT,
        [(in_flevoland, "40.00")],
        invoice_date=today - datetime.timedelta(days=100),
    )
    _pay(paid_flevoland, "40.00", today - datetime.timedelta(days=60))
    # Paid more than 12 months ago: not in the average; a draft: not outstanding.
    old = _invoice(
        organisation,
        months_ago(5),
        InvoiceState.SENT,
        [(in_zwolle, "10.00")],
        invoice_date=today - datetime.timedelta(days=800),
    )
    _pay(old, "10.00", today - datetime.timedelta(days=400))
    _invoice(organisation, months_ago(9), InvoiceState.DRAFT, [(in_zwolle, "999.00")])
    return today


def test_outstanding_and_overdue_are_split_by_the_regions_lines(payments, zwolle, flevoland):
    figures = selectors.payment_figures(
        UserFactory(region=None, roles=[Role.FINANCE]), today=payments
    )

    assert figures[zwolle.pk].outstanding == Decimal("290.00")
    assert figures[zwolle.pk].overdue == Decimal("200.00")
    assert figures[flevoland.pk].outstanding == Decimal("100.00")
    assert figures[flevoland.pk].overdue == Decimal("100.00")
    assert figures[None].outstanding == Decimal("390.00")
    assert figures[None].overdue == Decimal("300.00")


def test_days_to_payment_run_to_the_last_payment_in_the_last_year(payments, zwolle, flevoland):
    figures = selectors.payment_figures(
        UserFactory(region=None, roles=[Role.FINANCE]), today=payments
    )

    assert figures[zwolle.pk].average_days_to_payment == 20
    assert figures[flevoland.pk].average_days_to_payment == 40
    assert figures[None].average_days_to_payment == 30


def test_a_regional_user_sees_only_their_regions_share(payments, make_user, zwolle, flevoland):
    figures = selectors.payment_figures(make_user(Role.SECRETARIAT, region=zwolle), today=payments)

    assert figures[zwolle.pk].outstanding == Decimal("290.00")
    assert flevoland.pk not in figures
    assert figures[None].outstanding == Decimal("290.00")


def test_the_region_page_and_the_overview_show_the_amounts(client, payments, staff):
    client.force_login(staff[Role.ADMINISTRATOR])

    region = client.get("/dashboard/zwolle/").content.decode()
    overview = client.get("/dashboard/").content.decode()

    assert "€ 290,00" in region and "€ 200,00" in region
    assert "€ 290,00" in overview and "€ 100,00" in overview
