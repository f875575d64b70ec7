"""Pages of billing uncontracted Wlz-with-treatment care (seed 004, 7.2 point 2): the claims
import and its progress, the location managers' investigation of unknown addresses, invoices
and credit notes, finance's exports and the triage filter list.

Thin as the procedure's views: reads through ``selectors/billing.py``, writes through the
services, DomainErrors shown on the form. Every page that shows claim data, and every export,
writes the access log (NEN 7513) before it answers.
"""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from . import exports
from . import rules as procedure_rules
from .billing_forms import (
    ClaimImportForm,
    InvestigationLocationForm,
    InvestigationNotificationForm,
    InvoiceActionForm,
    InvoiceCreditForm,
    InvoiceFilterForm,
    InvoiceGenerateForm,
)
from .constants import AccessAction, InvoiceKind, InvoiceState
from .errors import DomainError
from .pdf import render_pdf
from .selectors import billing as billing_selectors
from .services import billing as billing_services
from .services import claims_import
from .services.access_log import access_log_record, access_log_record_many


def _require_finance(user) -> None:
    if not procedure_rules.can_bill.test(user):
        raise PermissionDenied


# --- Claims import --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def claim_import_list(request):
    _require_finance(request.user)
    form = ClaimImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            claim_import = claims_import.claim_import_create(
                by=request.user, **form.service_arguments()
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, _("The file was uploaded; the import runs now."))
            return redirect("billing:claim_import_detail", pk=claim_import.pk)
    page = Paginator(billing_selectors.claim_imports(), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/claim_import_list.html",
        {"form": form, "page": page, "columns": claims_import.COLUMNS},
    )


@login_required
@require_GET
def claim_import_template(request):
    _require_finance(request.user)
    response = HttpResponse(
        "\ufeff" + claims_import.template_csv(), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="sjabloon-geweigerde-declaraties.csv"'
    return response


def _percent(claim_import, finished: bool) -> int | str:
    """The share of lines checked; "" while the lines are not counted. 99 at most until the
    import has finished: duplicates are looked up and the claims moved after the last line."""
    if finished:
        return 100
    if not claim_import.total_lines:
        return ""
    return min(99, claim_import.processed_lines * 100 // claim_import.total_lines)


def _import_status(claim_import) -> dict:
    finished = claim_import.finished_at is not None
    return {
        "status": claim_import.status,
        "status_display": claim_import.get_status_display(),
        "processed_lines": claim_import.processed_lines,
        "total_lines": claim_import.total_lines if claim_import.total_lines is not None else "",
        "percent": _percent(claim_import, finished),
        "error_count": claim_import.error_count,
        "imported_count": claim_import.imported_count,
        "finished": finished,
        "message": claim_import.message,
    }


@login_required
@require_GET
def claim_import_detail(request, pk: int):
    _require_finance(request.user)
    claim_import = get_object_or_404(billing_selectors.claim_imports(), pk=pk)
    errors = Paginator(claim_import.errors.all(), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/claim_import_detail.html",
        {"claim_import": claim_import, "page": errors, "status": _import_status(claim_import)},
    )


@login_required
@require_GET
def claim_import_status(request, pk: int):
    """What the progress bar polls (``static/js/import-progress.js``)."""
    _require_finance(request.user)
    claim_import = get_object_or_404(billing_selectors.claim_imports(), pk=pk)
    response = JsonResponse(_import_status(claim_import))
    response["Cache-Control"] = "no-store"
    return response


# --- Investigation --------------------------------------------------------------------------


def _require_investigator(user) -> None:
    if not (
        procedure_rules.is_location_manager.test(user)
        or procedure_rules.is_programme_manager.test(user)
    ):
        raise PermissionDenied


@login_required
@require_GET
def investigation_list(request):
    _require_investigator(request.user)
    open_only = request.GET.get("open") == "1"
    investigations = billing_selectors.investigation_list(request.user, open_only=open_only)
    page = Paginator(investigations, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/investigation_list.html",
        {
            "page": page,
            "open_only": open_only,
            "can_download_triage_list": procedure_rules.can_download_triage_list.test(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def investigation_detail(request, pk: int):
    _require_investigator(request.user)
    investigation = billing_selectors.investigation_for_user(request.user, pk)
    locations = billing_selectors.investigation_candidate_locations(investigation)
    may_act = procedure_rules.can_investigate.test(request.user, investigation.post)
    location_form = InvestigationLocationForm(
        locations=locations,
        initial={"location": investigation.location_id},
    )
    notification_form = InvestigationNotificationForm(
        initial={
            "notified_on": investigation.notified_on or timezone.localdate(),
            "notified_how": investigation.notified_how,
            "notes": investigation.notes,
        }
    )
    if request.method == "POST":
        if not may_act:
            raise PermissionDenied
        name = request.POST.get("form")
        if name == "location":
            form = location_form = InvestigationLocationForm(request.POST, locations=locations)
            service = billing_services.investigation_record_location
        elif name == "notification":
            form = notification_form = InvestigationNotificationForm(request.POST)
            service = billing_services.investigation_record_notification
        else:
            raise Http404
        if form.is_valid():
            try:
                service(investigation=investigation, by=request.user, **form.service_arguments())
            except DomainError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("Saved."))
                return redirect("billing:investigation_detail", pk=investigation.pk)
        messages.error(request, _("Not saved: see the form below."))
    claims = billing_selectors.investigation_claims(investigation)
    access_log_record(
        user=request.user,
        action=AccessAction.VIEW,
        what=_("claims at address %(address)s") % {"address": investigation},
        patient_references=[claim.patient_reference for claim in claims],
    )
    return render(
        request,
        "billing/investigation_detail.html",
        {
            "investigation": investigation,
            "claims": claims,
            "locations": locations,
            "may_act": may_act,
            "location_form": location_form,
            "notification_form": notification_form,
        },
    )


# --- Invoices -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def invoice_list(request):
    _require_finance(request.user)
    filters = InvoiceFilterForm(request.GET or None)
    generate_form = InvoiceGenerateForm(request.POST or None)
    if request.method == "POST" and generate_form.is_valid():
        try:
            result = billing_services.invoices_generate(
                by=request.user, **generate_form.service_arguments()
            )
        except DomainError as error:
            generate_form.add_domain_error(error)
        else:
            messages.success(
                request,
                _("%(invoices)s draft invoices with %(lines)s new lines.")
                % {"invoices": result["invoices"], "lines": result["lines"]},
            )
            if result["lines_removed"]:
                messages.warning(
                    request,
                    _(
                        "%(lines)s lines were taken off the drafts (%(drafts)s drafts removed): "
                        "their claims are no longer chargeable, for example because a contract "
                        "was recorded since."
                    )
                    % {"lines": result["lines_removed"], "drafts": result["drafts_removed"]},
                )
            if result["claims_without_tariff"]:
                messages.warning(
                    request,
                    _("%(count)s claims were left out: their act has no insurer tariff that day.")
                    % {"count": result["claims_without_tariff"]},
                )
            if result["claims_after_approval"]:
                messages.warning(
                    request,
                    _("%(count)s claims belong to invoices approved already; they were not added.")
                    % {"count": result["claims_after_approval"]},
                )
            return redirect("billing:invoice_list")
    invoices = billing_selectors.invoice_list(request.user, filters.filters())
    page = Paginator(invoices, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/invoice_list.html",
        {
            "page": page,
            "filters": filters,
            "generate_form": generate_form,
            "query": request.GET.urlencode(),
        },
    )


def _action_labels() -> dict:
    return {"approve": _("Approve"), "delete": _("Delete draft"), "send": _("Mark as sent")}


def _invoice_forms(invoice, bound: dict | None = None) -> dict:
    """The actions the invoice's state allows; a sent invoice only gets a credit note."""
    bound, labels = bound or {}, _action_labels()
    if invoice.state == InvoiceState.DRAFT:
        names = ["approve", "delete"]
    elif invoice.state == InvoiceState.APPROVED:
        names = ["send"]
    elif invoice.kind == InvoiceKind.INVOICE and not invoice.credit_notes.exists():
        return {"credit": bound.get("credit") or InvoiceCreditForm()}
    else:
        return {}
    return {name: bound.get(name) or InvoiceActionForm(label=labels[name]) for name in names}


INVOICE_SERVICES = {
    "approve": billing_services.invoice_approve,
    "send": billing_services.invoice_send,
    "delete": billing_services.invoice_delete_draft,
    "credit": billing_services.invoice_credit,
}


@login_required
@require_http_methods(["GET", "POST"])
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
    if request.method == "POST":
        name = request.POST.get("form", "")
        service = INVOICE_SERVICES.get(name)
        if service is None:
            raise Http404
        if name == "credit":
            form = InvoiceCreditForm(request.POST)
        else:
            form = InvoiceActionForm(request.POST, label=_action_labels()[name])
        if form.is_valid():
            try:
                result = service(invoice=invoice, by=request.user, **form.service_arguments())
            except DomainError as error:
                form.add_domain_error(error)
            else:
                if name == "delete":
                    messages.success(request, _("The draft was deleted."))
                    return redirect("billing:invoice_list")
                messages.success(request, _("Saved."))
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
            "forms": _invoice_forms(invoice, bound),
            "vat_exemption": billing_services.VAT_EXEMPTION,
        },
    )


# --- Exports --------------------------------------------------------------------------------


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


def _listed_invoices(request, fmt: str):
    _require_finance(request.user)
    filters = InvoiceFilterForm(request.GET or None).filters()
    # The list names organisations and amounts, no patient; the export is logged all the same.
    access_log_record(
        user=request.user,
        action=AccessAction.EXPORT,
        what=f"invoice list {fmt} ({filters.describe()})",
    )
    return billing_selectors.invoice_list(request.user, filters)


CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(response: HttpResponse, name: str, extension: str) -> HttpResponse:
    response["Content-Disposition"] = (
        f'attachment; filename="{name}-{timezone.localdate():%Y%m%d}.{extension}"'
    )
    return response


@login_required
@require_GET
def invoice_list_csv(request):
    content = exports.invoices_csv(_listed_invoices(request, "CSV"))
    return _download(HttpResponse(content, content_type=CSV_TYPE), "facturen", "csv")


@login_required
@require_GET
def invoice_list_xlsx(request):
    content = exports.invoices_xlsx(_listed_invoices(request, "XLSX"))
    return _download(HttpResponse(content, content_type=XLSX_TYPE), "facturen", "xlsx")


@login_required
@require_GET
def invoice_export_csv(request):
    filters, lines = _export_lines(request)
    _log_export(request, f"invoice lines CSV ({filters.describe()})", lines)
    response = StreamingHttpResponse(exports.invoice_lines_csv(lines), content_type=CSV_TYPE)
    return _download(response, "factuurregels", "csv")


@login_required
@require_GET
def invoice_export_xlsx(request):
    filters, lines = _export_lines(request)
    _log_export(request, f"invoice lines XLSX ({filters.describe()})", lines)
    response = HttpResponse(exports.invoice_lines_xlsx(lines), content_type=XLSX_TYPE)
    return _download(response, "factuurregels", "xlsx")


def invoice_pdf_bytes(invoice, lines) -> bytes:
    return render_pdf(
        "billing/invoice_pdf.html",
        {
            "invoice": invoice,
            "lines": lines,
            "vat_exemption": billing_services.VAT_EXEMPTION,
            "today": timezone.localdate(),
        },
    )


@login_required
@require_GET
def invoice_pdf(request, pk: int):
    _require_finance(request.user)
    invoice = billing_selectors.invoice_for_user(request.user, pk)
    lines = billing_selectors.invoice_lines(invoice)
    _log_export(request, f"invoice {invoice} PDF", lines)
    name = invoice.number or f"concept-{invoice.pk}"
    response = HttpResponse(invoice_pdf_bytes(invoice, list(lines)), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="factuur-{name}.pdf"'
    return response


# --- Triage filter list ---------------------------------------------------------------------


def _require_triage_list(user) -> None:
    if not procedure_rules.can_download_triage_list.test(user):
        raise PermissionDenied


@login_required
@require_GET
def triage_list(request):
    _require_triage_list(request.user)
    entries = billing_selectors.triage_entries_visible_to(request.user).order_by(
        "delisted_on", "-listed_on", "pk"
    )
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/triage_list.html",
        {"page": page, "is_finance": procedure_rules.can_bill.test(request.user)},
    )


@login_required
@require_GET
def triage_list_csv(request):
    """The open entries, for the triage system (TPM): addresses only, no patient data."""
    _require_triage_list(request.user)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            _("postcode"),
            _("house number"),
            _("addition"),
            _("location"),
            _("reason"),
            _("listed on"),
        ]
    )
    for entry in billing_selectors.triage_open_entries(request.user):
        location = entry.location
        writer.writerow(
            [
                location.postcode,
                location.house_number,
                location.house_number_addition,
                exports.escape_formula(location.name),
                entry.get_reason_display(),
                entry.listed_on.isoformat(),
            ]
        )
    # No claim data in it, but every export is logged (who took the list, and when).
    access_log_record(
        user=request.user, action=AccessAction.EXPORT, what=_("triage filter list (CSV)")
    )
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="triage-filterlijst-{timezone.localdate():%Y%m%d}.csv"'
    )
    return response
