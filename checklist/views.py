"""The location manager fills in the checklist here; everyone else in the region reads it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hap_contracting import rules as procedure_rules
from hap_contracting.errors import DomainError
from hap_contracting.pdf import render_pdf
from hap_contracting.selectors.admission import admission_request_for_user

from .forms import AssessmentForm
from .models import Assessment
from .selectors import assessment_view, latest_assessment
from .services import assessment_save, assessment_start, assessment_submit


def _may_edit(user, admission_request, assessment) -> bool:
    return (
        assessment is not None
        and not assessment.is_submitted
        and admission_request.state == "pre_assessment"
        and procedure_rules.can_give_location_manager_advice.test(user, admission_request)
    )


@login_required
@require_http_methods(["GET", "POST"])
def assessment_page(request, pk: int):
    admission_request = admission_request_for_user(request.user, pk)
    assessment = latest_assessment(admission_request)
    editable = _may_edit(request.user, admission_request, assessment)
    view = assessment_view(assessment) if assessment else None
    form = AssessmentForm(request.POST or None, view=view) if editable else None
    if request.method == "POST" and form is not None and form.is_valid():
        submitting = "submit" in request.POST
        service = assessment_submit if submitting else assessment_save
        try:
            service(assessment=assessment, by=request.user, answers=form.answers())
        except DomainError as error:
            form.add_item_errors(error.errors)
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("The checklist has been submitted.") if submitting else _("Draft saved."),
            )
            return redirect("checklist:assessment", pk=pk)
    can_start = (
        admission_request.state == "pre_assessment"
        and (assessment is None or assessment.is_submitted)
        and procedure_rules.can_give_location_manager_advice.test(request.user, admission_request)
    )
    sections = []
    if view is not None:
        sections = [
            {
                "section": section.section,
                "rows": [
                    {"row": row, "fields": form.fields_of(row) if form else None}
                    for row in section.rows
                ],
            }
            for section in view.sections
        ]
    earlier = (
        Assessment.objects.filter(admission_request=admission_request)
        .exclude(pk=assessment.pk if assessment else None)
        .order_by("-revision")
    )
    return render(
        request,
        "checklist/assessment.html",
        {
            "admission_request": admission_request,
            "assessment": assessment,
            "view": view,
            "form": form,
            "sections": sections,
            "can_start": can_start,
            "earlier_revisions": earlier,
        },
    )


@login_required
@require_POST
def assessment_start_view(request, pk: int):
    admission_request = admission_request_for_user(request.user, pk)
    try:
        assessment_start(admission_request=admission_request, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("checklist:assessment", pk=pk)


def _assessment_for_print(request, pk: int, revision: int | None):
    admission_request = admission_request_for_user(request.user, pk)
    assessments = Assessment.objects.filter(admission_request=admission_request)
    assessment = (
        assessments.filter(revision=revision).first()
        if revision
        else assessments.order_by("-revision").first()
    )
    return admission_request, assessment


@login_required
def assessment_print(request, pk: int, revision: int | None = None):
    """A print view of one revision for the council's dossier."""
    admission_request, assessment = _assessment_for_print(request, pk, revision)
    if assessment is None:
        messages.info(request, _("No checklist has been filled in yet."))
        return redirect("hap_contracting:request_detail", pk=pk)
    return render(
        request,
        "checklist/assessment_print.html",
        {"admission_request": admission_request, "view": assessment_view(assessment)},
    )


@login_required
def assessment_pdf(request, pk: int, revision: int | None = None):
    """The same page as a PDF for the council's dossier (WeasyPrint, own static files only)."""
    admission_request, assessment = _assessment_for_print(request, pk, revision)
    if assessment is None:
        raise Http404
    document = render_pdf(
        "checklist/assessment_print.html",
        {"admission_request": admission_request, "view": assessment_view(assessment), "pdf": True},
        request=request,
    )
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="checklist-{admission_request.reference}-r{assessment.revision}.pdf"'
    )
    return response
