"""Step 2, the pre-assessment: the assigned location manager fills in the checklist, only while
the request is in pre-assessment. The checklist app keeps the revisions and answers; this is
where the procedure says who may write them, and when."""

from django.utils.translation import gettext as _

from checklist import services as checklist_services
from hap_contracting.core.errors import DomainError

from .. import rules as procedure_rules
from ..constants import RequestKind
from .deadlines import clock_resume_on_resubmission


def _require_location_manager(admission_request, by) -> None:
    if procedure_rules.can_fill_in_checklist.test(by, admission_request):
        return
    if not procedure_rules.can_give_location_manager_advice.test(by, admission_request):
        raise DomainError(_("Only the assigned location manager fills in this checklist."))
    raise DomainError(_("The checklist can only be filled in during the pre-assessment."))


def pre_assessment_start(*, admission_request, by):
    """The draft to work on; a renewal's first revision starts from the location's previous
    checklist, every answer to be confirmed."""
    _require_location_manager(admission_request, by)
    return checklist_services.assessment_start(
        admission_request=admission_request,
        by=by,
        prefill_from_location=admission_request.kind == RequestKind.RENEWAL,
    )


def pre_assessment_save(*, assessment, by, answers: dict[int, dict]):
    _require_location_manager(assessment.admission_request, by)
    return checklist_services.assessment_save(assessment=assessment, by=by, answers=answers)


def pre_assessment_submit(*, assessment, by, answers: dict[int, dict]):
    """Submitting the revision the quality team asked for also restarts its clock. Not one
    transaction (like ``assessment_submit``: a refused submit keeps the draft)."""
    _require_location_manager(assessment.admission_request, by)
    submitted = checklist_services.assessment_submit(assessment=assessment, by=by, answers=answers)
    clock_resume_on_resubmission(
        admission_request=assessment.admission_request, by=by, at=submitted.submitted_at
    )
    return submitted
