"""A request's deadline in the step it is in: the moment it entered the step, plus the step's
service norm for its region (``StepNorm``), plus the extensions of the step, plus (for the
quality team) the days its clock stood still after a send-back (``ClockEvent``).

Set-based: ``with_step_clock`` adds three annotations to a queryset of requests (subqueries,
no extra query), and ``with_step_deadlines`` computes the deadlines in Python over the rows
(a norm in months is a calendar offset) with the norms read once. So a list of requests reads
its deadlines in the one query that reads its rows, plus one for the norms. The daily job, which
writes its warnings with ``INSERT … SELECT``, computes them in that statement:
``step_deadline_expression`` is ``step_deadline`` mirrored in SQL, from the same norms and rules.

When the quality team's clock starts: the first time the request came to the quality team.
Its send-backs are not counted (the ``resumed`` rows carry the days from the send-back until
the new checklist revision was submitted). Every other step starts when the request entered
it this time; contracting starts at the council's approval (seed 004, 7.1).
"""

from __future__ import annotations

import datetime
import functools

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
    DEFAULT_NORMS,
    NORM_STEPS,
    AdviceOutcome,
    AdviceStep,
    ClockEventKind,
    NormUnit,
    RequestState,
)
from ..models import (
    AdmissionRequest,
    Advice,
    ClockEvent,
    Norms,
    StepNorm,
    TransitionLog,
    norm_deadline,
)

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


def with_step_clock(
    requests: QuerySet[AdmissionRequest], *, with_norm: bool = False
) -> QuerySet[AdmissionRequest]:
    """The annotations ``step_deadline`` needs; no extra query. The first visit to the quality
    team is read for requests there only, the council's approval for those in contracting (the
    only rows that use them: the subqueries run for those rows only). ``with_norm``: also the
    norm of the step (``clock_norm_amount``, ``clock_norm_unit``), so that ``with_step_deadlines``
    needs no query for the norms."""
    return requests.annotate(**_step_clock_annotations(with_norm))


@functools.cache
def _step_clock_annotations(with_norm: bool) -> dict:
    """Built once: building the subqueries took a request's page 2-3 ms each time, and
    ``annotate`` resolves copies of them, never these."""
    annotations = {
        "clock_region_id": F("location__region_id"),
        "clock_quality_started_at": Case(
            When(state=S.QUALITY_REVIEW, then=first_entered(S.QUALITY_REVIEW))
        ),
        "clock_approved_on": Case(When(state=S.CONTRACTING, then=council_approval_date())),
        "clock_days": clock_days(),
    }
    if with_norm:
        annotations["clock_norm_amount"] = step_norm_of("amount")
        annotations["clock_norm_unit"] = step_norm_of("unit")
    return annotations


def step_norm_of(field: str):
    """Subquery: ``field`` (``amount`` or ``unit``) of the norm of the outer request's current
    step, its region's own or else the national one: ``Norms.norm`` in SQL, NULL where that
    falls back to the built-in default (``row_norm``)."""
    return Subquery(
        StepNorm.objects.filter(step=OuterRef("state"))
        .filter(Q(region_id=OuterRef("clock_region_id")) | Q(region__isnull=True))
        .order_by(F("region_id").asc(nulls_last=True))
        .values(field)[:1]
    )


def row_norm(row: AdmissionRequest, norms: Norms | None) -> tuple[int, str]:
    """The (amount, unit) norm of the row's step: from ``norms``, or else from the row's own
    annotations (``with_step_clock(with_norm=True)``)."""
    if norms is not None:
        return norms.norm(row.clock_region_id, row.state)
    if row.clock_norm_amount is not None:
        return row.clock_norm_amount, row.clock_norm_unit
    return DEFAULT_NORMS[row.state]


def _norm_parts(norms: Norms, region_ids) -> tuple[Case, Case]:
    """The months and the days of the norm of each row's step, as two CASEs over its region and
    state with the values of ``norms`` written in (the norm table has a row or two per step)."""
    months, days = [], []
    for step in NORM_STEPS:
        for region_id in [*region_ids, None]:
            amount, unit = norms.norm(region_id, step)
            where = (
                {"state": step}
                if region_id is None
                else {"state": step, "clock_region_id": region_id}
            )
            months.append(When(**where, then=Value(amount if unit == NormUnit.MONTHS else 0)))
            factor = {NormUnit.WEEKS: 7, NormUnit.DAYS: 1}.get(unit, 0)
            days.append(When(**where, then=Value(amount * factor)))
    return (
        Case(*months, default=Value(0), output_field=IntegerField()),
        Case(*days, default=Value(0), output_field=IntegerField()),
    )


def step_deadline_expression(norms: Norms):
    """``step_deadline`` in SQL, for a queryset annotated by ``with_step_clock``: the date the
    row's current step must be done by (NULL for a request whose procedure ended), so that a
    list can be sorted by it in the database. ``step_deadline`` stays the rule; tests hold the
    two the same. Each of the clock's subqueries is referred to once (a reference repeats it)."""
    started = Case(
        When(
            state=S.CONTRACTING,
            then=Coalesce(F("clock_approved_on"), TruncDate("state_entered_at")),
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
        default=TruncDate("state_entered_at"),
        output_field=DateField(),
    )
    regions = {region_id for region_id, _step in norms.table if region_id is not None}
    months, days = _norm_parts(norms, sorted(regions))
    return Case(
        When(
            state__in=NORM_STEPS, then=AddDays(AddMonths(started, months), days + F("clock_days"))
        ),
        default=Value(None),
        output_field=DateField(),
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


def step_deadline(row: AdmissionRequest, norms: Norms | None) -> datetime.date | None:
    """The deadline of the row's current step (a row annotated by ``with_step_clock``), or None
    for a request whose procedure ended. ``norms`` None: the row's own (``row_norm``)."""
    if row.state not in NORM_STEPS:
        return None
    start = step_started_on(row)
    return norm_deadline(start, row_norm(row, norms)) + datetime.timedelta(days=row.clock_days or 0)


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
    the requests must be annotated by ``with_step_clock``. One query for the norms, none when
    the rows carry their own (``with_step_clock(with_norm=True)``)."""
    rows = list(requests)
    if rows and norms is None and not hasattr(rows[0], "clock_norm_amount"):
        norms = Norms.load()
    for row in rows:
        row.step_deadline = step_deadline(row, norms)
        row.step_norm = row_norm(row, norms) if row.step_deadline else None
        row.step_norm_label = (
            f"{row.step_norm[0]} {NormUnit(row.step_norm[1]).label}" if row.step_norm else ""
        )
        row.over_norm = row.step_deadline is not None and row.step_deadline < today
    return rows


def request_step_deadline(admission_request: AdmissionRequest) -> AdmissionRequest | None:
    """The request with ``step_deadline``, ``step_norm`` and ``over_norm`` of the step it is in
    (None once its procedure ended). No query for a request read with its clock and norm
    (``with_step_clock(with_norm=True)``), two otherwise."""
    if admission_request.state not in NORM_STEPS:
        return None
    if hasattr(admission_request, "clock_norm_amount"):
        rows = [admission_request]
    else:
        rows = with_step_clock(AdmissionRequest.objects.filter(pk=admission_request.pk))
    rows = with_step_deadlines(rows, timezone.localdate())
    return rows[0] if rows else None


def request_clock_events(admission_request: AdmissionRequest) -> QuerySet[ClockEvent]:
    """Every suspension, resumption and extension of the request's deadlines, oldest first. No
    query for a request read with ``has_clock_events`` false (most never had one)."""
    if getattr(admission_request, "has_clock_events", True) is False:
        return ClockEvent.objects.none()
    return admission_request.clock_events.select_related("by").order_by("at", "pk")
