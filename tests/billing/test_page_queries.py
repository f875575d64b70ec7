"""The invoice list runs at most eight queries, login and session included, however many
invoices, payments and credit notes there are (``tests.pages``; measured in
``bench/procedure_pages.py``)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from hap_contracting.billing.constants import InvoiceKind, InvoiceState
from hap_contracting.billing.models import Invoice, Payment
from hap_contracting.core.roles import Role
from tests.organisations.factories import CareOrganisationFactory
from tests.pages import assert_constant_queries

pytestmark = pytest.mark.django_db


def add_invoices(finance, count: int, first_number: int) -> None:
    """Sent invoices (paid, partly paid, open and overdue, credited) and drafts."""
    today = timezone.localdate()
    for n in range(count):
        number = f"2026-{first_number + 2 * n:05d}"
        invoice = Invoice.objects.create(
            organisation=CareOrganisationFactory(),
            period=datetime.date(2026, 1 + n % 12, 1),
            state=InvoiceState.SENT,
            year=2026,
            sequence=first_number + 2 * n,
            number=number,
            total=Decimal("100.00"),
            lines_total=Decimal("100.00"),
            invoice_date=today - datetime.timedelta(days=40),
            due_date=today - datetime.timedelta(days=10 - n % 20),
        )
        if n % 3:
            Payment.objects.create(
                invoice=invoice,
                amount=Decimal("100.00") if n % 3 == 1 else Decimal("40.00"),
                paid_on=today,
                reference=number,
                recorded_by=finance,
            )
        if n % 5 == 4:
            Invoice.objects.create(
                organisation=invoice.organisation,
                period=invoice.period,
                kind=InvoiceKind.CREDIT_NOTE,
                corrects=invoice,
                state=InvoiceState.SENT,
                year=2026,
                sequence=first_number + 2 * n + 1,
                number=f"2026-{first_number + 2 * n + 1:05d}",
                total=Decimal("-100.00"),
            )
        Invoice.objects.create(organisation=invoice.organisation, period=datetime.date(2025, 12, 1))


def test_the_invoice_list_runs_a_fixed_number_of_queries(
    client, make_user, django_assert_max_num_queries
):
    finance = make_user(Role.FINANCE)
    add_invoices(finance, 2, 1)
    client.force_login(finance)

    assert_constant_queries(
        client,
        reverse("billing:invoice_list"),
        lambda: add_invoices(finance, 40, 100),
        django_assert_max_num_queries,
    )
