"""Writes of the step clocks (``selectors.deadlines``): the quality team's clock suspended by a
send-back and resumed by the new checklist revision, and a deadline extended with a reason.
Each is a ``ClockEvent`` row (append-only), so the history shows every change of a deadline
with who made it and why."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hap_contracting.core.errors import DomainError
from hap_contracting.core.text import TextLimit, checked_text

from .. import rules as procedure_rules
from ..constants import NORM_STEPS, ClockEventKind, RequestState
from ..models import AdmissionRequest, ClockEvent

# An extension is for days or weeks, not for parking a request: longer is a new decision.
MAX_EXTENSION_DAYS = 180


def _open_suspension(admission_request: AdmissionRequest) -> ClockEvent | None:
    """The quality team's suspension still running (its last clock row suspended it)."""
    last = (
        ClockEvent.objects.filter(
            admission_request=admission_request,
            step=RequestState.QUALITY_REVIEW,
            kind__in=[ClockEventKind.SUSPENDED, ClockEventKind.RESUMED],
        )
        .order_by("-at", "-pk")
        .first()
    )
    return last if last is not None and last.kind == ClockEventKind.SUSPENDED else None


def clock_suspend_for_send_back(
    *, admission_request: AdmissionRequest, by, at: datetime.datetime
) -> ClockEvent:
    """The quality team sent the request back to the location manager: its clock stands
    still until the new checklist revision is submitted. Inside the send-back's transaction."""
    return ClockEvent.objects.create(
        admission_request=admission_request,
        step=RequestState.QUALITY_REVIEW,
        kind=ClockEventKind.SUSPENDED,
        reason=_(
            "Sent back to the location manager: the quality team's clock stands still until "
            "the new checklist revision is submitted."
        ),
        at=at,
        by=by,
    )


def clock_resume_on_resubmission(
    *, admission_request: AdmissionRequest, by, at: datetime.datetime | None = None
) -> ClockEvent | None:
    """The new checklist revision is submitted: the quality team's clock runs again, its
    deadline later by the days it stood still. Nothing when no suspension is running."""
    suspension = _open_suspension(admission_request)
    if suspension is None:
        return None
    at = at or timezone.now()
    days = max((timezone.localdate(at) - timezone.localdate(suspension.at)).days, 0)
    return ClockEvent.objects.create(
        admission_request=admission_request,
        step=RequestState.QUALITY_REVIEW,
        kind=ClockEventKind.RESUMED,
        days=days,
        reason=_("New checklist revision submitted."),
        at=at,
        by=by,
    )


@transaction.atomic
def admission_request_extend_deadline(
    *,
    admission_request: AdmissionRequest,
    by,
    days: int,
    reason: str,
    at: datetime.datetime | None = None,
) -> ClockEvent:
    """Extend the deadline of the step the request is in by ``days``, with a reason; the
    region's secretariat or an administrator (``rules.can_extend_deadline``)."""
    if not procedure_rules.can_extend_deadline.test(by, admission_request):
        raise DomainError(
            _("Only the region's secretariat or an administrator may extend a deadline.")
        )
    if admission_request.state not in NORM_STEPS:
        raise DomainError(_("The procedure has ended: there is no deadline to extend."))
    if not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
        raise DomainError(
            _("Extend by 1 to %(max)s days.") % {"max": MAX_EXTENSION_DAYS}, field="days"
        )
    reason = checked_text(
        reason,
        field="reason",
        limit=TextLimit.REMARK,
        required_message=_("Write down why the deadline is extended."),
    )
    return ClockEvent.objects.create(
        admission_request=admission_request,
        step=admission_request.state,
        kind=ClockEventKind.EXTENDED,
        days=days,
        reason=reason,
        at=at or timezone.now(),
        by=by,
    )
