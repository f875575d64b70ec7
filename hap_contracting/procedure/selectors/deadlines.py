"""A request's deadline in the step it is in: the moment it entered the step, plus the step's
service norm for its region (``StepNorm``), plus the extensions of the step, plus (for the
quality team) the days its clock stood still after a send-back (``ClockEvent``).

Set-based: ``with_step_clock`` adds three annotations to a queryset of requests (subqueries,
no extra query), and ``with_step_deadlines`` computes the deadlines in Python over the rows
(a norm in months is a calendar offset) with the norms read once. So a list of requests, or
the daily job, reads its deadlines in the one query that reads its rows, plus one for the
norms.

When the quality team's clock starts: the first time the request came to the quality team.
Its send-backs are not counted (the ``resumed`` rows carry the days from the send-back until
the new checklist revision was submitted). Every other step starts when the request entered
it this time; contracting starts at the council's approval (seed 004, 7.1).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..constants import (
    NORM_STEPS,
    AdviceOutcome,
    AdviceStep,
    ClockEventKind,
    NormUnit,
    RequestState,
)
from ..models import AdmissionRequest, Advice, ClockEvent, Norms, TransitionLog

S = RequestState


def council_approval_date(outer_request: str = "pk"):
    """Subquery: the date of the council's approval of the outer query's request."""
    return Subquery(
        Advice.objects.filter(
            admission_request=OuterRef(outer_request),
            step=AdviceStep.REGIONAL_COUNCIL,
            outcome=AdviceOutcome.POSITIVE,
        )
        .order_by("-decided_on")
        .values("decided_on")[:1]
    )


# The step of the procedure whose advice each advice step records.
STEP_OF_ADVICE = {
    AdviceStep.LOCATION_MANAGER: S.PRE_ASSESSMENT,
    AdviceStep.QUALITY_TEAM: S.QUALITY_REVIEW,
    AdviceStep.REGIONAL_COUNCIL: S.COUNCIL_REVIEW,
}


def first_entered(state: str, outer: str = "pk"):
    """Subquery: when the outer query's request first entered ``state`` (its history)."""
    # By the content type's name, joined: no lookup of its id (a query while the cache is cold).
    return Subquery(
        TransitionLog.objects.filter(
            content_type__app_label=AdmissionRequest._meta.app_label,
            content_type__model=AdmissionRequest._meta.model_name,
            object_id=OuterRef(outer),
            state=state,
        )
        .order_by("timestamp", "pk")
        .values("timestamp")[:1]
    )


def clock_days(outer: str = "pk"):
    """Subquery: the days added to the deadline of the outer request's current step: its
    extensions and the quality team's suspended days. A step entered again (pre-assessment
    after a send-back) starts afresh; the quality team's clock counts all its visits."""
    return Coalesce(
        Subquery(
            ClockEvent.objects.filter(
                admission_request=OuterRef(outer),
                step=OuterRef("state"),
                kind__in=[ClockEventKind.RESUMED, ClockEventKind.EXTENDED],
            )
            .filter(Q(step=S.QUALITY_REVIEW) | Q(at__gte=OuterRef("state_entered_at")))
            .order_by()
            .values("admission_request")
            .annotate(total=Sum("days"))
            .values("total")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


def with_step_clock(requests: QuerySet[AdmissionRequest]) -> QuerySet[AdmissionRequest]:
    """The annotations ``step_deadline`` needs; no extra query."""
    return requests.annotate(
        clock_region_id=F("location__region_id"),
        clock_quality_started_at=first_entered(S.QUALITY_REVIEW),
        clock_approved_on=council_approval_date(),
        clock_days=clock_days(),
    )


def step_started_on(row: AdmissionRequest) -> datetime.date:
    """The day the clock of the row's current step started (see the module's docstring)."""
    if row.state == S.CONTRACTING and row.clock_approved_on is not None:
        return row.clock_approved_on
    if row.state == S.RECEIVED:
        # The intake counts from the date received (a request registered after the fact).
        return row.received_on
    started = row.state_entered_at
    if row.state == S.QUALITY_REVIEW and row.clock_quality_started_at is not None:
        started = min(started, row.clock_quality_started_at)
    return timezone.localdate(started)


def step_deadline(row: AdmissionRequest, norms: Norms) -> datetime.date | None:
    """The deadline of the row's current step (a row annotated by ``with_step_clock``), or None
    for a request whose procedure ended."""
    if row.state not in NORM_STEPS:
        return None
    start = step_started_on(row)
    return norms.deadline(start, row.clock_region_id, row.state) + datetime.timedelta(
        days=row.clock_days or 0
    )


def near_days(state: str) -> int:
    """How many days before its deadline a step counts as near (and its first warning goes)."""
    if state == S.CONTRACTING:
        return max(settings.COMPLETION_REMINDER_DAYS)
    return max(settings.STEP_REMINDER_DAYS)


def with_step_deadlines(
    requests, today: datetime.date, norms: Norms | None = None
) -> list[AdmissionRequest]:
    """The rows with ``step_deadline``, ``step_norm`` ((amount, unit)), ``step_norm_label``
    and ``over_norm`` set;
    the requests must be annotated by ``with_step_clock``. One query for the norms."""
    rows = list(requests)
    if rows and norms is None:
        norms = Norms.load()
    for row in rows:
        row.step_deadline = step_deadline(row, norms)
        row.step_norm = norms.norm(row.clock_region_id, row.state) if row.step_deadline else None
        row.step_norm_label = (
            f"{row.step_norm[0]} {NormUnit(row.step_norm[1]).label}" if row.step_norm else ""
        )
        row.over_norm = row.step_deadline is not None and row.step_deadline < today
    return rows


def request_step_deadline(admission_request: AdmissionRequest) -> AdmissionRequest | None:
    """The request with ``step_deadline``, ``step_norm`` and ``over_norm`` of the step it is in
    (None once its procedure ended). Two queries."""
    if admission_request.state not in NORM_STEPS:
        return None
    rows = with_step_deadlines(
        with_step_clock(AdmissionRequest.objects.filter(pk=admission_request.pk)),
        timezone.localdate(),
    )
    return rows[0] if rows else None


def request_clock_events(admission_request: AdmissionRequest) -> QuerySet[ClockEvent]:
    """Every suspension, resumption and extension of the request's deadlines, oldest first."""
    return admission_request.clock_events.select_related("by").order_by("at", "pk")
