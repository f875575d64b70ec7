"""Writes for the decision letter: a new version of a template, and the letter made once per
request from the version in force."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from hap_contracting.core.errors import DomainError, full_clean_or_raise
from hap_contracting.core.placeholders import check_placeholders, substitute

from ..constants import LETTER_PLACEHOLDERS, AdviceOutcome
from ..models import AdmissionRequest, DecisionLetter, DecisionLetterTemplate
from ..selectors.letters import council_decision, letter_template_for, letter_values


def decision_letter_template_save(
    *, by, region, outcome: str, subject: str, body: str
) -> DecisionLetterTemplate:
    """Save a template as the new version of its region (None: national) and outcome; earlier
    versions are never changed, since letters refer to the version they were made with.

    An administrator bound to a region writes only that region's letters; the national default
    is for those who see every region. The placeholders are checked here (``check_placeholders``:
    an unknown one is refused, named, and nothing is saved)."""
    if not by.sees_all_regions and (region is None or region.pk != by.region_id):
        raise DomainError(
            _("You may only change the letters of your own region."),
            field="region",
        )
    if outcome not in (AdviceOutcome.POSITIVE, AdviceOutcome.NEGATIVE):
        raise DomainError(_("Choose positive or negative."), field="outcome")
    subject, body = (subject or "").strip(), (body or "").strip()
    check_placeholders(subject, LETTER_PLACEHOLDERS, field="subject")
    check_placeholders(body, LETTER_PLACEHOLDERS, field="body")
    with transaction.atomic():
        # Two administrators saving the same letter at once would both take the next number:
        # the unique constraint lets one of them in; the other is told to try again.
        latest = DecisionLetterTemplate.objects.filter(region=region, outcome=outcome).aggregate(
            latest=Max("version")
        )["latest"]
        template = DecisionLetterTemplate(
            region=region,
            outcome=outcome,
            version=(latest or 0) + 1,
            subject=subject,
            body=body,
            created_by=by,
        )
        full_clean_or_raise(template, validate_constraints=False)
        try:
            with transaction.atomic():
                template.save()
        except IntegrityError as error:
            raise DomainError(
                _("Someone else saved this letter a moment ago. Nothing was saved; try again.")
            ) from error
    return template


def decision_letter_for(*, admission_request: AdmissionRequest, by) -> DecisionLetter:
    """The request's decision letter: made the first time it is asked for after the council
    decided, from the template version then in force; every later call returns that same letter,
    so it reads the same whatever is edited afterwards."""
    existing = DecisionLetter.objects.filter(admission_request=admission_request).first()
    if existing is not None:
        return existing
    decision = council_decision(admission_request)
    if decision is None:
        raise DomainError(_("The regional council has not decided on this request yet."))
    region_id = admission_request.location.region_id
    template = letter_template_for(region_id=region_id, outcome=decision.outcome)
    if template is None:
        raise DomainError(
            _("There is no letter template for this decision; ask an administrator to add one.")
        )
    values = letter_values(admission_request, decision)
    with transaction.atomic():
        # The request's row lock: two users asking at once make one letter.
        AdmissionRequest.objects.select_for_update().filter(pk=admission_request.pk).first()
        existing = DecisionLetter.objects.filter(admission_request=admission_request).first()
        if existing is not None:
            return existing
        return DecisionLetter.objects.create(
            admission_request=admission_request,
            template=template,
            outcome=decision.outcome,
            subject=substitute(template.subject, values),
            body=substitute(template.body, values),
            values=values,
            letter_date=timezone.localdate(),
            made_by=by,
        )
