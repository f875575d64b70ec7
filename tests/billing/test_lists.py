"""The invoice list and the address investigations as work lists: sorted by a column, filtered,
exported within the user's region, the exports in the access log (``core.listing``)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from hap_contracting.audit.constants import AccessAction
from hap_contracting.audit.models import AccessLogEntry
from hap_contracting.billing.constants import InvoiceKind, InvoiceState
from hap_contracting.billing.models import Invoice
from hap_contracting.core.roles import Role
from tests.billing.factories import AddressInvestigationFactory, ClaimFactory
from tests.lists import assert_sorts_by, column, export_rows, listed
from tests.organisations.factories import CareOrganisationFactory

pytestmark = pytest.mark.django_db

INVOICES = reverse("billing:invoice_list")
INVESTIGATIONS = reverse("billing:investigation_list")


def month(months_ago: int) -> datetime.date:
    first = timezone.localdate().replace(day=1)
    for _ in range(months_ago):
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    return first


def make_invoice(name: str, months_ago: int, **fields) -> Invoice:
    return Invoice.objects.create(
        organisation=CareOrganisationFactory(name=name), period=month(months_ago), **fields
    )


# --- Invoices -------------------------------------------------------------------------------


@pytest.fixture
def three_invoices():
    return [
        make_invoice("Beta", 2, number="2026-0002", total=Decimal("30.00")),
        make_invoice(
            "Alfa",
            1,
            number="2026-0003",
            total=Decimal("10.00"),
            kind=InvoiceKind.CREDIT_NOTE,
            state=InvoiceState.APPROVED,
        ),
        make_invoice(
            "Gamma", 3, number="2026-0001", total=Decimal("20.00"), state=InvoiceState.SENT
        ),
    ]


INVOICE_SORTS = {
    "number": lambda i: i.number,
    "kind": lambda i: i.kind,
    "organisation": lambda i: i.organisation.name,
    "month": lambda i: i.period,
    "state": lambda i: i.state,
    "total": lambda i: i.total,
}


@pytest.mark.parametrize("key", INVOICE_SORTS)
def test_each_column_sorts_the_invoices_both_ways(client, staff, three_invoices, key):
    client.force_login(staff[Role.FINANCE])

    assert_sorts_by(client, INVOICES, key, INVOICE_SORTS[key])


def test_the_invoices_sort_by_their_number_of_lines(client, staff, three_invoices):
    client.force_login(staff[Role.FINANCE])

    invoices = listed(client, INVOICES, sort="-lines")

    # All without lines: the tie is broken by the newest month.
    assert [i.line_count for i in invoices] == [0, 0, 0]
    assert invoices == sorted(three_invoices, key=lambda i: i.period, reverse=True)


def test_an_unknown_sort_falls_back_to_the_newest_month_first(client, staff, three_invoices):
    client.force_login(staff[Role.FINANCE])

    invoices = listed(client, INVOICES, sort="organisation__kvk_number")

    assert invoices == sorted(three_invoices, key=lambda i: i.period, reverse=True)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_invoice_list_export_holds_the_filtered_rows_and_is_logged(
    client, staff, three_invoices, fmt
):
    client.force_login(staff[Role.FINANCE])

    response = client.get(
        reverse("billing:invoice_list_export", args=[fmt]),
        {"state": InvoiceState.SENT, "sort": "-total"},
    )
    rows = export_rows(response)

    assert column(rows, "organisatie") == ["Gamma"]
    entry = AccessLogEntry.objects.get(action=AccessAction.EXPORT)
    assert entry.what == f"invoice list {fmt.upper()} (state=sent)"


@pytest.mark.parametrize("count", [3, 30])
def test_the_invoice_list_and_its_exports_run_a_constant_number_of_queries(
    client, staff, count, django_assert_max_num_queries
):
    for number in range(count):
        make_invoice(f"Zorggroep {number}", number % 5)
    client.force_login(staff[Role.FINANCE])

    with django_assert_max_num_queries(8):
        page = client.get(INVOICES, {"sort": "lines"})
    for fmt in ("csv", "xlsx"):
        with django_assert_max_num_queries(5):
            rows = export_rows(client.get(reverse("billing:invoice_list_export", args=[fmt])))
        assert len(rows) == 1 + count

    assert len(page.context["page"].object_list) == count


# --- Address investigations -----------------------------------------------------------------


@pytest.fixture
def three_investigations(zwolle, tariffs_for_claims):
    post = zwolle.posts.get()
    today = timezone.localdate()
    rows = [("8012 AB", 20, 2, None), ("8011 AB", 30, 0, 5), ("8013 AB", 10, 1, 1)]
    investigations = []
    for postcode, opened_days_ago, claims, told_days_ago in rows:
        investigation = AddressInvestigationFactory(
            post=post,
            postcode=postcode,
            opened_on=today - datetime.timedelta(days=opened_days_ago),
            notified_on=None
            if told_days_ago is None
            else today - datetime.timedelta(days=told_days_ago),
            notified_how="" if told_days_ago is None else "letter",
        )
        for _ in range(claims):
            ClaimFactory(
                location=None,
                post=post,
                postcode=postcode,
                house_number=investigation.house_number,
            )
        investigations.append(investigation)
    return investigations


@pytest.fixture
def tariffs_for_claims():
    from tests.tariffs.factories import insurer_tariffs

    return insurer_tariffs(valid_from=timezone.localdate() - datetime.timedelta(days=800))


INVESTIGATION_SORTS = {
    "address": lambda i: i.postcode,
    "opened": lambda i: i.opened_on,
    "claims": lambda i: i.claim_count,
    "told": lambda i: i.notified_on,
}


@pytest.mark.parametrize("key", INVESTIGATION_SORTS)
def test_each_column_sorts_the_investigations_both_ways(client, staff, three_investigations, key):
    client.force_login(staff[Role.LOCATION_MANAGER])

    assert_sorts_by(client, INVESTIGATIONS, key, INVESTIGATION_SORTS[key])


def test_an_unknown_sort_keeps_open_investigations_first(client, staff, three_investigations):
    client.force_login(staff[Role.LOCATION_MANAGER])

    investigations = listed(client, INVESTIGATIONS, sort="post__region__name")

    # Not yet told first, then by the day the organisation was told.
    assert investigations == [three_investigations[i] for i in (0, 1, 2)]


def test_the_investigations_filter_on_open_period_and_postcode(client, staff, three_investigations):
    client.force_login(staff[Role.LOCATION_MANAGER])
    today = timezone.localdate()

    assert listed(client, INVESTIGATIONS, open="1") == [three_investigations[0]]
    assert listed(client, INVESTIGATIONS, opened_from=today - datetime.timedelta(days=25)) == [
        three_investigations[0],
        three_investigations[2],
    ]
    assert listed(client, INVESTIGATIONS, q="8013") == [three_investigations[2]]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_investigation_export_holds_the_filtered_rows_of_the_own_region_and_is_logged(
    client, staff, three_investigations, flevoland, fmt
):
    AddressInvestigationFactory(post=flevoland.posts.get(), postcode="1311 AB")
    client.force_login(staff[Role.LOCATION_MANAGER])

    response = client.get(
        reverse("billing:investigation_list_export", args=[fmt]), {"sort": "-claims"}
    )
    rows = export_rows(response)

    assert response["Content-Disposition"].startswith('attachment; filename="adresonderzoeken-')
    assert column(rows, "postcode") == ["8012 AB", "8013 AB", "8011 AB"]
    assert [int(n) for n in column(rows, "declaraties")] == [2, 1, 0]
    entry = AccessLogEntry.objects.get(action=AccessAction.EXPORT)
    assert entry.user == staff[Role.LOCATION_MANAGER]
    assert entry.what == f"address investigations {fmt.upper()} (all)"


def test_others_may_not_export_the_investigations(client, staff, three_investigations):
    client.force_login(staff[Role.FINANCE])

    response = client.get(reverse("billing:investigation_list_export", args=["csv"]))

    assert response.status_code == 403
    assert not AccessLogEntry.objects.filter(action=AccessAction.EXPORT).exists()


@pytest.mark.parametrize("count", [3, 30])
def test_the_investigations_and_their_exports_run_a_constant_number_of_queries(
    client, staff, zwolle, count, django_assert_max_num_queries
):
    post = zwolle.posts.get()
    for number in range(count):
        AddressInvestigationFactory(post=post, house_number=900 + number)
    client.force_login(staff[Role.LOCATION_MANAGER])

    # 8: the page's 7 and the menu's work count (cached for the next pages).
    with django_assert_max_num_queries(8):
        page = client.get(INVESTIGATIONS, {"sort": "claims"})
    for fmt in ("csv", "xlsx"):
        with django_assert_max_num_queries(5):
            rows = export_rows(client.get(reverse("billing:investigation_list_export", args=[fmt])))
        assert len(rows) == 1 + count

    assert len(page.context["page"].object_list) == count
