"""Reads of the checklist: the current template, an assessment with its verdicts."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from .constants import AssessmentStatus
from .evaluation import Verdict, applies_to, evaluate, knock_out_warning, passing_values
from .models import Answer, Assessment, ChecklistItem, ChecklistSection, ChecklistTemplate


def current_template(name: str | None = None) -> ChecklistTemplate | None:
    """The template version in force today (the latest effective one)."""
    templates = ChecklistTemplate.objects.filter(effective_from__lte=timezone.localdate())
    if name:
        templates = templates.filter(name=name)
    return templates.order_by("-effective_from", "-pk").first()


def _with_items(sections):
    return sections.prefetch_related(
        Prefetch("items", queryset=ChecklistItem.objects.order_by("order"))
    ).order_by("order")


def template_sections(template: ChecklistTemplate) -> list[ChecklistSection]:
    return list(_with_items(template.sections.all()))


def latest_assessment(admission_request) -> Assessment | None:
    return (
        Assessment.objects.filter(admission_request=admission_request)
        .select_related("template")
        .order_by("-revision")
        .first()
    )


def latest_submitted_assessment(admission_request) -> Assessment | None:
    """The newest submitted revision: what the advices were given on (the council's dossier)."""
    return (
        Assessment.objects.filter(
            admission_request=admission_request, status=AssessmentStatus.SUBMITTED
        )
        .select_related("template", "submitted_by", "admission_request__location")
        .order_by("-revision")
        .first()
    )


def assessment_revisions(admission_request):
    """Every revision of the request's checklist, newest first."""
    return Assessment.objects.filter(admission_request=admission_request).order_by("-revision")


def previous_submitted_assessment(location, *, exclude_request_id=None) -> Assessment | None:
    """The location's latest submitted assessment of another request (renewal pre-fill), with
    that request: the checklist tables name it when they compare with it."""
    queryset = Assessment.objects.filter(
        admission_request__location=location, status=AssessmentStatus.SUBMITTED
    ).select_related("admission_request")
    if exclude_request_id is not None:
        queryset = queryset.exclude(admission_request_id=exclude_request_id)
    return queryset.order_by("-submitted_at", "-pk").first()


def serves_special_target_group(location) -> bool:
    return location.target_groups.filter(is_special=True).exists()


@dataclass
class ItemRow:
    item: ChecklistItem
    answer: Answer | None
    applicable: bool
    verdict: Verdict
    changed: bool = False

    @property
    def unmet_knock_out(self) -> bool:
        return self.applicable and self.item.is_knock_out and self.verdict.met is not True

    @property
    def needs_confirmation(self) -> bool:
        return self.answer is not None and self.answer.to_confirm

    @property
    def passing_values(self) -> list[str] | None:
        """The answers that meet this knock-out item, for the browser's warning."""
        return passing_values(self.item)

    @property
    def passing_values_json(self) -> str:
        return json.dumps(self.passing_values) if self.passing_values is not None else ""

    @property
    def knock_out_warning(self) -> str:
        """The warning beside a knock-out item answered so that it is not met; empty otherwise."""
        answered = self.answer is not None and self.verdict.answered
        return knock_out_warning() if answered and self.unmet_knock_out else ""


@dataclass
class SectionRows:
    section: ChecklistSection
    rows: list[ItemRow]


@dataclass
class AssessmentView:
    assessment: Assessment
    sections: list[SectionRows]
    compared_with: Assessment | None

    @property
    def rows(self) -> list[ItemRow]:
        return [row for section in self.sections for row in section.rows]

    @property
    def incomplete_rows(self) -> list[ItemRow]:
        return [
            row
            for row in self.rows
            if row.applicable and (row.verdict.error is not None or row.needs_confirmation)
        ]

    @property
    def unmet_knock_outs(self) -> list[ItemRow]:
        return [row for row in self.rows if row.unmet_knock_out]

    @property
    def is_complete(self) -> bool:
        return not self.incomplete_rows


def _answers_by_code(assessment: Assessment | None) -> dict[str, Answer]:
    if assessment is None:
        return {}
    return {a.item.code: a for a in assessment.answers.select_related("item")}


def assessment_view(assessment: Assessment, *, compare: bool = True) -> AssessmentView:
    """Every item of the assessment's own template version, with its answer and verdict.

    ``changed`` compares with the previous revision, or for a first revision with the location's
    previous assessment, by item code (codes are stable across template versions).
    """
    request = assessment.admission_request
    compared_with = None
    if compare:
        compared_with = Assessment.objects.filter(
            admission_request=request, revision__lt=assessment.revision
        ).order_by("-revision").first() or previous_submitted_assessment(
            request.location, exclude_request_id=request.pk
        )
    return _view_of(
        assessment,
        answers=list(assessment.answers.all()),
        sections=template_sections(assessment.template),
        special=serves_special_target_group(request.location),
        compared_with=compared_with,
        before=_answers_by_code(compared_with),
    )


def _view_of(
    assessment: Assessment,
    *,
    answers: list[Answer],
    sections: list[ChecklistSection],
    special: bool,
    compared_with: Assessment | None,
    before: dict[str, Answer],
) -> AssessmentView:
    """The view of one revision from what was read for it (``assessment_view`` reads one,
    ``assessment_views`` all of a request's at once)."""
    answers_by_item = {answer.item_id: answer for answer in answers}
    section_rows = []
    for section in sections:
        rows = []
        for item in section.items.all():
            answer = answers_by_item.get(item.pk)
            value = answer.value if answer else None
            explanation = answer.explanation if answer else ""
            old = before.get(item.code)
            changed = compared_with is not None and (
                old is None or (old.value, old.explanation) != (value, explanation)
            )
            rows.append(
                ItemRow(
                    item=item,
                    answer=answer,
                    applicable=applies_to(item, serves_special_group=special),
                    verdict=evaluate(item, value, explanation),
                    changed=changed,
                )
            )
        section_rows.append(SectionRows(section=section, rows=rows))
    return AssessmentView(assessment=assessment, sections=section_rows, compared_with=compared_with)


def checklist_blockers(assessment: Assessment | None) -> list[str]:
    """Why this checklist does not (yet) allow a positive advice; empty when it does.

    Seed 004, appendix 4: the checklist must be complete and submitted, and every knock-out item
    met. (Whether the quality team sent the request back since is the procedure's to say.)
    """
    if assessment is None:
        return [_("The checklist has not been filled in.")]
    if not assessment.is_submitted:
        return [_("The checklist has not been submitted.")]
    view = assessment_view(assessment, compare=False)
    return [
        _("Not met: %(question)s") % {"question": row.item.question}
        for row in view.unmet_knock_outs
    ]


def assessment_views(admission_request) -> list[AssessmentView]:
    """Every revision of the request's checklist, newest first (for the dossier), each compared
    as ``assessment_view`` compares it: with the revision before it, the first with the
    location's previous assessment. In a fixed number of queries however many revisions: the
    revisions with their answers, the sections and items of their template versions, the
    previous assessment with its answers."""
    revisions = list(
        assessment_revisions(admission_request)
        .select_related("template", "admission_request__location")
        .prefetch_related("answers")
    )
    if not revisions:
        return []
    location = revisions[0].admission_request.location
    special = serves_special_target_group(location)
    sections_by_template: dict[int, list[ChecklistSection]] = {
        revision.template_id: [] for revision in revisions
    }
    for section in _with_items(
        ChecklistSection.objects.filter(template_id__in=sections_by_template)
    ):
        sections_by_template[section.template_id].append(section)
    code_of = {
        item.pk: item.code
        for sections in sections_by_template.values()
        for section in sections
        for item in section.items.all()
    }
    previous = previous_submitted_assessment(location, exclude_request_id=admission_request.pk)
    # Newest first: each revision is compared with the next one in the list, the oldest with
    # the location's previous assessment.
    compared = [*revisions[1:], previous]
    views = []
    for revision, compared_with in zip(revisions, compared, strict=True):
        before = (
            {code_of[answer.item_id]: answer for answer in compared_with.answers.all()}
            if compared_with is not None and compared_with is not previous
            else _answers_by_code(compared_with)
        )
        views.append(
            _view_of(
                revision,
                answers=list(revision.answers.all()),
                sections=sections_by_template[revision.template_id],
                special=special,
                compared_with=compared_with,
                before=before,
            )
        )
    return views


@dataclass
class AssessmentSummary:
    """What the quality team and the council read beside their advice form: the items not met
    and those changed since the previous revision (or the location's previous assessment)."""

    view: AssessmentView
    unmet: list[ItemRow]
    changed: list[ItemRow]

    @property
    def assessment(self) -> Assessment:
        return self.view.assessment

    @property
    def compared_with(self) -> Assessment | None:
        return self.view.compared_with


def assessment_summary(assessment: Assessment | None) -> AssessmentSummary | None:
    """The summary of one revision; a fixed number of queries however many items it has."""
    if assessment is None:
        return None
    view = assessment_view(assessment)
    applicable = [row for row in view.rows if row.applicable]
    return AssessmentSummary(
        view=view,
        unmet=[row for row in applicable if row.unmet_knock_out or row.verdict.met is False],
        changed=[row for row in applicable if row.changed],
    )
