"""Sending an invoice: an e-mail to the organisation's invoice address with the PDF and the
SI-UBL e-invoice, after the transaction commits, recorded; sending again is recorded too."""

import datetime
import smtplib
from decimal import Decimal

import pytest
from django.core import mail
from django.db import DatabaseError, transaction
from django.urls import reverse
from lxml import etree

from hap_contracting.audit.models import AccessLogEntry
from hap_contracting.billing import tasks
from hap_contracting.billing.constants import DeliveryStatus, InvoiceKind, InvoiceState
from hap_contracting.billing.models import (
    AdministrativeCost,
    Invoice,
    InvoiceDelivery,
    InvoiceDeliveryOutcome,
)
from hap_contracting.billing.services import invoices as billing
from hap_contracting.core.errors import DomainError
from hap_contracting.core.roles import Role
from tests.billing.factories import second_finance_user as approver
from tests.billing.test_ubl import OCTOBER, _care
from tests.organisations.factories import CareLocationFactory, CareOrganisationFactory
from tests.tariffs.factories import insurer_tariffs

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("invoice_sender")]

UBL_INVOICE = "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"
UBL_CREDIT_NOTE = "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote"


@pytest.fixture
def finance(make_user):
    return make_user(Role.FINANCE)


@pytest.fixture
def organisation():
    return CareOrganisationFactory(
        name="Zorggroep Groot", with_invoice_address=True, invoice_email="facturen@groot.example"
    )


@pytest.fixture
def draft(zwolle, finance, organisation):
    insurer_tariffs(datetime.date(2026, 1, 1))
    AdministrativeCost.objects.create(amount=Decimal("25.00"), valid_from=OCTOBER)
    location = CareLocationFactory(organisation=organisation, hap_post=zwolle.posts.get())
    _care(location, "VISITE", "2026-10-05 23:15")
    billing.invoices_generate(by=finance, period=OCTOBER)
    return Invoice.objects.get()


@pytest.fixture
def approved(draft, finance):
    return billing.invoice_approve(invoice=draft, by=approver(finance))


def _unchanged(invoice):
    return Invoice.objects.filter(pk=invoice.pk, state=InvoiceState.APPROVED, sent_at=None)


def test_sending_emails_the_invoice_address_with_the_pdf_and_the_e_invoice(
    approved, finance, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sent = billing.invoice_send(invoice=approved, by=finance)

    assert sent.state == InvoiceState.SENT and sent.sent_at is not None
    [message] = mail.outbox
    assert message.to == ["facturen@groot.example"]
    assert message.subject == f"Factuur {sent.number} van Coöperatie Huisartsenposten Oost U.A."
    assert "Bijgaand ontvangt u factuur" in message.body
    assert "Crediteurenadministratie" in message.body  # the attention line
    assert message.reply_to == ["facturatie@hap-oost.example"]
    (pdf_name, pdf, pdf_type), (xml_name, xml, xml_type) = message.attachments
    assert (pdf_name, pdf_type) == (f"factuur-{sent.number}.pdf", "application/pdf")
    assert pdf.startswith(b"%PDF")
    assert (xml_name, xml_type) == (f"factuur-{sent.number}.xml", "application/xml")
    ubl = etree.fromstring(xml)
    assert ubl.tag == UBL_INVOICE
    assert sent.number in ubl.findtext("{*}ID")
    [delivery] = InvoiceDelivery.objects.all()
    assert (delivery.invoice, delivery.to, delivery.sent_by) == (
        sent,
        "facturen@groot.example",
        finance,
    )
    assert delivery.sent_at == sent.sent_at
    assert delivery.outcome.status == DeliveryStatus.SENT
    # The documents name claims: the e-mail is in the access log as an export.
    assert AccessLogEntry.objects.filter(user=finance, what__contains="gemaild naar").exists()


def test_nothing_is_sent_before_the_transaction_commits(
    approved, finance, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        billing.invoice_send(invoice=approved, by=finance)
        assert mail.outbox == []

    assert len(callbacks) == 1  # the delivery's task, asked for on commit
    assert mail.outbox == []
    assert not InvoiceDeliveryOutcome.objects.exists()


def test_a_send_that_is_rolled_back_sends_and_records_nothing(
    approved, finance, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        billing.invoice_send(invoice=approved, by=finance)
        raise RuntimeError("something later in the same transaction failed")

    assert mail.outbox == []
    assert not InvoiceDelivery.objects.exists()
    assert _unchanged(approved).exists()


def test_sending_again_is_recorded_as_a_second_delivery_to_the_address_as_it_is_now(
    approved, finance, organisation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sent = billing.invoice_send(invoice=approved, by=finance)
    organisation.invoice_email = "crediteuren@groot.example"
    organisation.save()
    other = approver(finance)

    with django_capture_on_commit_callbacks(execute=True):
        billing.invoice_resend(invoice=sent, by=other)

    assert [m.to for m in mail.outbox] == [
        ["facturen@groot.example"],
        ["crediteuren@groot.example"],
    ]
    assert len(mail.outbox[1].attachments) == 2
    first, second = InvoiceDelivery.objects.order_by("pk")
    assert (first.to, first.sent_by) == ("facturen@groot.example", finance)
    assert (second.to, second.sent_by) == ("crediteuren@groot.example", other)
    assert second.outcome.status == DeliveryStatus.SENT
    # The invoice itself did not change.
    assert Invoice.objects.get(pk=sent.pk).sent_at == sent.sent_at


def test_without_an_invoice_email_sending_is_refused_and_nothing_changes(
    approved, finance, organisation, django_capture_on_commit_callbacks
):
    organisation.invoice_email = ""
    organisation.save()

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(DomainError, match="ontbreekt het e-mailadres voor facturen"),
    ):
        billing.invoice_send(invoice=approved, by=finance)

    assert mail.outbox == []
    assert not InvoiceDelivery.objects.exists()
    assert _unchanged(approved).exists()


def test_a_draft_cannot_be_sent(draft, finance, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(DomainError, match="Alleen een goedgekeurde factuur"):
            billing.invoice_send(invoice=draft, by=finance)
        with pytest.raises(DomainError, match="Alleen een verstuurde factuur"):
            billing.invoice_resend(invoice=draft, by=finance)

    assert mail.outbox == []
    assert not InvoiceDelivery.objects.exists()
    assert Invoice.objects.filter(pk=draft.pk, state=InvoiceState.DRAFT, number="").exists()


def test_an_approved_invoice_is_not_sent_again_before_it_is_sent(approved, finance):
    with pytest.raises(DomainError, match="Alleen een verstuurde factuur"):
        billing.invoice_resend(invoice=approved, by=finance)

    assert not InvoiceDelivery.objects.exists()


def test_a_credit_note_is_sent_the_same_way(approved, finance, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invoice = billing.invoice_send(invoice=approved, by=finance)
    credit = billing.invoice_credit(invoice=invoice, by=finance, reason="Verkeerde locatie.")
    credit = billing.invoice_approve(invoice=credit, by=approver(finance))

    with django_capture_on_commit_callbacks(execute=True):
        billing.invoice_send(invoice=credit, by=finance)

    message = mail.outbox[-1]
    assert message.to == ["facturen@groot.example"]
    assert message.subject.startswith(f"Creditnota {credit.number} van ")
    assert f"factuur {invoice.number}" in message.body
    names = [(name, kind) for name, _content, kind in message.attachments]
    assert names == [
        (f"creditnota-{credit.number}.pdf", "application/pdf"),
        (f"creditnota-{credit.number}.xml", "application/xml"),
    ]
    assert etree.fromstring(message.attachments[1][1]).tag == UBL_CREDIT_NOTE
    assert InvoiceDelivery.objects.filter(invoice=credit, invoice__kind=InvoiceKind.CREDIT_NOTE)


def test_an_e_mail_the_mail_server_refuses_is_recorded_as_failed(
    approved, finance, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(self, fail_silently=False):
        raise smtplib.SMTPRecipientsRefused({"facturen@groot.example": (550, b"no such user")})

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)

    with django_capture_on_commit_callbacks(execute=True):
        billing.invoice_send(invoice=approved, by=finance)

    outcome = InvoiceDeliveryOutcome.objects.get()
    assert outcome.status == DeliveryStatus.FAILED
    assert "no such user" in outcome.error
    # Still sent as far as the invoice goes: it is final; it can be sent again.
    assert Invoice.objects.get(pk=approved.pk).state == InvoiceState.SENT


def test_the_task_run_twice_sends_the_e_mail_once(
    approved, finance, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        billing.invoice_send(invoice=approved, by=finance)
    delivery = InvoiceDelivery.objects.get()

    status = tasks.deliver_invoice(delivery.pk)

    assert status == DeliveryStatus.SENT
    assert len(mail.outbox) == 1
    assert InvoiceDeliveryOutcome.objects.count() == 1


def test_the_invoice_page_sends_after_confirmation_and_lists_every_delivery(
    client, approved, finance, django_capture_on_commit_callbacks
):
    client.force_login(finance)
    url = reverse("billing:invoice_detail", args=[approved.pk])

    confirm = client.post(url, {"form": "send"})
    assert mail.outbox == []  # the confirmation first: nothing sent yet
    assert "facturen@groot.example" in confirm.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(url, {"form": "send", "confirmed": "1"})
    page = client.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(url, {"form": "resend", "confirmed": "1"})
    after = client.get(url).content.decode()

    assert sent.status_code == 302 and again.status_code == 302
    assert len(mail.outbox) == 2
    assert "resend" in page.context["forms"]
    assert "Opnieuw versturen" in page.content.decode()
    assert len(page.context["deliveries"]) == 1
    assert 'data-testid="deliveries"' in after
    assert after.count("facturen@groot.example") >= 2
    assert "Verstuurd" in after


@pytest.mark.postgres
def test_deliveries_and_their_outcomes_are_append_only_on_postgresql(
    approved, finance, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        billing.invoice_send(invoice=approved, by=finance)
    delivery = InvoiceDelivery.objects.get()

    with pytest.raises(DatabaseError), transaction.atomic():
        InvoiceDelivery.objects.filter(pk=delivery.pk).update(to="ander@example.org")
    with pytest.raises(DatabaseError), transaction.atomic():
        InvoiceDeliveryOutcome.objects.filter(delivery=delivery).delete()
    assert InvoiceDelivery.objects.get().to == "facturen@groot.example"
    assert InvoiceDeliveryOutcome.objects.filter(delivery=delivery).exists()


def test_the_page_refuses_to_send_without_an_invoice_email_and_says_what_is_missing(
    client, approved, finance, organisation, django_capture_on_commit_callbacks
):
    organisation.invoice_email = ""
    organisation.save()
    client.force_login(finance)
    url = reverse("billing:invoice_detail", args=[approved.pk])

    confirm = client.post(url, {"form": "send"}).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        refused = client.post(url, {"form": "send", "confirmed": "1"})

    assert "geen: vul het eerst in" in confirm
    assert refused.status_code == 200
    assert "ontbreekt het e-mailadres voor facturen" in refused.content.decode()
    assert mail.outbox == []
    assert not InvoiceDelivery.objects.exists()
    assert _unchanged(approved).exists()
