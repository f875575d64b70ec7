"""Writes of the pre-assessment checklist: revisions, answers, submission, template versions.

A submitted revision is frozen. Who may fill in a request's checklist, and when, is the
procedure's rule: its services check it and then call these.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hap_contracting.core.errors import DomainError
from hap_contracting.core.text import TextLimit, too_long

from .constants import AssessmentStatus, ItemKind
from .evaluation import normalise_phone, parse_time
from .models import Answer, Assessment, ChecklistItem, ChecklistTemplate
from .selectors import (
    assessment_view,
    current_template,
    latest_assessment,
    previous_submitted_assessment,
)


def _copy_answers(source: Assessment, target: Assessment, *, to_confirm: bool) -> None:
    """Copy answers by item code, so a copy also works across template versions."""
    target_items = {
        item.code: item for item in ChecklistItem.objects.filter(section__template=target.template)
    }
    Answer.objects.bulk_create(
        Answer(
            assessment=target,
            item=target_items[answer.item.code],
            value=answer.value,
            explanation=answer.explanation,
            remark=answer.remark,
            to_confirm=to_confirm,
        )
        for answer in source.answers.select_related("item")
        if answer.item.code in target_items
    )


@transaction.atomic
def assessment_start(*, admission_request, by, prefill_from_location: bool = False) -> Assessment:
    """Return the draft to work on, creating it when there is none.

    - First revision: the template version in force; with ``prefill_from_location`` (a
      renewal), pre-filled from the location's previous assessment with every answer marked
      "to confirm".
    - After the quality team sent the request back: a new revision, a copy of the last one,
      which stays as it was.
    """
    latest = latest_assessment(admission_request)
    if latest is not None and not latest.is_submitted:
        return latest
    if latest is not None:
        assessment = Assessment.objects.create(
            admission_request=admission_request,
            revision=latest.revision + 1,
            template=latest.template,
            prefilled_from=latest,
            created_by=by,
        )
        _copy_answers(latest, assessment, to_confirm=False)
        return assessment
    template = current_template()
    if template is None:
        raise DomainError(_("No checklist version is in force; ask an administrator."))
    previous = None
    if prefill_from_location:
        previous = previous_submitted_assessment(
            admission_request.location, exclude_request_id=admission_request.pk
        )
    try:
        assessment = Assessment.objects.create(
            admission_request=admission_request,
            template=template,
            prefilled_from=previous,
            created_by=by,
        )
    except IntegrityError as error:
        raise DomainError(_("The checklist was started a moment ago; reload the page.")) from error
    if previous is not None:
        _copy_answers(previous, assessment, to_confirm=True)
    return assessment


def _clean_value(item: ChecklistItem, value):
    """Normalise what the form sent; an unparseable entry stays as typed so the error shows."""
    if item.kind == ItemKind.PHONE and value:
        return normalise_phone(value) or value
    if item.kind == ItemKind.HOURS and isinstance(value, dict):
        start, end = parse_time(value.get("from", "")), parse_time(value.get("to", ""))
        return {
            "from": start.strftime("%H:%M") if start else value.get("from", ""),
            "to": end.strftime("%H:%M") if end else value.get("to", ""),
            "weekends": bool(value.get("weekends")),
        }
    return value if value not in ("", None) else None


@transaction.atomic
def assessment_save(*, assessment: Assessment, by, answers: dict[int, dict]) -> Assessment:
    """Save a draft. ``answers`` maps item id to value, explanation, remark and confirmed.

    A draft may be incomplete; values that are present but malformed (a telephone number that
    is not one) are refused with the item named, and then nothing of this save is stored.
    """
    assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if assessment.is_submitted:
        raise DomainError(_("This revision has been submitted and can no longer be changed."))
    items = {
        item.pk: item
        for item in ChecklistItem.objects.filter(section__template=assessment.template)
    }
    existing = {answer.item_id: answer for answer in assessment.answers.all()}
    errors = {}
    to_write = []
    for item_id, data in answers.items():
        item = items.get(item_id)
        if item is None:
            continue
        value = _clean_value(item, data.get("value"))
        if item.kind == ItemKind.PHONE and value and normalise_phone(value) is None:
            errors[item_id] = _("%(value)s is not a valid telephone number.") % {"value": value}
        elif isinstance(value, str) and (message := too_long(value, TextLimit.ANSWER)):
            errors[item_id] = message
        texts = {part: (data.get(part) or "").strip() for part in ("explanation", "remark")}
        for part, limit in (("explanation", TextLimit.DESCRIPTION), ("remark", TextLimit.REMARK)):
            if message := too_long(texts[part], limit):
                errors[(item_id, part)] = message
        answer = existing.get(item_id) or Answer(assessment=assessment, item=item)
        changed = (answer.value, answer.explanation) != (value, texts["explanation"])
        answer.value = value
        answer.explanation, answer.remark = texts["explanation"], texts["remark"]
        if data.get("confirmed") or (answer.to_confirm and changed):
            answer.to_confirm = False
        to_write.append(answer)
    if errors:
        raise DomainError(_("Some answers are not valid; nothing was saved."), errors=errors)
    Answer.objects.bulk_create([a for a in to_write if a.pk is None])
    Answer.objects.bulk_update(
        [a for a in to_write if a.pk is not None],
        ["value", "explanation", "remark", "to_confirm"],
    )
    assessment.save(update_fields=["updated_at"])
    return assessment


def assessment_submit(*, assessment: Assessment, by, answers: dict[int, dict]) -> Assessment:
    """Save the draft, check completeness item by item, and freeze the revision.

    Not one transaction on purpose: when the check fails, what was typed stays saved as draft.
    """
    assessment = assessment_save(assessment=assessment, by=by, answers=answers)
    view = assessment_view(assessment, compare=False)
    errors = {}
    for row in view.incomplete_rows:
        errors[row.item.pk] = (
            row.verdict.error
            if row.verdict.error
            else _("Confirm this answer copied from the previous assessment.")
        )
    if errors:
        raise DomainError(
            ngettext(
                "The checklist is not complete: %(count)s item needs attention.",
                "The checklist is not complete: %(count)s items need attention.",
                len(errors),
            )
            % {"count": len(errors)},
            errors=errors,
        )
    with transaction.atomic():
        # Conditional on still being a draft: two submits at once freeze it only once.
        frozen = Assessment.objects.filter(pk=assessment.pk, status=AssessmentStatus.DRAFT).update(
            status=AssessmentStatus.SUBMITTED, submitted_at=timezone.now(), submitted_by=by
        )
    if not frozen:
        raise DomainError(_("This revision has been submitted already."))
    assessment.refresh_from_db()
    return assessment


@transaction.atomic
def checklist_template_new_version(
    *, template: ChecklistTemplate, version: str, effective_from, by=None
) -> ChecklistTemplate:
    """Copy a template into a new version an administrator can then edit (knock-out items,
    wording). Assessments keep the version they were made with."""
    if ChecklistTemplate.objects.filter(name=template.name, version=version).exists():
        raise DomainError(
            _("Version %(version)s exists already.") % {"version": version}, field="version"
        )
    new = ChecklistTemplate.objects.create(
        name=template.name,
        version=version,
        effective_from=effective_from,
        revised_on=timezone.localdate(),
        owner=template.owner,
        purpose=template.purpose,
    )
    for section in template.sections.prefetch_related("items"):
        new_section = section.__class__.objects.create(
            template=new, order=section.order, title=section.title, guidance=section.guidance
        )
        ChecklistItem.objects.bulk_create(
            ChecklistItem(
                section=new_section,
                order=item.order,
                code=item.code,
                question=item.question,
                help_text=item.help_text,
                kind=item.kind,
                choices=item.choices,
                passing_choices=item.passing_choices,
                is_knock_out=item.is_knock_out,
                applies=item.applies,
            )
            for item in section.items.all()
        )
    return new
