"""Writes of the admission procedure. Every state change goes through ``_run_transition``.

The order of checks gives the user the most useful message: first whether the request is at
this step at all, then whether this user may take it, then the step's own preconditions.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import ConcurrentTransition, can_proceed

from checklist.selectors import latest_submitted_assessment
from hap_contracting.core.errors import DomainError, full_clean_or_raise
from hap_contracting.core.fsm_log import logged_at
from hap_contracting.core.jobs import enqueue_on_commit
from hap_contracting.core.text import TextLimit, checked_text

from .. import rules as procedure_rules
from ..constants import OPEN_STATES, AdviceOutcome, AdviceStep, RequestKind, RequestState
from ..models import AdmissionRequest, Advice, Norms, advice_transitions
from ..selectors.admission import unmet_conditions
from ..selectors.deadlines import STEP_OF_ADVICE, step_started_on, with_step_clock
from .deadlines import clock_suspend_for_send_back

CONCURRENT_CHANGE_MESSAGE = gettext_lazy(
    "Someone else changed this request a moment ago. Nothing was saved; "
    "reload the page to see its current state."
)


def _require_date_not_in_future(value: datetime.date, *, field: str) -> None:
    if value > timezone.localdate():
        raise DomainError(_("This date lies in the future."), field=field)


def _moment(at: datetime.datetime | None, *, not_before: datetime.datetime | None = None):
    """When a step is taken: now, or ``at`` for a step recorded after the fact (the demo's
    history). Never in the future, and never before the request entered its current state,
    so that the history stays in the order it happened."""
    now = timezone.now()
    if at is None:
        return now
    if at > now:
        raise DomainError(_("This moment lies in the future."))
    if not_before is not None and at < not_before:
        raise DomainError(_("This moment lies before the request's previous step."))
    return at


def _state_label(admission_request: AdmissionRequest) -> str:
    return str(RequestState(admission_request.state).label)


def _run_transition(
    admission_request: AdmissionRequest,
    transition_name: str,
    *,
    by,
    description: str,
    not_at_step_message: str,
    side_effects=None,
    at: datetime.datetime | None = None,
    **transition_kwargs,
) -> AdmissionRequest:
    """Check, run and save one transition; on any refusal nothing changes. ``at``: when the
    step was taken, if not now (see ``_moment``); the history row gets the same moment.

    ``ConcurrentTransitionMixin`` makes the UPDATE conditional on the state the request had when
    it was read; a second user acting on the same request at the same moment finds zero rows,
    gets ``ConcurrentTransition`` and the whole atomic block (history row included) is undone.
    """
    method = getattr(admission_request, transition_name)
    if not can_proceed(method, check_conditions=False):
        raise DomainError(
            not_at_step_message
            + " "
            + _("Its current state is: %(state)s.") % {"state": _state_label(admission_request)}
        )
    # by=None is the requester acting through the status link: only transitions that declare
    # no permission (withdraw_by_requester) pass for an anonymous user.
    # The permission alone, at the transition's meta level: django-fsm's has_transition_perm()
    # also folds in the conditions, which would report an unmet checklist as "not allowed".
    if not method._django_fsm.has_transition_perm(
        admission_request, admission_request.state, by or AnonymousUser()
    ):
        raise DomainError(
            _(
                "You may not take this step for this request: it belongs to another role or "
                "another region."
            )
        )
    if not can_proceed(method):
        raise DomainError(" ".join(unmet_conditions(admission_request, transition_name)))
    moment = _moment(at, not_before=admission_request.state_entered_at)
    previous_state = admission_request.state
    try:
        with transaction.atomic(), logged_at(admission_request, at and moment):
            method(by=by, description=description, **transition_kwargs)
            if admission_request.state != previous_state:
                admission_request.state_entered_at = moment
            admission_request.save()
            if side_effects is not None:
                side_effects()
    except ConcurrentTransition as error:
        admission_request.refresh_from_db()
        raise DomainError(CONCURRENT_CHANGE_MESSAGE) from error
    except BaseException:
        admission_request.refresh_from_db()
        raise
    _notify_after_commit(admission_request)
    return admission_request


def _notify_after_commit(admission_request: AdmissionRequest) -> None:
    enqueue_on_commit(
        "procedure.notify_request_state_entered",
        admission_request.pk,
        admission_request.state,
        admission_request.outcome_recorded_at is not None,
    )


def admission_request_register(
    *,
    by,
    location,
    kind: str,
    requester_name: str,
    requester_email: str,
    received_on: datetime.date,
    requester_phone: str = "",
    notes: str = "",
    at: datetime.datetime | None = None,
) -> AdmissionRequest:
    """Step 1: the secretariat registers a request it received (seed 004, appendix 5).
    ``at``: when it was registered, if not now; not before the day it was received."""
    if not procedure_rules.can_forward_request.test(by, location):
        raise DomainError(
            _("Only the secretariat of the location's region registers its requests."),
            field="location",
        )
    if kind not in RequestKind.values:
        raise DomainError(_("Choose the kind of request."), field="kind")
    _require_date_not_in_future(received_on, field="received_on")
    registered_at = _moment(at)
    if timezone.localdate(registered_at) < received_on:
        raise DomainError(
            _("A request is registered on or after the day it was received."), field="received_on"
        )
    open_request = (
        AdmissionRequest.objects.filter(location=location, state__in=OPEN_STATES).only("pk").first()
    )
    if open_request is not None:
        raise DomainError(
            _("This location already has an open request (%(reference)s).")
            % {"reference": open_request.reference},
            field="location",
        )
    admission_request = AdmissionRequest(
        location=location,
        kind=kind,
        requester_name=requester_name.strip(),
        requester_email=requester_email.strip(),
        requester_phone=requester_phone.strip(),
        received_on=received_on,
        notes=checked_text(notes, field="notes", limit=TextLimit.NOTES),
        created_by=by,
        created_at=registered_at,
        state_entered_at=registered_at,
        # Seed 004, 7.1: running care to an uncontracted institution can't stop at once.
        grace_ends_on=received_on + relativedelta(months=settings.GRACE_PERIOD_MONTHS)
        if kind == RequestKind.REGULARISATION
        else None,
    )
    # The state is protected: django-fsm alone sets it.
    full_clean_or_raise(admission_request, exclude=["state"])
    with transaction.atomic():
        admission_request.save()
    _notify_after_commit(admission_request)
    return admission_request


def admission_request_forward(
    *,
    admission_request: AdmissionRequest,
    by,
    location_manager,
    note: str = "",
    at: datetime.datetime | None = None,
) -> AdmissionRequest:
    """The secretariat forwards the request to a location manager of the location's region."""
    if not (
        location_manager.is_active
        and procedure_rules.is_location_manager.test(location_manager)
        and location_manager.region_id == admission_request.location.region_id
    ):
        raise DomainError(
            _("Choose a location manager of region %(region)s.")
            % {"region": admission_request.location.region.name},
            field="location_manager",
        )
    return _run_transition(
        admission_request,
        "forward_to_location_manager",
        by=by,
        description=checked_text(note, field="note", limit=TextLimit.REMARK)
        or _("Forwarded to %(name)s.")
        % {"name": location_manager.get_full_name() or location_manager.username},
        not_at_step_message=_("Only a newly received request can be forwarded."),
        at=at,
        location_manager=location_manager,
    )


def admission_request_advise(
    *,
    admission_request: AdmissionRequest,
    by,
    step: str,
    outcome: str,
    motivation: str,
    decided_on: datetime.date | None = None,
    at: datetime.datetime | None = None,
) -> Advice:
    """Record the advice (or the council's decision) of ``step`` and move the request on.

    Seed 004: a negative advice or decision at any step means no ANW contract, so it ends the
    procedure in ``rejected``. The quality team may instead send the request back for more
    information, which is not a negative advice.
    """
    transition_name = advice_transitions().get((step, outcome))
    if transition_name is None:
        raise DomainError(_("This outcome is not possible at this step."), field="outcome")
    motivation = checked_text(
        motivation,
        field="motivation",
        limit=TextLimit.MOTIVATION,
        required_message=_("Write down the motivation."),
    )
    moment = _moment(at, not_before=admission_request.state_entered_at)
    decided_on = decided_on or timezone.localdate(moment)
    _require_date_not_in_future(decided_on, field="decided_on")
    if decided_on < admission_request.received_on:
        raise DomainError(_("The date lies before the request was received."), field="decided_on")
    advice = Advice(
        admission_request=admission_request,
        step=step,
        outcome=outcome,
        motivation=motivation,
        decided_on=decided_on,
        decided_by=by,
        recorded_at=moment,
        **_decision_basis(admission_request, step),
    )

    def record():
        advice.save()
        if outcome == AdviceOutcome.MORE_INFORMATION:
            clock_suspend_for_send_back(admission_request=admission_request, by=by, at=moment)

    _run_transition(
        admission_request,
        transition_name,
        by=by,
        description=motivation,
        not_at_step_message=_("This request is not waiting for the %(step)s.")
        % {"step": str(AdviceStep(step).label).lower()},
        side_effects=record,
        at=at and moment,
    )
    return advice


def _decision_basis(admission_request: AdmissionRequest, step: str) -> dict:
    """What an advice is given under, recorded on it so that it can be explained later: the
    submitted checklist revision (and its template's version) it was based on, and the step's
    service norm in days as it stood when the step started."""
    assessment = latest_submitted_assessment(admission_request)
    state = STEP_OF_ADVICE[step]
    clocked = with_step_clock(AdmissionRequest.objects.filter(pk=admission_request.pk)).first()
    norm_days = None
    if clocked is not None and clocked.state == state:
        norm_days = Norms.load().days(clocked.clock_region_id, state, on=step_started_on(clocked))
    return {
        "checklist_version": assessment.template.version if assessment else "",
        "checklist_revision": assessment.revision if assessment else None,
        "norm_days": norm_days,
    }


def admission_request_record_outcome(
    *,
    admission_request: AdmissionRequest,
    by,
    notes: str,
    at: datetime.datetime | None = None,
) -> AdmissionRequest:
    """Step 5: after approval the location manager processes the outcome."""
    notes = checked_text(
        notes,
        field="notes",
        limit=TextLimit.NOTES,
        required_message=_("Describe how the outcome was processed."),
    )
    return _run_transition(
        admission_request,
        "record_outcome",
        by=by,
        description=notes,
        not_at_step_message=_(
            "The outcome can only be recorded after the council's approval, and only once."
        ),
        at=at,
        recorded_at=_moment(at, not_before=admission_request.state_entered_at),
    )


def admission_request_complete_contracting(
    *,
    admission_request: AdmissionRequest,
    by,
    completed_on: datetime.date,
    make_contract: Callable[[], object],
    note: str = "",
    at: datetime.datetime | None = None,
) -> AdmissionRequest:
    """Step 5: the regional secretariat completes contracting once the outcome is recorded.
    ``make_contract`` (the contracts app's) makes the ANW contract in the same transaction:
    both happen or neither."""
    _require_date_not_in_future(completed_on, field="completed_on")
    return _run_transition(
        admission_request,
        "complete_contracting",
        by=by,
        description=checked_text(note, field="note", limit=TextLimit.REMARK)
        or _("Contracting completed."),
        not_at_step_message=_("Only an approved request can be contracted."),
        side_effects=make_contract,
        at=at,
        completed_on=completed_on,
    )


def admission_request_withdraw(
    *,
    admission_request: AdmissionRequest,
    by,
    reason: str,
    at: datetime.datetime | None = None,
) -> AdmissionRequest:
    """Withdraw a request that is not yet decided, by the secretariat or (``by=None``) the
    requester through the status link."""
    reason = checked_text(
        reason,
        field="reason",
        limit=TextLimit.REASON,
        required_message=_("Give the reason for withdrawing."),
    )
    return _run_transition(
        admission_request,
        "withdraw" if by is not None else "withdraw_by_requester",
        by=by,
        description=reason,
        not_at_step_message=_("A request can only be withdrawn before the council decides."),
        at=at,
    )
