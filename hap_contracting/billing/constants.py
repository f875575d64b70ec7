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


# From approval on a credit note cannot be deleted: the charges it reverses may be billed again.
CREDIT_NOTE_FINAL_STATES = (InvoiceState.APPROVED, InvoiceState.SENT)


class ClaimOutcome(models.TextChoices):
    """What became of a claim (the import's summary); exclusive, in this order of precedence."""

    DUPLICATE = "duplicate", _("Duplicate of a claim imported before")
    BILLED = "billed", _("Billed")
    REASON_NOT_BILLABLE = "reason", _("Reason code not billable")
    UNDER_INVESTIGATION = "investigation", _("Under investigation (unknown address)")
    NO_TREATMENT_ADMISSION = "no_treatment", _("Location without treatment admission")
    CONTRACTED = "contracted", _("Contracted location")
    NOT_BILLED_YET = "not_yet", _("Not billed yet")


class NotificationChannel(models.TextChoices):
    LETTER = "letter", _("Letter")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Telephone")
    MEETING = "meeting", _("In person")


class DeliveryStatus(models.TextChoices):
    """What became of an invoice's e-mail (``InvoiceDeliveryOutcome``); none yet: on its way."""

    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


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


class PaymentReminderKind(models.TextChoices):
    """The reminders of an unpaid invoice, after its due date (``services.payment_reminders``)."""

    FIRST = "first", _("First payment reminder")
    SECOND = "second", _("Second payment reminder")
    COLLECTION = "collection", _("Listed for collection")
