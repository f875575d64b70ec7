"""Invoices and credit notes, and finance's exports of them. Every page and export that shows
claim data writes the access log (NEN 7513) before it answers."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hap_contracting.audit.constants import AccessAction
from hap_contracting.audit.decorators import logs_refused_reads
from hap_contracting.audit.services import access_log_record, access_log_record_many
from hap_contracting.core import listing, spreadsheets
from hap_contracting.core.errors import DomainError
from hap_contracting.core.forms import confirmation_needed, going_back

from .. import documents
from .. import selectors as billing_selectors
from ..constants import InvoiceState
from ..exports import INVOICE_COLUMNS, INVOICE_LINE_COLUMNS
from ..forms import (
    InvoiceActionForm,
    InvoiceApproveManyForm,
    InvoiceCreditForm,
    InvoiceFilterForm,
    InvoiceGenerateForm,
)
from ..services import invoices as invoice_services
from . import payments
from .access import require_finance as _require_finance


@login_required
@require_http_methods(["GET", "POST"])
def invoice_list(request):
    _require_finance(request.user)
    filters = InvoiceFilterForm(request.GET or None)
    sort = request.GET.get(listing.SORT_PARAMETER, "")
    generate_form = InvoiceGenerateForm(request.POST or None)
    if request.method == "POST" and generate_form.is_valid():
        try:
            result = invoice_services.invoices_generate(
                by=request.user, **generate_form.service_arguments()
            )
        except DomainError as error:
            generate_form.add_domain_error(error)
        else:
            messages.success(
                request,
                _("%(invoices)s with %(lines)s.")
                % {
                    "invoices": ngettext(
                        "%(count)s draft invoice", "%(count)s draft invoices", result["invoices"]
                    )
                    % {"count": result["invoices"]},
                    "lines": ngettext("%(count)s new line", "%(count)s new lines", result["lines"])
                    % {"count": result["lines"]},
                },
            )
            if result["lines_removed"]:
                messages.warning(
                    request,
                    ngettext(
                        "%(count)s line was taken off the drafts (%(drafts)s): its claim is no "
                        "longer chargeable, for example because a contract was recorded since.",
                        "%(count)s lines were taken off the drafts (%(drafts)s): their claims "
                        "are no longer chargeable, for example because a contract was recorded "
                        "since.",
                        result["lines_removed"],
                    )
                    % {
                        "count": result["lines_removed"],
                        "drafts": ngettext(
                            "%(count)s draft removed",
                            "%(count)s drafts removed",
                            result["drafts_removed"],
                        )
                        % {"count": result["drafts_removed"]},
                    },
                )
            if result["claims_without_tariff"]:
                messages.warning(
                    request,
                    ngettext(
                        "%(count)s claim was left out: its act has no insurer tariff that day.",
                        "%(count)s claims were left out: their act has no insurer tariff that day.",
                        result["claims_without_tariff"],
                    )
                    % {"count": result["claims_without_tariff"]},
                )
            if result["supplementary"]:
                messages.info(
                    request,
                    ngettext(
                        "%(count)s supplementary invoice made: claims that arrived after the "
                        "month's invoice was approved.",
                        "%(count)s supplementary invoices made: claims that arrived after the "
                        "month's invoices were approved.",
                        result["supplementary"],
                    )
                    % {"count": result["supplementary"]},
                )
            return redirect("billing:invoice_list")
    invoices = billing_selectors.invoice_list(request.user, filters.filters(sort=sort))
    page = Paginator(invoices, listing.PAGE_SIZE).get_page(request.GET.get(listing.PAGE_PARAMETER))
    for invoice in page.object_list:
        invoice.may_approve = billing_selectors.may_approve(invoice, request.user)
    return render(
        request,
        "billing/invoice_list.html",
        {
            **listing.list_context(request, billing_selectors.INVOICE_SORTS, page),
            "filters": filters,
            "generate_form": generate_form,
            "approvable": any(invoice.may_approve for invoice in page.object_list),
        },
    )


@login_required
@require_POST
def invoice_approve_many(request):
    """The drafts chosen on the list, approved together after a confirmation that lists them
    with their totals; all or none (``invoices_approve``)."""
    _require_finance(request.user)
    if going_back(request.POST):
        return redirect("billing:invoice_list")
    form = InvoiceApproveManyForm(
        request.POST, drafts=billing_selectors.invoice_drafts_to_approve(request.user)
    )
    if not form.is_valid():
        messages.error(
            request,
            " ".join(form.errors.get("invoices", [])) or _("Choose the draft invoices to approve."),
        )
        return redirect("billing:invoice_list")
    confirmation = confirmation_needed(form, request.POST)
    if confirmation is not None:
        return render(request, "billing/invoice_approve_many.html", {"confirmation": confirmation})
    try:
        approved = invoice_services.invoices_approve(by=request.user, **form.service_arguments())
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            ngettext(
                "%(count)s invoice approved: %(numbers)s. Next: send it.",
                "%(count)s invoices approved: %(numbers)s. Next: send them.",
                len(approved),
            )
            % {
                "count": len(approved),
                "numbers": ", ".join(invoice.number for invoice in approved),
            },
        )
    return redirect("billing:invoice_list")


def _invoice_forms(invoice, user, bound: dict | None = None) -> dict:
    """A form per step the state machine lets this user take on the invoice now."""
    bound = bound or {}
    forms = {}
    for action, label in billing_selectors.invoice_actions(invoice, user):
        if action == "credit":
            forms[action] = bound.get(action) or InvoiceCreditForm()
        else:
            forms[action] = bound.get(action) or InvoiceActionForm(
                label=label, action=action, invoice=invoice
            )
    return forms


INVOICE_SERVICES = {
    "approve": invoice_services.invoice_approve,
    "send": invoice_services.invoice_send,
    "resend": invoice_services.invoice_resend,
    "delete": invoice_services.invoice_delete_draft,
    "credit": invoice_services.invoice_credit,
}


def _invoice_done(name: str, invoice, result) -> str:
    """What the success message says: what happened, and what comes next."""
    names = {"number": invoice.number, "organisation": invoice.organisation.name}
    if name == "approve":
        return _("Invoice %(number)s approved. Next: send it to %(organisation)s.") % names
    if name in ("send", "resend"):
        names["to"] = invoice.organisation.invoice_email
        return _("Invoice %(number)s is being e-mailed to %(organisation)s (%(to)s).") % names
    return (
        _(
            "Credit note for invoice %(number)s made as a draft. Next: approve it and send it to "
            "%(organisation)s."
        )
        % names
    )


@login_required
@require_http_methods(["GET", "POST"])
@logs_refused_reads("invoice {pk}")
def invoice_detail(request, pk: int):
    _require_finance(request.user)
    try:
        invoice = billing_selectors.invoice_for_user(request.user, pk)
    except Http404:
        if request.method != "POST":
            raise
        # Making the month again removed this draft after the page was shown.
        messages.error(request, _("This draft no longer exists; its claims are not chargeable."))
        return redirect("billing:invoice_list")
    bound: dict = {}
    payment_bound: dict = {}
    if request.method == "POST" and request.POST.get("form") in payments.PAYMENT_ACTIONS:
        response, payment_bound = payments.invoice_payment_post(request, invoice)
        if response is not None:
            return response
    elif request.method == "POST":
        name = request.POST.get("form", "")
        service = INVOICE_SERVICES.get(name)
        if service is None:
            raise Http404
        if going_back(request.POST):
            # "Back" on the confirmation page: nothing was typed, the invoice page again.
            return redirect("billing:invoice_detail", pk=invoice.pk)
        labels = dict(billing_selectors.invoice_actions(invoice, request.user))
        if name == "credit":
            form = InvoiceCreditForm(request.POST)
        else:
            form = InvoiceActionForm(
                request.POST, label=labels.get(name, ""), action=name, invoice=invoice
            )
        # A step the user is not offered (e.g. approving what they made) is not confirmed
        # first: the service refuses it, and says why.
        offered = name == "credit" or name in labels
        confirmation = (
            confirmation_needed(form, request.POST) if offered and form.is_valid() else None
        )
        if confirmation is not None:
            # Approving and sending can't be undone: confirmed first; nothing has changed yet.
            return render(
                request,
                "billing/invoice_confirm.html",
                {"invoice": invoice, "confirmation": confirmation},
            )
        if form.is_valid():
            try:
                result = service(invoice=invoice, by=request.user, **form.service_arguments())
            except DomainError as error:
                form.add_domain_error(error)
            else:
                if name == "delete":
                    messages.success(request, _("The draft was deleted."))
                    return redirect("billing:invoice_list")
                messages.success(request, _invoice_done(name, invoice, result))
                return redirect("billing:invoice_detail", pk=result.pk)
        bound[name] = form
        # A refused action's reason (e.g. deleting a sent invoice) goes to the top of the page.
        messages.error(
            request, " ".join(form.non_field_errors()) or _("Not saved: see the form below.")
        )
        try:
            invoice = billing_selectors.invoice_for_user(request.user, pk)
        except Http404:
            # The service removed it or found it removed meanwhile: the message says so.
            return redirect("billing:invoice_list")
    lines = billing_selectors.invoice_lines(invoice)
    sender, recipient = billing_selectors.invoice_parties(invoice)
    access_log_record(
        user=request.user,
        action=AccessAction.VIEW,
        what=_("invoice %(invoice)s") % {"invoice": invoice},
        patient_references=billing_selectors.invoice_patient_references(lines),
    )
    return render(
        request,
        "billing/invoice_detail.html",
        {
            "invoice": invoice,
            "lines": list(lines),
            "credit_notes": list(invoice.credit_notes.all()),
            "deliveries": list(billing_selectors.invoice_deliveries(invoice)),
            "forms": _invoice_forms(invoice, request.user, bound),
            "four_eyes": invoice.state == InvoiceState.DRAFT
            and not billing_selectors.may_approve(invoice, request.user),
            **payments.payment_context(invoice, payment_bound),
            "vat_exemption": sender.get("vat_exemption_text") or invoice_services.VAT_EXEMPTION,
            "sender": sender,
            "recipient": recipient,
            "document_gaps": billing_selectors.invoice_document_gaps(sender, recipient),
        },
    )


# The access log entry of an export names its first patients in its text and every patient in
# rows of their own (``access_log_record_many``), however many lines the export has.
EXPORT_LOG_SHOWN_REFERENCES = 1000


def _log_export(request, what: str, lines) -> None:
    references = billing_selectors.patient_references_of(lines)
    total = references.count()
    access_log_record_many(
        user=request.user,
        action=AccessAction.EXPORT,
        what=_("%(total)s patients: %(what)s") % {"what": what, "total": total},
        references=references,
        shown=EXPORT_LOG_SHOWN_REFERENCES,
    )


def _export_lines(request):
    _require_finance(request.user)
    filters = InvoiceFilterForm(request.GET or None).filters()
    return filters, billing_selectors.export_lines(request.user, filters)


def _download(response: HttpResponse, name: str, extension: str) -> HttpResponse:
    response["Content-Disposition"] = (
        f'attachment; filename="{name}-{timezone.localdate():%Y%m%d}.{extension}"'
    )
    return response


@login_required
@require_GET
def invoice_list_export(request, fmt: str):
    """The invoice list as the page selects and sorts it, all pages, as CSV or XLSX. It names
    organisations and amounts, no patient; the export is logged all the same."""
    _require_finance(request.user)
    if fmt not in listing.EXPORT_FORMATS:
        raise Http404
    filters = InvoiceFilterForm(request.GET or None).filters(
        sort=request.GET.get(listing.SORT_PARAMETER, "")
    )
    access_log_record(
        user=request.user,
        action=AccessAction.EXPORT,
        what=f"invoice list {fmt.upper()} ({filters.describe()})",
    )
    return listing.export_response(
        fmt,
        queryset=billing_selectors.invoice_list(request.user, filters),
        columns=INVOICE_COLUMNS,
        filename="facturen",
        title=_("Invoices"),
    )


@login_required
@require_GET
@logs_refused_reads("invoice lines CSV")
def invoice_export_csv(request):
    """Every line of the invoices the list selects, logged first; on PostgreSQL the database
    writes the CSV itself (``spreadsheets.csv_stream``; bench/invoice_export.py)."""
    filters, lines = _export_lines(request)
    _log_export(request, f"invoice lines CSV ({filters.describe()})", lines)
    response = StreamingHttpResponse(
        spreadsheets.csv_stream(lines, INVOICE_LINE_COLUMNS),
        content_type=spreadsheets.CSV_CONTENT_TYPE,
    )
    return _download(response, "factuurregels", "csv")


@login_required
@require_GET
@logs_refused_reads("invoice lines XLSX")
def invoice_export_xlsx(request):
    filters, lines = _export_lines(request)
    _log_export(request, f"invoice lines XLSX ({filters.describe()})", lines)
    rows = spreadsheets.rows_of(lines, INVOICE_LINE_COLUMNS)
    content = spreadsheets.xlsx_bytes(INVOICE_LINE_COLUMNS, rows, title=_("Invoice lines"))
    return _download(
        HttpResponse(content, content_type=spreadsheets.XLSX_CONTENT_TYPE), "factuurregels", "xlsx"
    )


@login_required
@require_GET
@logs_refused_reads("invoice {pk} PDF")
def invoice_pdf(request, pk: int):
    _require_finance(request.user)
    invoice = billing_selectors.invoice_for_user(request.user, pk)
    lines = billing_selectors.invoice_lines(invoice)
    _log_export(request, f"invoice {invoice} PDF", lines)
    name = invoice.number or f"concept-{invoice.pk}"
    response = HttpResponse(
        documents.invoice_pdf_bytes(invoice, list(lines)), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="factuur-{name}.pdf"'
    return response


@login_required
@require_GET
@logs_refused_reads("invoice {pk} UBL")
def invoice_ubl(request, pk: int):
    """The SI-UBL 2.0 e-invoice of an approved invoice or credit note, its PDF inside."""
    _require_finance(request.user)
    invoice = billing_selectors.invoice_for_user(request.user, pk)
    try:
        content = documents.invoice_ubl_bytes(invoice)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("billing:invoice_detail", pk=invoice.pk)
    _log_export(request, f"invoice {invoice} UBL", billing_selectors.invoice_lines(invoice))
    response = HttpResponse(content, content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="factuur-{invoice.number}.xml"'
    return response
