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
