"""The request's documents as PDFs: the dossier for the regional council's meeting and the
decision letter to the requester. Both are for whoever may see the request (its region's roles;
another region's request answers 404), both are Dutch whatever the user's language, and each
download is in the access log (a refused one too, as refused)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone, translation
from django.views.decorators.http import require_GET

from hap_contracting.audit.constants import AccessAction
from hap_contracting.audit.decorators import logs_refused_reads
from hap_contracting.audit.services import access_log_record
from hap_contracting.core.errors import DomainError
from hap_contracting.core.pdf import render_pdf

from ..selectors.admission import admission_request_for_user
from ..selectors.dossier import request_dossier
from ..selectors.letters import council_decision
from ..services.letters import decision_letter_for


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def dossier_html_context(user, pk: int) -> dict:
    """The dossier template's context (404 outside the user's scope), in Dutch."""
    with translation.override("nl"):
        dossier = request_dossier(user, pk)
        if dossier is None:
            raise Http404
        return {**dossier.context(), "printed_at": timezone.now()}


@login_required
@require_GET
@logs_refused_reads("dossier of request {pk} (PDF)")
def request_dossier_pdf(request, pk: int):
    context = dossier_html_context(request.user, pk)
    admission_request = context["admission_request"]
    with translation.override("nl"):
        document = render_pdf("procedure/dossier_pdf.html", context)
    access_log_record(
        user=request.user,
        action=AccessAction.EXPORT,
        what=f"dossier {admission_request.reference} (PDF)",
    )
    return _pdf(document, f"dossier-{admission_request.reference}.pdf")


@login_required
@require_GET
@logs_refused_reads("decision letter of request {pk} (PDF)")
def decision_letter_pdf(request, pk: int):
    """Made the first time it is asked for after the council decided; before that there is no
    letter (404)."""
    admission_request = admission_request_for_user(request.user, pk)
    if council_decision(admission_request) is None:
        raise Http404
    try:
        letter = decision_letter_for(admission_request=admission_request, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("procedure:request_detail", pk=pk)
    with translation.override("nl"):
        document = render_pdf("procedure/decision_letter_pdf.html", {"letter": letter})
    access_log_record(
        user=request.user,
        action=AccessAction.EXPORT,
        what=f"decision letter {admission_request.reference} (PDF)",
    )
    return _pdf(document, f"besluitbrief-{admission_request.reference}.pdf")
