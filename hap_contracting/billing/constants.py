from django.db import models
from django.utils.translation import gettext_lazy as _


class ClaimImportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Importing")
    IMPORTED = "imported", _("Imported")
    REJECTED = "rejected", _("Rejected: the file has errors")
    FAILED = "failed", _("Failed")


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class InvoiceState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    SENT = "sent", _("Sent")


class NotificationChannel(models.TextChoices):
    LETTER = "letter", _("Letter")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Telephone")
    MEETING = "meeting", _("In person")


class PaymentSource(models.TextChoices):
    MANUAL = "manual", _("Recorded by hand")
    BANK = "bank", _("Bank statement")


class PaymentState(models.TextChoices):
    """What an approved or sent invoice's payments and credit notes add up to
    (``selectors.with_payment_state``). Drafts and credit notes have none."""

    OPEN = "open", _("Open")
    PARTLY_PAID = "partly_paid", _("Partly paid")
    PAID = "paid", _("Paid")
    OVERPAID = "overpaid", _("Paid too much")
    CREDITED = "credited", _("Credited")


# The invoice list's payment filter: a state, or "overdue" (open or partly paid after the due
# date).
OVERDUE = "overdue"
