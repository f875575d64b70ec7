"""``manage.py invoice_ubl 2026-00001 [-o factuur.xml]``: the SI-UBL 2.0 e-invoice of an
approved invoice or credit note, its PDF inside, to a file or to standard output."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hap_contracting.billing.documents import invoice_ubl_bytes
from hap_contracting.billing.models import Invoice
from hap_contracting.core.errors import DomainError


class Command(BaseCommand):
    help = "Write the SI-UBL 2.0 e-invoice (UBL 2.1, PDF embedded) of an approved invoice."

    def add_arguments(self, parser):
        parser.add_argument("number", help="the invoice or credit note number, e.g. 2026-00001")
        parser.add_argument("-o", "--output", help="the file to write (default: standard output)")

    def handle(self, *args, number: str, output: str | None = None, **options):
        invoice = (
            Invoice.objects.select_related("organisation", "corrects").filter(number=number).first()
        )
        if invoice is None:
            raise CommandError(f"No invoice or credit note has number {number}.")
        try:
            content = invoice_ubl_bytes(invoice)
        except DomainError as error:
            raise CommandError(str(error)) from error
        if output:
            Path(output).write_bytes(content)
            self.stderr.write(f"{number}: {len(content)} bytes written to {output}")
        else:
            self.stdout.write(content.decode("utf-8"), ending="")
