"""Step 2's pages: the location manager fills in the checklist here; everyone else in the region
reads it, prints it or takes it as a PDF for the council's dossier."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from checklist.evaluation import knock_out_warning
from checklist.forms import AssessmentForm
from checklist.selectors import assessment_revisions, assessment_view, latest_assessment
from hap_contracting.core.errors import DomainError
from hap_contracting.core.pdf import render_pdf

from .. import rules as procedure_rules
from ..selectors.admission import admission_request_for_user
from ..services.pre_assessment import (
    pre_assessment_save,
    pre_assessment_start,
    pre_assessment_submit,
)


@login_required
@require_http_methods(["GET", "POST"])
def assessment_page(request, pk: int):
    admission_request = admission_request_for_user(request.user, pk)
    assessment = latest_assessment(admission_request)
    may_fill_in = procedure_rules.can_fill_in_checklist.test(request.user, admission_request)
    editable = may_fill_in and assessment is not None and not assessment.is_submitted
    view = assessment_view(assessment) if assessment else None
    form = AssessmentForm(request.POST or None, view=view) if editable else None
    if request.method == "POST" and form is not None and form.is_valid():
        submitting = "submit" in request.POST
        service = pre_assessment_submit if submitting else pre_assessment_save
        try:
            service(assessment=assessment, by=request.user, answers=form.answers())
        except DomainError as error:
            form.add_item_errors(error.errors)
            messages.error(request, error.message)
            # What was saved meanwhile (a refused submit keeps the draft): its verdicts, such as
            # a knock-out item not met, are shown beside the items.
            view = assessment_view(assessment)
        else:
            messages.success(
                request,
                _("The checklist has been submitted. Next: give your advice on the request.")
                if submitting
                else _("Draft saved; you can go on later."),
            )
            return redirect("procedure:checklist", pk=pk)
    can_start = may_fill_in and (assessment is None or assessment.is_submitted)
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
    earlier = assessment_revisions(admission_request).exclude(
        pk=assessment.pk if assessment else None
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
            "knock_out_warning": knock_out_warning(),
        },
    )


@login_required
@require_POST
def assessment_start_view(request, pk: int):
    admission_request = admission_request_for_user(request.user, pk)
    try:
        pre_assessment_start(admission_request=admission_request, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("procedure:checklist", pk=pk)


def _assessment_for_print(request, pk: int, revision: int | None):
    admission_request = admission_request_for_user(request.user, pk)
    assessments = assessment_revisions(admission_request)
    assessment = assessments.filter(revision=revision).first() if revision else assessments.first()
    return admission_request, assessment


@login_required
def assessment_print(request, pk: int, revision: int | None = None):
    """A print view of one revision for the council's dossier."""
    admission_request, assessment = _assessment_for_print(request, pk, revision)
    if assessment is None:
        messages.info(request, _("No checklist has been filled in yet."))
        return redirect("procedure:request_detail", pk=pk)
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
