"""The claims import: finance uploads the insurer's refused claims and follows the import."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from hap_contracting.audit.constants import AccessAction
from hap_contracting.audit.decorators import logs_refused_reads
from hap_contracting.audit.services import access_log_record
from hap_contracting.core import spreadsheets
from hap_contracting.core.errors import DomainError

from .. import selectors as billing_selectors
from ..constants import ClaimImportStatus, ClaimOutcome
from ..forms import ClaimImportForm
from ..services import claims_import
from .access import require_finance as _require_finance


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
        claims_import.template_csv(), content_type=spreadsheets.CSV_CONTENT_TYPE
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


CLAIMS_PAGE_SIZE = 50
CLAIMS_PAGE_PARAMETER = "claims"


@login_required
@require_GET
@logs_refused_reads("claims import {pk}")
def claim_import_detail(request, pk: int):
    """The import's progress, its errors, and once imported what became of every claim: counts
    per outcome and the claims page by page (claim references, never a patient; the page's
    patients are in the access log)."""
    _require_finance(request.user)
    claim_import = get_object_or_404(billing_selectors.claim_imports(), pk=pk)
    errors = Paginator(billing_selectors.claim_import_errors(claim_import), 50).get_page(
        request.GET.get("page")
    )
    summary = claims_page = None
    if claim_import.status == ClaimImportStatus.IMPORTED:
        summary = billing_selectors.claim_import_summary(claim_import)
        claims_page = Paginator(summary.claims, CLAIMS_PAGE_SIZE).get_page(
            request.GET.get(CLAIMS_PAGE_PARAMETER)
        )
        for claim in claims_page.object_list:
            claim.outcome_label = ClaimOutcome(claim.outcome).label
        access_log_record(
            user=request.user,
            action=AccessAction.VIEW,
            what=_("claims of import %(name)s, page %(page)s")
            % {"name": claim_import.original_name, "page": claims_page.number},
            patient_references=billing_selectors.claim_patient_references(
                [claim.pk for claim in claims_page.object_list]
            ),
        )
    return render(
        request,
        "billing/claim_import_detail.html",
        {
            "claim_import": claim_import,
            "page": errors,
            "status": _import_status(claim_import),
            "summary": summary,
            "claims_page": claims_page,
            "claims_page_parameter": CLAIMS_PAGE_PARAMETER,
        },
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


ERROR_REPORT_COLUMNS = (
    spreadsheets.Column("line_number", gettext_lazy("line"), spreadsheets.NUMBER),
    spreadsheets.Column("column", gettext_lazy("column")),
    spreadsheets.Column("reason", gettext_lazy("reason")),
)


@login_required
@require_GET
def claim_import_errors_csv(request, pk: int):
    """Every error of an import, however many: line, column and reason (never a value)."""
    _require_finance(request.user)
    claim_import = get_object_or_404(billing_selectors.claim_imports(), pk=pk)
    rows = spreadsheets.rows_of(
        billing_selectors.claim_import_errors(claim_import), ERROR_REPORT_COLUMNS
    )
    response = StreamingHttpResponse(
        spreadsheets.csv_bytes(ERROR_REPORT_COLUMNS, rows),
        content_type=spreadsheets.CSV_CONTENT_TYPE,
    )
    response["Content-Disposition"] = f'attachment; filename="importfouten-{claim_import.pk}.csv"'
    return response
