"""Reads of the regional dashboard. Every query starts from the user's region scope
(``admission_requests_visible_to``, ``contracts_visible_to``), narrowed to the region shown;
each function runs a fixed number of queries whatever the number of requests, contracts or
invoices, so the page does too.

Definitions (the page's help text says the same):

- *Open in a step*: requests whose state is one of ``DASHBOARD_STEPS`` now.
- *Days in a step*: for each request, the time it spent in the step: from the moment it
  entered the step (the history row with that target state; for ``received``, the moment the
  request was registered) until the next change of state (the next history row, read with the
  window function ``LAG``), or until now for a request still in the step. Visits after a
  send-back add up; the location manager's "outcome recorded" (a logged self-transition of
  ``contracting``) is no change of state. The median is taken over the requests that left the
  step in the last ``MEDIAN_WINDOW_DAYS`` days or are in it now.
- *Waiting*: in a step since longer than ``DASHBOARD_WAITING_DAYS`` (``state_entered_at``).
- *Norm*: the step's service norm (``StepNorm``: the region's, else the national one; on the
  page of all regions the national one). *Within the norm*: of the requests that left a step in
  the last ``MEDIAN_WINDOW_DAYS`` days, those whose days in it (visits added up) did not exceed
  the norm of their region plus their extensions and the quality team's suspended days.
  *Over the norm now*: requests whose step deadline (``procedure.selectors.deadlines``) passed.
- *Renewals overdue*: contracts that ended (not terminated) with their renewal unfinished,
  and requests in contracting past their completion deadline (seed 004, 7.1: the council's
  approval + the contracting step's norm, plus extensions).
- *Billed per month*: approved and sent invoices plus credit notes (negative), by the month
  billed (``Invoice.period``), over the twelve months before this one. For a region: the
  invoice lines of its locations, each with its share of the invoice's administrative costs
  (in proportion to its amount), so the regions' amounts add up to the invoices' totals.
"""

from __future__ import annotations

import datetime
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from axes.models import AccessAttempt
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, Coalesce, Lag, NullIf
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from hap_contracting.billing.constants import (
    OVERDUE,
    ClaimImportStatus,
    InvoiceKind,
    InvoiceState,
    PaymentState,
)
from hap_contracting.billing.models import ClaimImport, Invoice, InvoiceLine, Payment
from hap_contracting.billing.selectors import (
    investigations_visible_to,
    invoices_visible_to,
    not_made_by,
    with_payment_state,
)
from hap_contracting.contracts.models import Contract
from hap_contracting.contracts.selectors import (
    contracts_ending_per_month,
    contracts_visible_to,
    lapsed_unrenewed,
    lapsed_unrenewed_contracts,
)
from hap_contracting.core.months import first_of_month, months_from
from hap_contracting.core.predicates import is_location_manager, is_programme_manager
from hap_contracting.core.roles import Role
from hap_contracting.core.scoping import scoped_to_region
from hap_contracting.organisations.models import Region
from hap_contracting.organisations.selectors import regions_visible_to
from hap_contracting.procedure.constants import ClockEventKind, NormUnit, RequestState
from hap_contracting.procedure.models import AdmissionRequest, ClockEvent, Norms, TransitionLog
from hap_contracting.procedure.rules import can_register_request
from hap_contracting.procedure.selectors.admission import (
    admission_requests_visible_to,
    my_work,
)
from hap_contracting.procedure.selectors.deadlines import (
    step_deadline_expression,
    with_step_clock,
    with_step_deadlines,
)
from hap_contracting.tariffs.selectors import acts_without_tariff_on

S = RequestState

# The steps of the procedure a request waits in, in their order.
DASHBOARD_STEPS = (
    S.RECEIVED,
    S.PRE_ASSESSMENT,
    S.QUALITY_REVIEW,
    S.COUNCIL_REVIEW,
    S.CONTRACTING,
)
# Short names under the bars of the chart; the table gives the full ones.
SHORT_LABELS = {
    S.RECEIVED: _("Received"),
    S.PRE_ASSESSMENT: _("Pre-assessment"),
    S.QUALITY_REVIEW: _("Quality team"),
    S.COUNCIL_REVIEW: _("Council"),
    S.CONTRACTING: _("Contracting"),
}
# The median counts the stays that ended within this many days (and the stays still running).
MEDIAN_WINDOW_DAYS = 365
WAITING_LIST_LENGTH = 20
BILLED_MONTHS = 12
BILLED_STATES = (InvoiceState.APPROVED, InvoiceState.SENT)


def waiting_days() -> int:
    return getattr(settings, "DASHBOARD_WAITING_DAYS", 14)


# --- Scope ------------------------------------------------------------------------------------


def dashboard_allowed(user) -> bool:
    return user.is_authenticated and bool(user.role_names)


def dashboard_regions(user) -> QuerySet[Region]:
    """The regions whose dashboard the user may open: all, or their own."""
    return regions_visible_to(user)


def dashboard_region_for_user(user, slug: str) -> Region:
    """The region, or 404 when it does not exist *or* is not the user's (as for requests)."""
    region = dashboard_regions(user).filter(slug=slug).first()
    if region is None:
        raise Http404
    return region


def _requests(user, region: Region | None) -> QuerySet[AdmissionRequest]:
    queryset = admission_requests_visible_to(user)
    return queryset if region is None else queryset.filter(location__region_id=region.pk)


def _contracts(user, region: Region | None) -> QuerySet[Contract]:
    queryset = contracts_visible_to(user)
    return queryset if region is None else queryset.filter(region_id=region.pk)


# --- (1) Requests per step with the median days in each step -------------------------------


@dataclass
class StepRow:
    state: str
    label: str
    short_label: str
    open_count: int = 0
    waiting_count: int = 0
    median_days: float | None = None
    measured: int = 0  # how many requests the median is taken over
    norm: tuple[int, str] | None = None  # (amount, unit) of the step's norm
    norm_days: int | None = None  # the norm in days (a norm in months: counted from today)
    decided: int = 0  # requests that left the step in the window
    within_norm: int = 0  # of those, within their norm
    over_norm: int = 0  # open requests past the step's deadline now

    @property
    def within_share(self) -> int | None:
        """The percentage of ``decided`` within the norm, or None when none left the step."""
        return round(100 * self.within_norm / self.decided) if self.decided else None

    @property
    def norm_unit_label(self) -> str:
        return NormUnit(self.norm[1]).label if self.norm else ""


def norms_in_force() -> Norms:
    """The steps' norms, read once for the page's panels. One query."""
    return Norms.load()


def _days(delta: datetime.timedelta) -> float:
    return delta.total_seconds() / 86400


def _stays_left(requests: QuerySet[AdmissionRequest], since: datetime.datetime):
    """(request, state, entered, left) for every stay in a step that ended after ``since``,
    in one query: each change of state ends the stay in its source state, which began at the
    previous change (``LAG``) or, for the first, when the request was registered.

    Only requests changed since ``since`` or still open can have such a stay (a request's
    ``state_entered_at`` is its last change); their whole history is read, so that ``LAG``
    sees a stay that began before ``since``, and the older stays are dropped here."""
    recent = requests.filter(Q(state_entered_at__gte=since) | Q(state__in=DASHBOARD_STEPS))
    created_at = (
        AdmissionRequest.objects.filter(pk=OuterRef("object_id")).order_by().values("created_at")
    )
    region_id = AdmissionRequest.objects.filter(pk=OuterRef("object_id")).values(
        "location__region_id"
    )
    changes = (
        TransitionLog.objects.filter(
            content_type__app_label=AdmissionRequest._meta.app_label,
            content_type__model=AdmissionRequest._meta.model_name,
            object_id__in=recent.order_by().values("pk"),
        )
        # "Outcome recorded" is logged as contracting → contracting: no change of state.
        .exclude(source_state=F("state"))
        .annotate(
            entered_at=Coalesce(
                Window(
                    Lag("timestamp"),
                    partition_by=[F("object_id")],
                    order_by=[F("timestamp").asc(), F("pk").asc()],
                ),
                Subquery(created_at),
            ),
            region_id=Subquery(region_id),
        )
        .order_by()
        .values_list("object_id", "source_state", "entered_at", "timestamp", "region_id")
    )
    for pk, state, entered_at, left_at, region in changes:
        if left_at >= since and state in DASHBOARD_STEPS:
            yield pk, state, entered_at, left_at, region


def requests_per_step(
    user,
    region: Region | None,
    *,
    now: datetime.datetime,
    norms: Norms | None = None,
    over_norm_per_step: dict[str, int] | None = None,
) -> list[StepRow]:
    """Open requests, waiting requests, the median days per step against the step's norm, the
    share that left it within the norm and how many are over it now. Five queries (the open
    requests, the stays, the extensions and suspensions, the count over the norm per step unless
    ``over_norm_per_step`` gives it (``over_norm_counts``), the norms unless ``norms`` gives
    them)."""
    requests = _requests(user, region)
    norms = norms or Norms.load()
    today = timezone.localdate(now)
    region_id = region.pk if region else None
    threshold = now - datetime.timedelta(days=waiting_days())
    rows = {
        state: StepRow(
            state=state,
            label=S(state).label,
            short_label=SHORT_LABELS[state],
            norm=norms.norm(region_id, state),
            norm_days=norms.days(region_id, state, on=today),
        )
        for state in DASHBOARD_STEPS
    }
    # Days per (request, step), all visits added up.
    spent: dict[tuple[int, str], float] = defaultdict(float)
    current = (
        requests.filter(state__in=DASHBOARD_STEPS)
        .order_by()
        .values_list("pk", "state", "state_entered_at")
    )
    for pk, state, entered_at in current:
        rows[state].open_count += 1
        if entered_at < threshold:
            rows[state].waiting_count += 1
        spent[pk, state] += _days(max(now - entered_at, datetime.timedelta(0)))
    since = now - datetime.timedelta(days=MEDIAN_WINDOW_DAYS)
    # The stays that ended: their request's region and the day its first visit began.
    left: dict[tuple[int, str], tuple[int, datetime.date]] = {}
    for pk, state, entered_at, left_at, stay_region in _stays_left(requests, since):
        spent[pk, state] += _days(max(left_at - entered_at, datetime.timedelta(0)))
        began = timezone.localdate(entered_at)
        if (pk, state) in left:
            began = min(began, left[pk, state][1])
        left[pk, state] = (stay_region, began)
    by_state: dict[str, list[float]] = defaultdict(list)
    for (_pk, state), days in spent.items():
        by_state[state].append(days)
    for state, days in by_state.items():
        rows[state].median_days = round(statistics.median(days), 1)
        rows[state].measured = len(days)
    # Within the norm: the steps left (and not entered again since), against the norm of the
    # request's region plus its extensions and suspended days in that step.
    added = _clock_days(requests, {pk for pk, _state in left})
    still_in = {(pk, state) for pk, state, _entered in current}
    for (pk, state), (stay_region, began) in left.items():
        if (pk, state) in still_in:
            continue
        allowed = norms.days(stay_region, state, on=began) + added.get((pk, state), 0)
        rows[state].decided += 1
        if spent[pk, state] <= allowed:
            rows[state].within_norm += 1
    if over_norm_per_step is None:
        over_norm_per_step = over_norm_counts(
            user, today=today, region=region, per="state", norms=norms
        )
    for state, count in over_norm_per_step.items():
        rows[state].over_norm = count
    return list(rows.values())


def _clock_days(requests: QuerySet[AdmissionRequest], pks: set[int]) -> dict:
    """(request, step) → the days its extensions and suspensions added. One query."""
    if not pks:
        return {}
    return {
        (pk, step): days
        for pk, step, days in ClockEvent.objects.filter(
            admission_request_id__in=pks,
            kind__in=[ClockEventKind.RESUMED, ClockEventKind.EXTENDED],
        )
        .values("admission_request_id", "step")
        .annotate(total=Sum("days"))
        .values_list("admission_request_id", "step", "total")
    }


def _over_norm(user, region: Region | None, *, today: datetime.date, norms: Norms):
    """The open requests past the deadline of the step they are in, the deadline computed in
    the database as ``deadline`` (``step_deadline_expression``, which tests hold to the rule)."""
    return (
        with_step_clock(_requests(user, region).filter(state__in=DASHBOARD_STEPS))
        .annotate(deadline=step_deadline_expression(norms))
        .filter(deadline__lt=today)
    )


def requests_over_norm(
    user,
    region: Region | None,
    *,
    today: datetime.date,
    norms: Norms | None = None,
    limit: int | None = None,
) -> list[AdmissionRequest]:
    """The open requests past the deadline of the step they are in, longest over first (the
    first ``limit``); each with ``step_deadline`` and ``days_over``. One query (and one for the
    norms if not given)."""
    norms = norms or Norms.load()
    over = _over_norm(user, region, today=today, norms=norms).order_by("deadline", "pk")
    rows = with_step_deadlines(over[:limit], today, norms)
    for row in rows:
        row.days_over = (today - row.step_deadline).days
    return rows


def over_norm_counts(
    user,
    *,
    today: datetime.date,
    region: Region | None = None,
    per: str = "location__region_id",
    norms: Norms | None = None,
) -> dict:
    """How many requests ``requests_over_norm`` lists, per region (its pk) or, with
    ``per="state"``, per step: counted in the database rather than read row by row. One query
    (and one for the norms if not given)."""
    rows = _over_norm(user, region, today=today, norms=norms or Norms.load()).order_by()
    return dict(rows.values_list(per).annotate(count=Count("pk")).values_list(per, "count"))


# --- (2) Requests waiting longer than the threshold -----------------------------------------


def waiting_requests(
    user, region: Region | None, *, now: datetime.datetime, limit: int = WAITING_LIST_LENGTH
) -> list[AdmissionRequest]:
    """The longest-waiting requests in a step since before the threshold. One query; the
    count is in ``requests_per_step``."""
    threshold = now - datetime.timedelta(days=waiting_days())
    return list(
        _requests(user, region)
        .filter(state__in=DASHBOARD_STEPS, state_entered_at__lt=threshold)
        .order_by("state_entered_at", "pk")[:limit]
    )


# --- (3) Contracts ending per month ---------------------------------------------------------


def contracts_ending(user, region: Region | None, *, today: datetime.date):
    """The register's expiry counts (next 18 months), for the region. One query."""
    return contracts_ending_per_month(user, today=today, region_id=region.pk if region else None)


# --- (4) Renewals overdue ---------------------------------------------------------------------


@dataclass
class Overdue:
    lapsed_contracts: list[Contract] = field(default_factory=list)
    completion_overdue: list[AdmissionRequest] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.lapsed_contracts) + len(self.completion_overdue)


def renewals_overdue(
    user, region: Region | None, *, today: datetime.date, norms: Norms | None = None
) -> Overdue:
    """Contracts that lapsed without a completed renewal, and requests in contracting past
    the completion deadline (seed 004, 7.1: the contracting norm, plus extensions). Two queries
    (three without ``norms``); the deadline is a calendar-month offset, computed in Python over
    the (few) requests in contracting."""
    lapsed = list(
        _contracts(user, region)
        .filter(lapsed_unrenewed(), end_date__lt=today)
        .select_related("organisation", "location", "renewal_request")
        .order_by("end_date", "pk")
    )
    in_contracting = with_step_clock(_requests(user, region).filter(state=S.CONTRACTING)).filter(
        clock_approved_on__isnull=False
    )
    overdue = []
    for admission_request in with_step_deadlines(in_contracting.order_by("pk"), today, norms):
        if admission_request.over_norm:
            admission_request.approved_on = admission_request.clock_approved_on
            admission_request.completion_deadline = admission_request.step_deadline
            overdue.append(admission_request)
    overdue.sort(key=lambda row: (row.completion_deadline, row.pk))
    return Overdue(lapsed_contracts=lapsed, completion_overdue=overdue)


# --- (5) Amounts billed per month -------------------------------------------------------------


def billed_months(today: datetime.date, months: int = BILLED_MONTHS) -> list[datetime.date]:
    """The first days of the ``months`` months before this one (only ended months are billed)."""
    return months_from(first_of_month(today) - relativedelta(months=months), months)


def _billed_lines(user, region: Region | None) -> QuerySet[InvoiceLine]:
    """Invoice lines in the user's scope: by the line's location (an organisation's invoice
    can hold locations of several regions)."""
    lines = scoped_to_region(InvoiceLine.objects.all(), user, "location__region_id")
    if region is not None:
        lines = lines.filter(location__region_id=region.pk)
    return lines


def billed_per_month(
    user, region: Region | None, *, today: datetime.date
) -> list[tuple[datetime.date, Decimal]]:
    """Euros billed per month (invoices minus credit notes), one aggregate query. A line's
    share of its invoice's administrative costs is ``costs × amount / lines total``."""
    months = billed_months(today)
    share = (
        Cast("invoice__administrative_costs", FloatField())
        * Cast("amount", FloatField())
        / NullIf(Cast("invoice__lines_total", FloatField()), Value(0.0))
    )
    rows = (
        _billed_lines(user, region)
        .filter(
            invoice__state__in=BILLED_STATES,
            invoice__kind__in=[InvoiceKind.INVOICE, InvoiceKind.CREDIT_NOTE],
            invoice__period__gte=months[0],
            invoice__period__lte=months[-1],
        )
        .order_by()
        .values("invoice__period")
        .annotate(acts=Sum("amount"), costs=Sum(share, output_field=FloatField()))
    )
    totals: dict[datetime.date, Decimal] = {}
    for row in rows:
        costs = Decimal(str(row["costs"] or 0)).quantize(Decimal("0.01"))
        totals[row["invoice__period"]] = (row["acts"] or Decimal("0")) + costs
    return [(month, totals.get(month, Decimal("0.00"))) for month in months]


# --- The overview of all regions --------------------------------------------------------------


@dataclass
class RegionSummary:
    region: Region
    open_count: int
    waiting_count: int
    over_norm_count: int = 0
    payments: PaymentFigures | None = None


def region_summaries(user, *, now: datetime.datetime) -> list[RegionSummary]:
    """Per region the user sees: open and waiting requests, and those over their step's norm.
    Four queries."""
    threshold = now - datetime.timedelta(days=waiting_days())
    over = over_norm_counts(user, today=timezone.localdate(now))
    counts = {
        row["location__region_id"]: row
        for row in admission_requests_visible_to(user)
        .filter(state__in=DASHBOARD_STEPS)
        .order_by()
        .values("location__region_id")
        .annotate(
            open=Count("pk"),
            waiting=Count(Case(When(Q(state_entered_at__lt=threshold), then=F("pk")))),
        )
    }
    return [
        RegionSummary(
            region=region,
            open_count=counts.get(region.pk, {}).get("open", 0),
            waiting_count=counts.get(region.pk, {}).get("waiting", 0),
            over_norm_count=over.get(region.pk, 0),
        )
        for region in dashboard_regions(user)
    ]


# --- "Mijn werk" ------------------------------------------------------------------------------


# How many lapsed contracts "Mijn werk" lists, those that ended longest ago; the contract
# register lists them all. A region can have a hundred, too many to read on a work list (with
# the load test's 120 the secretariat's page took 90 ms in process, 63 ms with ten).
LAPSED_SHOWN = 10


@dataclass(frozen=True)
class LapsedContracts:
    shown: list[Contract]
    # More lapsed than shown: the page says so and links to the register for the rest.
    more: bool


def lapsed_contracts_to_renew(user, *, today: datetime.date) -> LapsedContracts | None:
    """The secretariat renews contracts: its region's lapsed ones, the first ``LAPSED_SHOWN``
    (one query); None for other roles."""
    if not can_register_request.test(user):
        return None
    contracts = lapsed_unrenewed_contracts(user, today=today, limit=LAPSED_SHOWN + 1)
    return LapsedContracts(shown=contracts[:LAPSED_SHOWN], more=len(contracts) > LAPSED_SHOWN)


# --- "Mijn werk": the work of every role, as actions -------------------------------------------


@dataclass(frozen=True)
class WorkTask:
    """Work that is not one request: "3 draft invoices to approve", with where to do it."""

    key: str
    action: str
    count: int
    url: str
    urgent: bool = False


def _finance_tasks(user, today: datetime.date) -> list[WorkTask]:
    # One query for the three counts of invoices.
    invoices = with_payment_state(invoices_visible_to(user), today=today).aggregate(
        # Four eyes: the drafts this user made are another finance user's to approve.
        drafts=Count("pk", filter=Q(state=InvoiceState.DRAFT) & not_made_by(user)),
        approved=Count("pk", filter=Q(state=InvoiceState.APPROVED)),
        overdue=Count("pk", filter=Q(is_overdue=True)),
    )
    later_imported = ClaimImport.objects.filter(
        status=ClaimImportStatus.IMPORTED, uploaded_at__gt=OuterRef("uploaded_at")
    )
    failed_imports = (
        ClaimImport.objects.filter(
            status__in=(ClaimImportStatus.REJECTED, ClaimImportStatus.FAILED)
        )
        .exclude(Exists(later_imported))
        .count()
    )
    overdue = invoices["overdue"]
    invoice_list = reverse("billing:invoice_list")
    return [
        WorkTask(
            "overdue_invoices",
            ngettext(
                "Follow up %(count)d overdue invoice",
                "Follow up %(count)d overdue invoices",
                overdue,
            )
            % {"count": overdue},
            overdue,
            f"{invoice_list}?payment={OVERDUE}",
            urgent=True,
        ),
        WorkTask(
            "invoices_to_approve",
            ngettext(
                "Check and approve %(count)d draft invoice",
                "Check and approve %(count)d draft invoices",
                invoices["drafts"],
            )
            % {"count": invoices["drafts"]},
            invoices["drafts"],
            f"{invoice_list}?state={InvoiceState.DRAFT}",
        ),
        WorkTask(
            "invoices_to_send",
            ngettext(
                "Send %(count)d approved invoice",
                "Send %(count)d approved invoices",
                invoices["approved"],
            )
            % {"count": invoices["approved"]},
            invoices["approved"],
            f"{invoice_list}?state={InvoiceState.APPROVED}",
        ),
        WorkTask(
            "imports_with_errors",
            ngettext(
                "Correct and upload again %(count)d claims file with errors",
                "Correct and upload again %(count)d claims files with errors",
                failed_imports,
            )
            % {"count": failed_imports},
            failed_imports,
            reverse("billing:claim_import_list"),
            urgent=True,
        ),
    ]


def _investigation_task(user) -> list[WorkTask]:
    open_count = investigations_visible_to(user).filter(notified_on__isnull=True).count()
    return [
        WorkTask(
            "open_investigations",
            ngettext(
                "Find out whose address it is and tell them: %(count)d open address investigation",
                "Find out whose address it is and tell them: %(count)d open address investigations",
                open_count,
            )
            % {"count": open_count},
            open_count,
            reverse("billing:investigation_list") + "?open=1",
        )
    ]


def _administrator_tasks(user, today: datetime.date) -> list[WorkTask]:
    tasks = []
    next_year = datetime.date(today.year + 1, 1, 1)
    if today.month >= TARIFF_WARNING_FROM_MONTH:
        missing = acts_without_tariff_on(next_year).count()
        tasks.append(
            WorkTask(
                "tariffs_next_year",
                ngettext(
                    "Enter the insurer tariff from %(date)s for %(count)d act",
                    "Enter the insurer tariffs from %(date)s for %(count)d acts",
                    missing,
                )
                % {"count": missing, "date": date_format(next_year, "j F Y")},
                missing,
                reverse("admin:tariffs_insurertariff_changelist"),
                urgent=True,
            )
        )
    locked = (
        AccessAttempt.objects.filter(
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
            attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME,
        )
        .values("username")
        .distinct()
        .count()
    )
    tasks.append(
        WorkTask(
            "locked_out_logins",
            ngettext(
                "Check %(count)d login locked after failed attempts (it unlocks by itself)",
                "Check %(count)d logins locked after failed attempts (they unlock by themselves)",
                locked,
            )
            % {"count": locked},
            locked,
            reverse("admin:axes_accessattempt_changelist"),
        )
    )
    return tasks


# From November the administrator is reminded of the tariffs that next year's billing needs.
TARIFF_WARNING_FROM_MONTH = 11


def work_tasks(user, *, today: datetime.date) -> list[WorkTask]:
    """The work of the user's roles beyond single requests, with a count each; only tasks with
    work in them. At most five queries, whatever the amount of data."""
    tasks: list[WorkTask] = []
    if user.has_role(Role.FINANCE):
        tasks += _finance_tasks(user, today)
    if (
        user.has_role(Role.FINANCE)
        or is_location_manager.test(user)
        or (is_programme_manager.test(user))
    ):
        tasks += _investigation_task(user)
    if user.has_role(Role.ADMINISTRATOR):
        tasks += _administrator_tasks(user, today)
    return sorted((t for t in tasks if t.count), key=lambda t: (not t.urgent, t.key))


def work_count(user, *, today: datetime.date) -> int:
    """How much waits for the user: the requests on their work list and the tasks' counts."""
    return my_work(user, today).count() + sum(t.count for t in work_tasks(user, today=today))


# The menu shows the count on every page: cached per user, and fresh after any change of the
# work (``work_changed`` bumps the version in the key); at most this old after a bulk change
# that sends no signal (the daily job's set-based writes).
WORK_COUNT_SECONDS = 60
_WORK_VERSION_KEY = "my-work:version"


def work_changed(**_kwargs) -> None:
    try:
        cache.incr(_WORK_VERSION_KEY)
    except ValueError:
        cache.set(_WORK_VERSION_KEY, 1, None)


def _work_count_key(user, today: datetime.date) -> str:
    version = cache.get(_WORK_VERSION_KEY, 0)
    return f"my-work:count:{user.pk}:{version}:{today.isoformat()}"


def cached_work_count(user, *, today: datetime.date | None = None) -> int:
    today = today or timezone.localdate()
    key = _work_count_key(user, today)
    count = cache.get(key)
    if count is None:
        count = work_count(user, today=today)
        cache.set(key, count, WORK_COUNT_SECONDS)
    return count


def remember_work_count(user, count: int, *, today: datetime.date) -> int:
    """ "Mijn werk" itself counts what ``work_count`` counts (its requests and its tasks): the
    menu shows that count, and keeps it for the next pages."""
    cache.set(_work_count_key(user, today), count, WORK_COUNT_SECONDS)
    return count


# The figures of a dashboard (all of its page below the heading) are drawn once and kept: reading
# and drawing them takes a few hundred milliseconds for a region with years of history. Drawn
# figures are shown as they are for ``FIGURES_SECONDS``; after that the next view still shows
# them, up to ``FIGURES_STALE_SECONDS`` old, while a Celery task draws them again
# (``dashboard.redraw_figures``), so that no page waits for the drawing. A change of anything
# they count (``figures_changed``, on saves of those models) is shown at the next view, which
# then draws them itself: a region's after a change in it, the all-regions figures after any. A
# bulk change that sends no signal shows within ``FIGURES_SECONDS`` and one drawing.
FIGURES_SECONDS = 60
FIGURES_STALE_SECONDS = 600
_FIGURES_VERSION_KEY = "dashboard:figures-version"
ALL_REGIONS = "all"
# How a changed row reaches its region through relations the saving code has already read (so
# a save costs no query for this); a row without a path, or whose path is not at hand, changes
# every dashboard (an invoice: its organisation's locations may lie in several regions).
_REGION_PATHS = {
    "AdmissionRequest": ("location",),
    "Advice": ("admission_request", "location"),
    "ClockEvent": ("admission_request", "location"),
    "InvoiceLine": ("location",),
    "Contract": (),
    "StepNorm": (),  # a national norm (no region) changes every region's figures
}


def _region_version_key(region_id) -> str:
    return f"{_FIGURES_VERSION_KEY}:{region_id}"


def changed_region(instance) -> int | None:
    """The region whose figures a saved or deleted row changes, when its relations to it are
    already read; None: unknown, or every region."""
    path = _REGION_PATHS.get(type(instance).__name__)
    if path is None:
        return None
    row = instance
    for name in path:
        row = row._meta.get_field(name).get_cached_value(row, default=None)
        if row is None:
            return None
    return row.region_id


def _bump(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, None)


def figures_changed(instance=None, **_kwargs) -> None:
    region_id = changed_region(instance) if instance is not None else None
    if region_id is None:
        _bump(_FIGURES_VERSION_KEY)
        return
    _bump(_region_version_key(region_id))
    _bump(_region_version_key(ALL_REGIONS))


def _figures_version(region_key) -> str:
    """The version of a dashboard's kept figures: every dashboard's and its own."""
    keys = [_FIGURES_VERSION_KEY, _region_version_key(region_key)]
    versions = cache.get_many(keys)
    return "-".join(str(versions.get(key, 0)) for key in keys)


@dataclass(frozen=True)
class KeptFigures:
    """A dashboard's drawn figures: the version of what they count when drawing began, and
    when that was (seconds since the epoch)."""

    html: str
    version: str
    drawn_at: float


def _figures_key(region_key, today: datetime.date) -> str:
    return f"dashboard:figures:{region_key}:{today.isoformat()}:{translation.get_language()}"


def draw_figures(region: Region | None, render: Callable[[], str], *, today: datetime.date) -> str:
    """``render()`` the figures of ``region``'s dashboard and keep them. The version is read
    before drawing, so a change made meanwhile makes the kept figures out of date at once."""
    region_key = region.pk if region else ALL_REGIONS
    version, drawn_at = _figures_version(region_key), time.time()
    html = render()
    cache.set(
        _figures_key(region_key, today),
        KeptFigures(html=html, version=version, drawn_at=drawn_at),
        FIGURES_STALE_SECONDS,
    )
    cache.delete(_redrawing_key(region_key, today))
    return html


def _redrawing_key(region_key, today: datetime.date) -> str:
    return f"{_figures_key(region_key, today)}:redrawing"


def cached_figures(
    region: Region | None,
    render: Callable[[], str],
    *,
    today: datetime.date,
    redraw: Callable[[], str | None] | None = None,
) -> str:
    """The figures of ``region``'s dashboard (None: all regions), ``render()``ed when none are
    kept or something they count has changed since. Per region and language: nothing in them
    depends on who looks (the users who may open a region's dashboard see the same requests,
    contracts and invoices of it). Kept figures older than ``FIGURES_SECONDS`` are shown once
    more while ``redraw()`` (a Celery task that calls ``draw_figures``) draws them anew, once
    at a time (``redraw`` returns the figures when it had to draw them itself); without
    ``redraw``, or when they are older than ``FIGURES_STALE_SECONDS``, they are drawn here."""
    region_key = region.pk if region else ALL_REGIONS
    kept = cache.get(_figures_key(region_key, today))
    if isinstance(kept, KeptFigures) and kept.version == _figures_version(region_key):
        age = time.time() - kept.drawn_at
        if age < FIGURES_SECONDS:
            return kept.html
        if redraw is not None and age < FIGURES_STALE_SECONDS:
            if cache.add(_redrawing_key(region_key, today), 1, FIGURES_SECONDS):
                drawn_instead = redraw()
                if drawn_instead is not None:
                    return drawn_instead
            return kept.html
    return draw_figures(region, render, today=today)


# --- (6) Outstanding and overdue, days to payment -------------------------------------------

PAID_WINDOW_DAYS = 365
UNPAID_STATES = (PaymentState.OPEN, PaymentState.PARTLY_PAID)


@dataclass
class PaymentFigures:
    """Euros still to be paid and of those overdue, and the average days from the invoice date
    to the last payment over the invoices paid in the last ``PAID_WINDOW_DAYS`` days."""

    outstanding: Decimal = Decimal("0.00")
    overdue: Decimal = Decimal("0.00")
    paid_days: list[int] = field(default_factory=list)

    @property
    def average_days_to_payment(self) -> float | None:
        return round(statistics.mean(self.paid_days), 1) if self.paid_days else None


def payment_figures(user, *, today: datetime.date) -> dict[int | None, PaymentFigures]:
    """Per region (key: its id; ``None``: all the user sees together) the outstanding and
    overdue amounts and the average days to payment. Two queries, however many invoices.

    An invoice belongs to an organisation; a region's share of it is that of its locations'
    lines, in proportion to their amount (as ``billed_per_month`` shares the administrative
    costs): ``outstanding × region's lines / lines total``. Days to payment: every invoice with
    a line in the region counts once. Same scope as the amounts billed (the lines' regions)."""
    last_paid = (
        Payment.objects.filter(invoice=OuterRef("pk"))
        .order_by()
        .values("invoice")
        .annotate(last=Max("paid_on"))
        .values("last")
    )
    since = today - datetime.timedelta(days=PAID_WINDOW_DAYS)
    invoices = (
        with_payment_state(Invoice.objects.filter(kind=InvoiceKind.INVOICE), today=today)
        .annotate(last_paid_on=Subquery(last_paid))
        .filter(
            Q(payment_state__in=UNPAID_STATES)
            | Q(payment_state=PaymentState.PAID, last_paid_on__gte=since)
        )
    )
    rows = {
        row["pk"]: row
        for row in invoices.order_by().values(
            "pk",
            "outstanding",
            "is_overdue",
            "payment_state",
            "lines_total",
            "invoice_date",
            "last_paid_on",
        )
    }
    figures: dict[int | None, PaymentFigures] = defaultdict(PaymentFigures)
    shares = list(
        scoped_to_region(InvoiceLine.objects.all(), user, "location__region_id")
        .filter(invoice_id__in=invoices.values("pk"))
        .order_by()
        .values("invoice_id", "location__region_id")
        .annotate(amount=Sum("amount"))
        .values_list("invoice_id", "location__region_id", "amount")
    )
    for invoice_id, region_id, amount in shares:
        row = rows.get(invoice_id)
        if row is None:
            continue
        for key in (region_id, None):
            _add_payment_share(figures[key], row, amount, counted=key is not None)
    _count_paid_days_once(figures[None], rows, shares_seen={i for i, _r, _a in shares})
    return figures


def _add_payment_share(target: PaymentFigures, row: dict, amount, *, counted: bool) -> None:
    if row["payment_state"] in UNPAID_STATES:
        if row["lines_total"]:
            share = (row["outstanding"] * (amount or 0) / row["lines_total"]).quantize(
                Decimal("0.01")
            )
        else:
            share = row["outstanding"]
        target.outstanding += share
        if row["is_overdue"]:
            target.overdue += share
    elif counted and row["invoice_date"] and row["last_paid_on"]:
        target.paid_days.append((_as_date(row["last_paid_on"]) - row["invoice_date"]).days)


def _count_paid_days_once(total: PaymentFigures, rows: dict, *, shares_seen: set[int]) -> None:
    """All regions together: each paid invoice once (not once per region of its lines)."""
    for pk in shares_seen:
        row = rows.get(pk)
        if (
            row
            and row["payment_state"] == PaymentState.PAID
            and row["invoice_date"]
            and row["last_paid_on"]
        ):
            total.paid_days.append((_as_date(row["last_paid_on"]) - row["invoice_date"]).days)


def _as_date(value) -> datetime.date:
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def with_payment_figures(
    summaries: list[RegionSummary], figures: dict[int | None, PaymentFigures]
) -> list[RegionSummary]:
    """The overview's rows with their region's ``payment_figures``."""
    for summary in summaries:
        summary.payments = figures.get(summary.region.pk) or PaymentFigures()
    return summaries


def cached_overview(user, *, now: datetime.datetime) -> list[RegionSummary]:
    """The overview's rows (``region_summaries`` with ``payment_figures``) for a user who sees
    every region, kept as the dashboards' figures are (``FIGURES_SECONDS``, read again after a
    change of what they count): every such user sees the same rows. Six queries when they are
    not kept, none when they are."""
    today = timezone.localdate(now)

    def rows() -> list[RegionSummary]:
        return with_payment_figures(
            region_summaries(user, now=now), payment_figures(user, today=today)
        )

    if not user.sees_all_regions:
        return rows()
    key = f"dashboard:overview:{_figures_version(ALL_REGIONS)}:{today.isoformat()}"
    kept = cache.get(key)
    if kept is None:
        kept = rows()
        cache.set(key, kept, FIGURES_SECONDS)
    return kept
