"""Invoices approved but not sent before invoices had an invoice date, due date and payment
reference get them as approval would have given them. Sent invoices stay as they went out (and
are final): they have no e-invoice."""

import datetime

from django.conf import settings
from django.db import migrations
from django.utils import timezone
from stdnum import iso11649
from stdnum.iso7064 import mod_97_10


def date_approved_invoices(apps, schema_editor):
    Invoice = apps.get_model("billing", "Invoice")
    undated = Invoice.objects.filter(
        state="approved", invoice_date__isnull=True, approved_at__isnull=False
    )
    for invoice in undated.iterator():
        invoice.invoice_date = timezone.localdate(invoice.approved_at)
        if invoice.kind == "invoice":
            invoice.due_date = invoice.invoice_date + datetime.timedelta(
                days=settings.INVOICE_PAYMENT_TERM_DAYS
            )
        digits = "".join(c for c in invoice.number if c.isdigit())
        invoice.payment_reference = iso11649.compact(
            "RF" + mod_97_10.calc_check_digits(digits + "RF") + digits
        )
        invoice.save(update_fields=["invoice_date", "due_date", "payment_reference"])


class Migration(migrations.Migration):
    dependencies = [("billing", "0004_invoice_due_date_invoice_invoice_date_and_more")]

    operations = [migrations.RunPython(date_approved_invoices, migrations.RunPython.noop)]
