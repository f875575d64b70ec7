"""An invoice or credit note as the documents that go out: the PDF and the SI-UBL 2.0
e-invoice with that PDF inside. Both show the sender and recipient as kept at approval."""

from __future__ import annotations

import mimetypes

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hap_contracting.core.errors import DomainError
from hap_contracting.core.months import month_bounds
from hap_contracting.core.pdf import render_pdf

from . import selectors as billing_selectors
from .constants import InvoiceKind
from .ubl import invoice_ubl

LOGO_FILE = "logo"


def _logo(sender: dict) -> dict[str, tuple[bytes, str]]:
    """The uploaded logo for the PDF, when there is one and it can be read."""
    name = sender.get("logo")
    if not name:
        return {}
    try:
        with default_storage.open(name, "rb") as file:
            content = file.read()
    except OSError:
        return {}  # a logo lost from storage leaves the invoice without it, not unprintable
    return {LOGO_FILE: (content, mimetypes.guess_type(name)[0] or "image/png")}


PDF_TEMPLATE = "billing/invoice_pdf.html"


def invoice_pdf_context(invoice, lines, *, has_logo: bool = False) -> dict:
    """What the PDF shows: the invoice, its lines and the parties as kept at approval."""
    sender, recipient = billing_selectors.invoice_parties(invoice)
    return {
        "invoice": invoice,
        "lines": lines,
        "sender": sender,
        "recipient": recipient,
        "period_end": month_bounds(invoice.period)[1],
        "amount": abs(invoice.total),
        "has_logo": has_logo,
        "is_credit_note": invoice.kind == InvoiceKind.CREDIT_NOTE,
        "today": timezone.localdate(),
    }


def invoice_pdf_bytes(invoice, lines) -> bytes:
    sender, _recipient = billing_selectors.invoice_parties(invoice)
    files = _logo(sender)
    context = invoice_pdf_context(invoice, lines, has_logo=bool(files))
    return render_pdf(PDF_TEMPLATE, context, files=files)


def invoice_ubl_bytes(invoice) -> bytes:
    """The UBL Invoice or CreditNote of an approved invoice; refused for a draft, or while the
    sender's details or the recipient's invoice address are missing."""
    return _ubl_and_pdf(invoice)[0]


def _ubl_and_pdf(invoice) -> tuple[bytes, bytes]:
    """The e-invoice and the PDF it holds (made once, for the e-mail that attaches both)."""
    if not invoice.number:
        raise DomainError(_("Only an approved invoice has an e-invoice."))
    if not invoice.invoice_date:
        raise DomainError(
            _(
                "This invoice went out before invoices had an invoice date and due date; it has "
                "no e-invoice."
            )
        )
    sender, recipient = billing_selectors.invoice_parties(invoice)
    gaps = billing_selectors.invoice_document_gaps(sender, recipient)
    if gaps:
        raise DomainError(
            _("The e-invoice cannot be made yet; missing: %(gaps)s.") % {"gaps": "; ".join(gaps)}
        )
    lines = list(billing_selectors.invoice_lines(invoice))
    pdf = invoice_pdf_bytes(invoice, lines)
    ubl = invoice_ubl(
        invoice=invoice,
        lines=lines,
        sender=sender,
        recipient=recipient,
        pdf=pdf,
        period_end=month_bounds(invoice.period)[1],
    )
    return ubl, pdf


def invoice_email(delivery) -> EmailMessage:
    """The Dutch e-mail of a delivery: the invoice or credit note as PDF and as SI-UBL 2.0
    e-invoice (which holds the PDF too, for software that reads only the UBL)."""
    invoice = delivery.invoice
    sender, recipient = billing_selectors.invoice_parties(invoice)
    ubl, pdf = _ubl_and_pdf(invoice)
    context = {
        "invoice": invoice,
        "sender": sender,
        "recipient": recipient,
        "amount": abs(invoice.total),
        "is_credit_note": invoice.kind == InvoiceKind.CREDIT_NOTE,
        "period_end": month_bounds(invoice.period)[1],
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("billing/email/invoice_subject.txt", context)
        body = render_to_string("billing/email/invoice_body.txt", context)
    message = EmailMessage(
        " ".join(subject.split()),
        body,
        settings.DEFAULT_FROM_EMAIL,
        [delivery.to],
        reply_to=[sender["contact_email"]] if sender.get("contact_email") else None,
    )
    name = document_name(invoice)
    message.attach(f"{name}.pdf", pdf, "application/pdf")
    message.attach(f"{name}.xml", ubl, "application/xml")
    return message


def invoice_email_send(delivery) -> None:
    invoice_email(delivery).send()


def document_name(invoice) -> str:
    """The attachments' name: ``factuur-2026-00001`` or ``creditnota-2026-00002``."""
    kind = "creditnota" if invoice.kind == InvoiceKind.CREDIT_NOTE else "factuur"
    return f"{kind}-{invoice.number}"
