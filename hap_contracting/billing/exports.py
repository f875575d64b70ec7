"""Finance's exports, in CSV (streamed) and XLSX, with the columns defined once each: the invoice
list (one row per invoice, amounts that add up) and the invoice lines (one row per line, never a
patient reference); and the location managers' investigation list (one row per address, its
number of claims, never a patient reference). Formatting and formula escaping:
``core.spreadsheets``; the list exports' response: ``core.listing``."""

from django.utils.translation import gettext_lazy as _

from hap_contracting.core.spreadsheets import DATE, DAY_OF, LABEL, MONEY, MONTH, NUMBER, Column

from .constants import InvoiceKind, InvoiceState, NotificationChannel, PaymentState

KIND_LABELS = dict(InvoiceKind.choices)
STATE_LABELS = dict(InvoiceState.choices)

# Lookups on InvoiceLine; ``claim_reference`` is annotated by ``selectors.export_lines``.
INVOICE_LINE_COLUMNS = (
    Column("invoice__number", _("invoice number")),
    Column("invoice__kind", _("kind"), LABEL, KIND_LABELS),
    Column("invoice__state", _("state"), LABEL, STATE_LABELS),
    Column("invoice__organisation__name", _("organisation")),
    Column("invoice__period", _("month"), MONTH),
    Column("claim_reference", _("claim reference")),
    Column("care_on", _("date of care"), DATE),
    Column("location__name", _("location")),
    Column("location__postcode", _("postcode")),
    Column("act__code", _("act")),
    Column("tariff", _("insurer tariff"), MONEY),
    Column("amount", _("amount"), MONEY),
)

# Lookups on Invoice. A month has one invoice per organisation, so the list is small.
INVOICE_COLUMNS = (
    Column("number", _("invoice number")),
    Column("kind", _("kind"), LABEL, KIND_LABELS),
    Column("state", _("state"), LABEL, STATE_LABELS),
    Column("organisation__name", _("organisation")),
    Column("organisation__kvk_number", _("KvK number")),
    Column("period", _("month"), MONTH),
    Column("corrects__number", _("corrects invoice")),
    Column("lines_total", _("acts"), MONEY),
    Column("administrative_costs", _("administrative costs"), MONEY),
    Column("total", _("total"), MONEY),
    Column("approved_at", _("approved on"), DAY_OF),
    Column("sent_at", _("sent on"), DAY_OF),
    # Annotated by ``selectors.with_payment_state`` (through ``invoice_list``).
    Column("payment_state", _("payment state"), LABEL, dict(PaymentState.choices)),
    Column("amount_paid", _("paid"), MONEY),
    Column("outstanding", _("outstanding"), MONEY),
)

# Lookups on AddressInvestigation; ``claim_count`` is annotated by ``selectors.investigation_list``.
INVESTIGATION_COLUMNS = (
    Column("postcode", _("postcode")),
    Column("house_number", _("house number"), NUMBER),
    Column("house_number_addition", _("addition")),
    Column("post__name", _("out-of-hours GP post")),
    Column("opened_on", _("opened on"), DATE),
    Column("claim_count", _("claims"), NUMBER),
    Column("location__name", _("location")),
    Column("location__organisation__name", _("organisation")),
    Column("notified_on", _("organisation told on"), DATE),
    Column("notified_how", _("told how"), LABEL, dict(NotificationChannel.choices)),
)
