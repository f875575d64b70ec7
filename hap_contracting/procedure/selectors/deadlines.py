"""A request's deadline in the step it is in: the moment it entered the step, plus the step's
service norm for its region (``StepNorm``), plus the extensions of the step, plus (for the
quality team) the days its clock stood still after a send-back (``ClockEvent``).

Set-based: ``with_step_clock`` adds three annotations to a queryset of requests (subqueries,
no extra query), and ``with_step_deadlines`` computes the deadlines in Python over the rows
(a norm in months is a calendar offset) with the norms read once. So a list of requests reads
its deadlines in the one query that reads its rows, plus one for the norms. The daily job, which
writes its warnings with ``INSERT … SELECT``, computes them in that statement:
``step_deadline_sql`` is ``step_deadline`` mirrored in SQL, from the same norms and rules.

When the quality team's clock starts: the first time the request came to the quality team.
Its send-backs are not counted (the ``resumed`` rows carry the days from the send-back until
the new checklist revision was submitted). Every other step starts when the request entered
it this time; contracting starts at the council's approval (seed 004, 7.1).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import (
    Case,
    DateField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least, TruncDate
from django.utils import timezone

from hap_contracting.core.sql import AddDays, AddMonths

from ..constants import (
    NORM_STEPS,
    AdviceOutcome,
    AdviceStep,
    ClockEventKind,
    NormUnit,
    RequestState,
)
from ..models import AdmissionRequest, Advice, ClockEvent, Norms, TransitionLog, norm_offset

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


# --- The same in SQL, for set-based work (the daily job's warnings) ----------------------------


def step_started_on_sql():
    """``step_started_on`` as an expression over a queryset annotated by ``with_step_clock``."""
    return Case(
        When(
            Q(state=S.CONTRACTING, clock_approved_on__isnull=False),
            then=F("clock_approved_on"),
        ),
        When(state=S.RECEIVED, then=F("received_on")),
        When(
            state=S.QUALITY_REVIEW,
            then=TruncDate(
                Least(
                    F("state_entered_at"),
                    Coalesce(F("clock_quality_started_at"), F("state_entered_at")),
                )
            ),
        ),
        default=TruncDate(F("state_entered_at")),
        output_field=DateField(),
    )


def step_deadline_sql(norms: Norms):
    """``step_deadline`` as an expression over a queryset annotated by ``with_step_clock``: the
    same start, the norm ``norms.norm`` gives for the row's region and step, the same days
    added; NULL for a request whose procedure ended. A set-based step computes in the query the
    deadline a page computes in Python (tests/procedure/test_norms.py holds them equal)."""
    months, days = [], []
    regional = sorted(
        {(region_id, step) for region_id, step in norms.table if region_id is not None},
        key=lambda key: (key[0], str(key[1])),
    )
    conditions = [
        (Q(clock_region_id=region_id, state=step), region_id, step) for region_id, step in regional
    ]
    conditions += [(Q(state=step), None, step) for step in NORM_STEPS]
    for condition, region_id, step in conditions:
        norm_months, norm_days = norm_offset(*norms.norm(region_id, step))
        months.append(When(condition, then=Value(norm_months)))
        days.append(When(condition, then=Value(norm_days)))
    deadline = AddDays(
        AddMonths(step_started_on_sql(), Case(*months, output_field=IntegerField())),
        Case(*days, output_field=IntegerField()) + F("clock_days"),
    )
    return Case(When(state__in=NORM_STEPS, then=deadline), default=None, output_field=DateField())


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
