"""Finance's exports: the invoice list (one row per invoice, CSV and XLSX through
django-import-export, at the end of this module) and the invoice lines (one row per line, never
a patient reference).

The invoice lines take two paths with the same columns and the same escaping:

- **CSV** is streamed: the csv module over ``QuerySet.values_list(...).iterator()`` (a
  server-side cursor on PostgreSQL), in constant memory whatever the number of lines.
  django-import-export builds the whole ``tablib.Dataset`` in memory first (and its own
  formula escaping pops every row off the front of a list, quadratic in the number of rows),
  which does not scale to a million lines; see ``bench/invoice_export.py``.
- **XLSX** goes through the django-import-export resource below (``InvoiceLineResource``).

Spreadsheet formula injection: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return is prefixed with an apostrophe (OWASP, "CSV injection"), so a spreadsheet
shows it as text. Numbers and dates are written as such and are never escaped (a credit note's
negative amount stays a number). The escaping is done here rather than with import-export's
``IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT``, which only strips a leading ``=`` and turns every
cell into text.

CSV conventions for Dutch spreadsheets: ``;`` between fields, a decimal comma, ISO dates,
UTF-8 with a byte order mark.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources

from .constants import InvoiceKind, InvoiceState
from .models import Invoice, InvoiceLine

FORMULA_FIRST_CHARACTERS = frozenset("=+-@\t\r")
CSV_DELIMITER = ";"
CHUNK_SIZE = 5000


def escape_formula(value):
    """Text that a spreadsheet would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in FORMULA_FIRST_CHARACTERS:
        return "'" + value
    return value


@dataclass(frozen=True)
class ExportColumn:
    attribute: str  # a lookup on InvoiceLine (annotated: ``claim_reference``)
    header: str
    kind: str = "text"  # text, choice, date, month, money


KIND_LABELS = dict(InvoiceKind.choices)
STATE_LABELS = dict(InvoiceState.choices)

COLUMNS = (
    ExportColumn("invoice__number", _("invoice number")),
    ExportColumn("invoice__kind", _("kind"), "kind"),
    ExportColumn("invoice__state", _("state"), "state"),
    ExportColumn("invoice__organisation__name", _("organisation")),
    ExportColumn("invoice__period", _("month"), "month"),
    ExportColumn("claim_reference", _("claim reference")),
    ExportColumn("care_on", _("date of care"), "date"),
    ExportColumn("location__name", _("location")),
    ExportColumn("location__postcode", _("postcode")),
    ExportColumn("act__code", _("act")),
    ExportColumn("tariff", _("insurer tariff"), "money"),
    ExportColumn("amount", _("amount"), "money"),
)


def headers() -> list[str]:
    return [str(column.header) for column in COLUMNS]


# --- CSV, streamed --------------------------------------------------------------------------


def _row_converter():
    """One function per row (tuple unpacking, no per-column calls) for the hot loop of a
    million lines: it unpacks the rows in the order of ``COLUMNS`` (a test holds the two
    together). Every column is NOT NULL except the number of a draft."""
    kinds = {key: str(label) for key, label in KIND_LABELS.items()}
    states = {key: str(label) for key, label in STATE_LABELS.items()}
    escape = escape_formula

    def convert(row: tuple) -> tuple:
        (number, kind, state, organisation, period, claim, care_on, location, postcode, act,
         tariff, amount) = row  # fmt: skip
        return (
            escape(number or ""),
            kinds.get(kind, kind),
            states.get(state, state),
            escape(organisation),
            f"{period.year:04d}-{period.month:02d}",
            escape(claim),
            care_on.isoformat(),
            escape(location),
            escape(postcode),
            escape(act),
            str(tariff).replace(".", ","),
            str(amount).replace(".", ","),
        )

    return convert


def csv_rows(queryset: QuerySet[InvoiceLine], chunk_size: int = CHUNK_SIZE) -> Iterator[tuple]:
    """The export's raw values, straight from a server-side cursor."""
    return queryset.values_list(*(column.attribute for column in COLUMNS)).iterator(
        chunk_size=chunk_size
    )


def iter_csv(rows: Iterable[tuple], *, rows_per_chunk: int = 2000) -> Iterator[str]:
    """The CSV text in chunks of ``rows_per_chunk`` lines: a byte order mark and the header
    first, then the rows, converted and escaped."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow(headers())
    yield "\ufeff" + out.getvalue()
    convert = _row_converter()
    rows = iter(rows)
    while chunk := list(islice(rows, rows_per_chunk)):
        out.seek(0)
        out.truncate()
        writer.writerows(map(convert, chunk))
        yield out.getvalue()


def invoice_lines_csv(queryset: QuerySet[InvoiceLine]) -> Iterator[bytes]:
    """What the CSV download streams."""
    for chunk in iter_csv(csv_rows(queryset)):
        yield chunk.encode("utf-8")


# --- XLSX (and anything else tablib writes) through django-import-export ------------------


class EscapedField(fields.Field):
    def export(self, instance, **kwargs):
        return escape_formula(super().export(instance, **kwargs))


class InvoiceLineResource(resources.ModelResource):
    """The same columns as the CSV, for the XLSX download."""

    invoice_number = EscapedField(attribute="invoice__number", column_name=COLUMNS[0].header)
    kind = fields.Field(column_name=COLUMNS[1].header)
    state = fields.Field(column_name=COLUMNS[2].header)
    organisation = EscapedField(
        attribute="invoice__organisation__name", column_name=COLUMNS[3].header
    )
    period = fields.Field(column_name=COLUMNS[4].header)
    claim_reference = EscapedField(attribute="claim_reference", column_name=COLUMNS[5].header)
    care_on = fields.Field(column_name=COLUMNS[6].header)
    location = EscapedField(attribute="location__name", column_name=COLUMNS[7].header)
    postcode = EscapedField(attribute="location__postcode", column_name=COLUMNS[8].header)
    act = EscapedField(attribute="act__code", column_name=COLUMNS[9].header)
    tariff = fields.Field(column_name=COLUMNS[10].header)
    amount = fields.Field(column_name=COLUMNS[11].header)

    class Meta:
        model = InvoiceLine
        fields = (
            "invoice_number",
            "kind",
            "state",
            "organisation",
            "period",
            "claim_reference",
            "care_on",
            "location",
            "postcode",
            "act",
            "tariff",
            "amount",
        )
        export_order = fields
        chunk_size = CHUNK_SIZE

    def dehydrate_kind(self, line: InvoiceLine) -> str:
        return str(KIND_LABELS.get(line.invoice.kind, line.invoice.kind))

    def dehydrate_state(self, line: InvoiceLine) -> str:
        return str(STATE_LABELS.get(line.invoice.state, line.invoice.state))

    def dehydrate_period(self, line: InvoiceLine) -> str:
        return f"{line.invoice.period:%Y-%m}"

    def dehydrate_care_on(self, line: InvoiceLine) -> datetime.date:
        return line.care_on

    def dehydrate_tariff(self, line: InvoiceLine) -> Decimal:
        return line.tariff

    def dehydrate_amount(self, line: InvoiceLine) -> Decimal:
        return line.amount


def invoice_lines_xlsx(queryset: QuerySet[InvoiceLine]) -> bytes:
    from import_export.formats.base_formats import XLSX

    dataset = InvoiceLineResource().export(queryset)
    return XLSX().export_data(dataset)


# --- The invoice list: one row per invoice, CSV and XLSX through django-import-export --------
# A month has one invoice per organisation, so the list is small and import-export's in-memory
# dataset is fine here (the line export above is the one that must stream).


def _decimal_comma(value: Decimal | None) -> str:
    return "" if value is None else str(value).replace(".", ",")


class InvoiceResource(resources.ModelResource):
    """The invoices as finance lists them: number, organisation, month and the amounts that
    add up to the total. ``for_csv`` writes amounts with a decimal comma (Dutch spreadsheets
    read a CSV as text); XLSX keeps them numbers."""

    number = EscapedField(attribute="number", column_name=_("invoice number"))
    kind = fields.Field(column_name=_("kind"))
    state = fields.Field(column_name=_("state"))
    organisation = EscapedField(attribute="organisation__name", column_name=_("organisation"))
    kvk_number = EscapedField(attribute="organisation__kvk_number", column_name=_("KvK number"))
    period = fields.Field(column_name=_("month"))
    corrects = EscapedField(attribute="corrects__number", column_name=_("corrects invoice"))
    lines_total = fields.Field(column_name=_("acts"))
    administrative_costs = fields.Field(column_name=_("administrative costs"))
    total = fields.Field(column_name=_("total"))
    approved_on = fields.Field(column_name=_("approved on"))
    sent_on = fields.Field(column_name=_("sent on"))

    class Meta:
        model = Invoice
        fields = (
            "number",
            "kind",
            "state",
            "organisation",
            "kvk_number",
            "period",
            "corrects",
            "lines_total",
            "administrative_costs",
            "total",
            "approved_on",
            "sent_on",
        )
        export_order = fields

    def __init__(self, *, for_csv: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.for_csv = for_csv

    def _amount(self, value: Decimal):
        return _decimal_comma(value) if self.for_csv else value

    def _date(self, moment: datetime.datetime | None):
        if moment is None:
            return ""
        day = timezone.localdate(moment)
        return day.isoformat() if self.for_csv else day

    def dehydrate_kind(self, invoice: Invoice) -> str:
        return str(KIND_LABELS.get(invoice.kind, invoice.kind))

    def dehydrate_state(self, invoice: Invoice) -> str:
        return str(STATE_LABELS.get(invoice.state, invoice.state))

    def dehydrate_period(self, invoice: Invoice) -> str:
        return f"{invoice.period:%Y-%m}"

    def dehydrate_lines_total(self, invoice: Invoice):
        return self._amount(invoice.lines_total)

    def dehydrate_administrative_costs(self, invoice: Invoice):
        return self._amount(invoice.administrative_costs)

    def dehydrate_total(self, invoice: Invoice):
        return self._amount(invoice.total)

    def dehydrate_approved_on(self, invoice: Invoice):
        return self._date(invoice.approved_at)

    def dehydrate_sent_on(self, invoice: Invoice):
        return self._date(invoice.sent_at)


def invoices_csv(queryset: QuerySet[Invoice]) -> str:
    from import_export.formats.base_formats import CSV

    dataset = InvoiceResource(for_csv=True).export(queryset)
    return "\ufeff" + CSV().export_data(dataset, delimiter=CSV_DELIMITER, lineterminator="\r\n")


def invoices_xlsx(queryset: QuerySet[Invoice]) -> bytes:
    from import_export.formats.base_formats import XLSX

    return XLSX().export_data(InvoiceResource().export(queryset))
