"""Payment reminders: a first and a second reminder after the due date, then the listing for
collection; each once, whatever happens to the daily job."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.urls import reverse

from hap_contracting.billing.constants import InvoiceState, PaymentReminderKind
from hap_contracting.billing.models import Invoice, Payment, PaymentReminder
from hap_contracting.billing.services.payment_reminders import (
    invoices_list_for_collection,
    payment_reminders_schedule,
    payment_reminders_send_pending,
)
from hap_contracting.core.roles import Role
from hap_contracting.operations.services import daily_job
from tests.accounts.factories import UserFactory
from tests.organisations.factories import CareOrganisationFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("invoice_sender"),
    pytest.mark.filterwarnings("ignore"),
]
DUE = datetime.date(2026, 3, 31)
K = PaymentReminderKind
DAYS = {
    "PAYMENT_REMINDER_FIRST_DAYS": 14,
    "PAYMENT_REMINDER_SECOND_DAYS": 28,
    "PAYMENT_COLLECTION_DAYS": 42,
}


@pytest.fixture(autouse=True)
def _days():
    with override_settings(**DAYS):
        yield


@pytest.fixture
def invoice():
    organisation = CareOrganisationFactory(invoice_email="facturen@huisartsen.example")
    return Invoice.objects.create(
        organisation=organisation,
        period=datetime.date(2026, 2, 1),
        state=InvoiceState.SENT,
        number="2026-000001",
        lines_total=Decimal("100.00"),
        total=Decimal("100.00"),
        invoice_date=DUE - datetime.timedelta(days=30),
        due_date=DUE,
        payment_reference="1000000000000001",
    )


def _run(day: datetime.date) -> int:
    """The daily job's payment steps and the sending, on ``day``; the e-mails sent."""
    payment_reminders_schedule(day)
    invoices_list_for_collection(day)
    return payment_reminders_send_pending(day)


def _listed(invoice) -> datetime.date | None:
    listed = PaymentReminder.objects.filter(invoice=invoice, kind=K.COLLECTION)
    return listed.values_list("due_on", flat=True).first()


def _on(days: int) -> datetime.date:
    return DUE + datetime.timedelta(days=days)


def test_the_first_reminder_goes_out_the_set_number_of_days_after_the_due_date(invoice):
    assert _run(_on(13)) == 0
    assert not PaymentReminder.objects.exists()

    assert _run(_on(14)) == 1

    reminder = PaymentReminder.objects.get()
    assert (reminder.kind, reminder.due_on) == (K.FIRST, _on(14))
    assert reminder.recipient == "facturen@huisartsen.example"
    assert mail.outbox[0].to == ["facturen@huisartsen.example"]
    assert "Herinnering" in mail.outbox[0].subject
    assert "2026-000001" in mail.outbox[0].subject
    assert "€ 100,00" in mail.outbox[0].body


def test_the_second_reminder_after_more_days_then_collection(invoice):
    _run(_on(14))
    assert _run(_on(27)) == 0

    assert _run(_on(28)) == 1
    assert PaymentReminder.objects.get(kind=K.SECOND).due_on == _on(28)
    assert "incasso" in mail.outbox[1].body
    assert _listed(invoice) is None

    _run(_on(41))
    assert _listed(invoice) is None
    _run(_on(42))
    assert _listed(invoice) == _on(42)


def test_each_goes_out_once_when_the_job_runs_again(invoice):
    for day in (14, 14, 15, 28, 28, 30, 42, 43, 60):
        _run(_on(day))
        _run(_on(day))

    assert len(mail.outbox) == 2
    kinds = sorted(PaymentReminder.objects.values_list("kind", flat=True))
    assert kinds == sorted([K.FIRST, K.SECOND, K.COLLECTION])
    assert _listed(invoice) == _on(42)


def test_a_missed_day_still_sends(invoice):
    assert _run(_on(16)) == 1
    assert PaymentReminder.objects.get().kind == K.FIRST

    assert _run(_on(31)) == 1
    _run(_on(45))
    assert _listed(invoice) == _on(45)


def test_after_a_long_gap_only_the_latest_reminder_goes_out(invoice):
    assert _run(_on(30)) == 1
    assert PaymentReminder.objects.get().kind == K.SECOND
    _run(_on(31))
    assert len(mail.outbox) == 1


def test_a_paid_invoice_gets_no_reminder_and_is_not_listed(invoice):
    Payment.objects.create(
        invoice=invoice,
        amount=Decimal("100.00"),
        paid_on=DUE,
        reference="NL00BANK",
        recorded_by=UserFactory(roles=[Role.FINANCE], region=None),
    )
    for day in (14, 28, 42):
        assert _run(_on(day)) == 0

    assert not PaymentReminder.objects.exists()
    assert _listed(invoice) is None
    assert _listed(invoice) is None


def test_an_invoice_paid_before_the_reminder_was_sent_is_not_reminded(invoice):
    payment_reminders_schedule(_on(14))
    Payment.objects.create(
        invoice=invoice,
        amount=Decimal("100.00"),
        paid_on=_on(13),
        reference="NL00BANK",
        recorded_by=UserFactory(roles=[Role.FINANCE], region=None),
    )

    assert payment_reminders_send_pending(_on(14)) == 0
    assert mail.outbox == []


def test_a_partly_paid_invoice_is_reminded_of_what_is_open(invoice):
    Payment.objects.create(
        invoice=invoice,
        amount=Decimal("40.00"),
        paid_on=DUE,
        reference="NL00BANK",
        recorded_by=UserFactory(roles=[Role.FINANCE], region=None),
    )

    assert _run(_on(14)) == 1
    assert "€ 60,00" in mail.outbox[0].body


def test_the_daily_job_schedules_them(invoice):
    report = daily_job(_on(42))

    assert report.payment_reminders_scheduled == 1
    assert report.invoices_listed_for_collection == 1


def test_the_listing_shows_on_the_invoice_list_and_page(client, invoice, make_user):
    invoices_list_for_collection(_on(42))
    client.force_login(make_user(Role.FINANCE, region=None))

    listing = client.get(reverse("billing:invoice_list")).content.decode()
    page = client.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()

    assert 'data-testid="collection-listed"' in listing
    assert 'data-testid="collection-listed"' in page


def test_a_concurrent_run_cannot_add_a_second_reminder_of_a_kind(invoice):
    PaymentReminder.objects.create(invoice=invoice, kind=K.FIRST, due_on=_on(14))

    PaymentReminder.objects.bulk_create(
        [PaymentReminder(invoice=invoice, kind=K.FIRST, due_on=_on(15))], ignore_conflicts=True
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentReminder.objects.create(invoice=invoice, kind=K.FIRST, due_on=_on(14))

    assert PaymentReminder.objects.count() == 1


def test_exactly_the_open_and_partly_paid_invoices_are_reminded(invoice):
    """The job's filter on the amounts picks what ``payment_state`` calls open or partly paid:
    not a paid, overpaid or credited invoice, nor a draft."""
    finance = UserFactory(roles=[Role.FINANCE], region=None)

    def another(number, paid=None, **fields):
        other = Invoice.objects.create(
            **{
                "organisation": CareOrganisationFactory(invoice_email="f@example.org"),
                "period": invoice.period,
                "state": InvoiceState.SENT,
                "number": number,
                "lines_total": Decimal("100.00"),
                "total": Decimal("100.00"),
                "due_date": DUE,
                **fields,
            }
        )
        if paid is not None:
            Payment.objects.create(
                invoice=other, amount=paid, paid_on=DUE, reference="NL", recorded_by=finance
            )
        return other

    partly = another("2026-000002", paid=Decimal("40.00"))
    another("2026-000003", paid=Decimal("100.00"))
    another("2026-000004", paid=Decimal("120.00"))
    another("", state=InvoiceState.DRAFT)
    credited = another("2026-000006")
    Invoice.objects.create(
        organisation=credited.organisation,
        period=credited.period,
        kind="credit_note",
        corrects=credited,
        state=InvoiceState.SENT,
        number="2026-000007",
        lines_total=Decimal("-100.00"),
        total=Decimal("-100.00"),
    )

    assert payment_reminders_schedule(_on(14)) == 2
    assert set(PaymentReminder.objects.values_list("invoice", flat=True)) == {
        invoice.pk,
        partly.pk,
    }
