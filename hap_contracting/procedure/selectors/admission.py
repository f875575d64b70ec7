"""Reads of the procedure. Every query starts from the user's region scope."""

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Page, Paginator
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_fsm import FSMFieldMixin

from checklist.selectors import AssessmentSummary, assessment_revisions, assessment_summary
from hap_contracting.core.listing import Sorts
from hap_contracting.core.roles import Role
from hap_contracting.core.scoping import scoped_to_region

from ..constants import AdviceOutcome, RequestState
from ..models import AdmissionRequest, Advice, ClockEvent, Norms, TransitionLog
from .deadlines import (
    council_approval_date,  # noqa: F401  (re-exported: the contracts and dashboard read it here)
    near_days,
    step_deadline_expression,
    with_step_clock,
)

S = RequestState


def admission_requests_visible_to(user) -> QuerySet[AdmissionRequest]:
    """All requests the user may see: their region's, or all for finance and administrators."""
    queryset = AdmissionRequest.objects.select_related(
        "location__region",
        "location__hap_post",
        "location__organisation",
        "assigned_location_manager",
    )
    return scoped_to_region(queryset, user, "location__region_id")


# The request list's sortable columns (``core.listing``): key -> the lookups it orders by.
REQUEST_SORTS = Sorts(
    {
        "reference": ("pk",),
        "location": ("location__name", "location__city"),
        "region": ("location__region__name", "location__name"),
        "kind": ("kind", "-received_on"),
        "state": ("state", "-received_on"),
        "received": ("received_on",),
    },
    default="-received",
    model=AdmissionRequest,
)


# What the request list shows of each row: fewer columns and joins to plan and read than the
# full request (the list's query was planned longer than it ran).
REQUEST_LIST_FIELDS = (
    "kind",
    "state",
    "received_on",
    "location__name",
    "location__city",
    "location__region__name",
)


def admission_request_list(
    user,
    *,
    state: str = "",
    kind: str = "",
    search: str = "",
    region_id: int | None = None,
    received_from: datetime.date | None = None,
    received_until: datetime.date | None = None,
    sort: str = "",
) -> QuerySet[AdmissionRequest]:
    """The request list: the user's scope, filtered by state, kind, region (for users who see
    every region), the period of receipt and a search term; sorted by ``sort``, a key of
    ``REQUEST_SORTS`` (the default otherwise). The page and its export both read this; the
    rows hold only what the page shows (the export reads its own columns)."""
    requests = (
        admission_requests_visible_to(user)
        .select_related(None)
        .select_related("location__region")
        .only(*REQUEST_LIST_FIELDS)
    )
    if state:
        requests = requests.filter(state=state)
    if kind:
        requests = requests.filter(kind=kind)
    if region_id and user.sees_all_regions:
        requests = requests.filter(location__region_id=region_id)
    if received_from:
        requests = requests.filter(received_on__gte=received_from)
    if received_until:
        requests = requests.filter(received_on__lte=received_until)
    if search:
        requests = requests.filter(
            Q(location__name__icontains=search)
            | Q(location__city__icontains=search)
            | Q(location__postcode__icontains=search)
            | Q(requester_name__icontains=search)
        )
    return requests.order_by(*REQUEST_SORTS.order_by(sort))


# The roles for whom requests wait (``waiting_for_user_filter``).
REQUEST_WORK_ROLES = (
    Role.SECRETARIAT,
    Role.LOCATION_MANAGER,
    Role.PROGRAMME_MANAGER,
    Role.QUALITY_TEAM,
    Role.REGIONAL_COUNCIL,
)


def waiting_for_user_filter(user) -> Q:
    """What waits for this user's roles (seed 004, appendix 5: who acts at which step)."""
    waiting = Q(pk__in=[])
    if user.has_role(Role.SECRETARIAT):
        waiting |= Q(state=S.RECEIVED) | Q(state=S.CONTRACTING, outcome_recorded_at__isnull=False)
    if user.has_role(Role.LOCATION_MANAGER):
        waiting |= Q(assigned_location_manager=user) & (
            Q(state=S.PRE_ASSESSMENT) | Q(state=S.CONTRACTING, outcome_recorded_at__isnull=True)
        )
    if user.has_role(Role.PROGRAMME_MANAGER):
        waiting |= Q(state=S.PRE_ASSESSMENT)
    if user.has_role(Role.QUALITY_TEAM):
        waiting |= Q(state=S.QUALITY_REVIEW)
    if user.has_role(Role.REGIONAL_COUNCIL):
        waiting |= Q(state=S.COUNCIL_REVIEW)
    return waiting


def my_work(user, today: datetime.date | None = None) -> QuerySet[AdmissionRequest]:
    """The user's work list, longest waiting first.

    Each row carries ``contract_lapsed`` (a renewal whose contract's end date has passed: the
    location has no running contract) and the step clock's annotations (``with_step_clock``),
    from which ``step_deadline`` (or ``step_deadline_expression`` in SQL) computes the deadline
    of the step it is in."""
    today = today or timezone.localdate()
    renewed_contract_ended = AdmissionRequest.objects.filter(
        pk=OuterRef("pk"), renews_contract__end_date__lt=today
    )
    return with_step_clock(
        admission_requests_visible_to(user)
        .filter(waiting_for_user_filter(user))
        .annotate(
            # A subquery, for the renewals only: a join would read every contract.
            contract_lapsed=Case(
                When(renews_contract__isnull=False, then=Exists(renewed_contract_ended)),
                default=Value(False),
                output_field=BooleanField(),
            ),
        ),
    ).order_by("state_entered_at", "pk")


def work_action(row: AdmissionRequest, user) -> str:
    """What the user must do with a request on their work list, as the office says it."""
    return _work_action_text(row, user) % {"location": row.location.name}


def _work_action_text(row: AdmissionRequest, user) -> str:
    """``work_action``'s sentence, ``%(location)s`` still to fill in."""
    if row.state == S.RECEIVED:
        return _("Forward %(location)s to a location manager")
    if row.state == S.PRE_ASSESSMENT:
        if row.assigned_location_manager_id == user.pk:
            return _("Fill in the checklist and advise on %(location)s")
        return _("Follow the pre-assessment of %(location)s")
    if row.state == S.QUALITY_REVIEW:
        return _("Give advice on %(location)s")
    if row.state == S.COUNCIL_REVIEW:
        return _("Decide on %(location)s")
    if row.state == S.CONTRACTING and row.outcome_recorded_at is None:
        return _("Record the outcome of the contract talks with %(location)s")
    return _("Record the signed contract of %(location)s")


def _work_deadline(step_deadline, grace_ends_on, state):
    """The deadline a work list shows: the step's, or a regularisation's grace period's end when
    that comes first (a regularisation must be contracted before it ends)."""
    if grace_ends_on and state != S.CONTRACTED:
        return min(step_deadline, grace_ends_on) if step_deadline else grace_ends_on
    return step_deadline


def _urgency(deadline, contract_lapsed: bool, state: str, today: datetime.date) -> tuple:
    """A work list's order: past a deadline first, then a lapsed contract, then a deadline
    near (then the longest waiting)."""
    passed = deadline is not None and deadline < today
    near = (
        deadline is not None
        and not passed
        and deadline <= today + datetime.timedelta(days=near_days(state))
    )
    return (not passed, not contract_lapsed, not near)


def _as_work_rows(rows, user, today: datetime.date) -> list[AdmissionRequest]:
    """Each row with what the work list says of it: the action, how long it waits and its
    deadline (the texts written here once, not by a template tag per row). A text is looked up
    once for all rows that share it: the translations and date formats of 50 rows took a sixth
    of the selector's time."""
    actions, waiting, deadlines = {}, {}, {}
    for row in rows:
        action_key = (
            row.state,
            row.assigned_location_manager_id == user.pk,
            row.outcome_recorded_at is None,
        )
        if action_key not in actions:
            actions[action_key] = _work_action_text(row, user)
        row.action = actions[action_key] % {"location": row.location.name}
        row.waiting_days = max((today - timezone.localtime(row.state_entered_at).date()).days, 0)
        if row.waiting_days not in waiting:
            waiting[row.waiting_days] = ngettext(
                "waiting %(days)s day", "waiting %(days)s days", row.waiting_days
            ) % {"days": row.waiting_days}
        row.waiting_text = waiting[row.waiting_days]
        row.deadline_text = ""
        if row.deadline is not None:
            deadline_key = (row.deadline, row.deadline_passed)
            if deadline_key not in deadlines:
                sentence = (
                    _("Deadline passed (%(date)s)")
                    if row.deadline_passed
                    else _("Complete before %(date)s")
                )
                deadlines[deadline_key] = sentence % {"date": date_format(row.deadline, "j F Y")}
            row.deadline_text = deadlines[deadline_key]
    return rows


def my_work_page(user, today: datetime.date, number, per_page: int) -> Page:
    """Page ``number`` of the user's work list as actions, most urgent first: past a deadline
    (the service norm of the step it is in, or a regularisation's grace period), then a lapsed
    contract, then a deadline near, then the longest waiting. Each row carries ``action``,
    ``waiting_days``, ``deadline`` with ``deadline_passed``/``deadline_near`` and
    ``contract_lapsed``. Three queries however long the list: the norms, a light read of every
    waiting row with the deadline of its step computed in the database
    (``step_deadline_expression``, held equal to ``step_deadline`` by the tests) to find the
    order, and the page's rows."""
    if not any(user.has_role(role) for role in REQUEST_WORK_ROLES):
        return Paginator([], per_page).get_page(number)  # no request waits for finance
    work = my_work(user, today)
    keys = work.annotate(sort_deadline=step_deadline_expression(Norms.load())).values_list(
        "pk", "state", "sort_deadline", "grace_ends_on", "contract_lapsed"
    )
    urgency = {}
    for pk, state, step_deadline, grace_ends_on, contract_lapsed in keys:
        deadline = _work_deadline(step_deadline, grace_ends_on, state)
        urgency[pk] = (deadline, contract_lapsed, _urgency(deadline, contract_lapsed, state, today))
    # In the longest-waiting order of ``my_work``; the stable sort keeps it among equals.
    order = sorted(urgency, key=lambda pk: urgency[pk][2])
    page = Paginator(order, per_page).get_page(number)
    pks = list(page.object_list)
    # The page's rows without the step clock's subqueries: the deadline came with the keys. A
    # row shows its location's city and post; every column of the request and the location is
    # read, so a rule that reads one never meets a deferred field.
    rows = AdmissionRequest.objects.filter(pk__in=pks).select_related("location__hap_post")
    by_pk = {}
    for row in rows:
        row.deadline, row.contract_lapsed, (not_passed, _lapsed, not_near) = urgency[row.pk]
        row.deadline_passed, row.deadline_near = not not_passed, not not_near
        by_pk[row.pk] = row
    page.object_list = _as_work_rows([by_pk[pk] for pk in pks if pk in by_pk], user, today)
    return page


def admission_request_for_user(user, pk: int) -> AdmissionRequest:
    """One request, or 404 when it does not exist *or* lies outside the user's region."""
    return get_object_or_404(admission_requests_visible_to(user), pk=pk)


def admission_request_detail(user, pk: int) -> AdmissionRequest:
    """One request for its page, or 404 (as ``admission_request_for_user``), in one query: with
    its step clock and norm (``request_step_deadline`` then reads nothing more), the contract
    it led to or renews, and ``has_clock_events`` (whether any deadline of it ever changed)."""
    queryset = with_step_clock(
        admission_requests_visible_to(user).select_related("resulting_contract", "renews_contract"),
        with_norm=True,
    ).annotate(has_clock_events=Exists(ClockEvent.objects.filter(admission_request=OuterRef("pk"))))
    return get_object_or_404(queryset, pk=pk)


def admission_request_history(admission_request: AdmissionRequest) -> QuerySet[TransitionLog]:
    content_type = ContentType.objects.get_for_model(AdmissionRequest)
    return (
        TransitionLog.objects.filter(content_type=content_type, object_id=admission_request.pk)
        # content_type: each row's state labels look up its model class through it.
        .select_related("by", "content_type")
        .order_by("timestamp", "pk")
    )


def _transition_meta(transition_name: str):
    return getattr(AdmissionRequest, transition_name)._django_fsm


def unmet_conditions(admission_request: AdmissionRequest, transition_name: str) -> list[str]:
    """Why the transition can't be taken now, in the user's words: the ``explain`` of each of its
    conditions that fails (empty when none fails, or the request is not at its source). The
    services refuse with these reasons, and the pages show them before the form is filled in,
    so the rule is the transition's condition, in one place."""
    transition = _transition_meta(transition_name).get_transition(admission_request.state)
    if transition is None:
        return []
    return [
        str(condition.explain(admission_request))
        if hasattr(condition, "explain")
        else _("This step's preconditions are not met.")
        for condition in transition.conditions
        if not condition(admission_request)
    ]


def may_take(admission_request: AdmissionRequest, user, transition_name: str) -> bool:
    """The request is at the transition's source and the user's role and region allow it (its
    conditions aside: see ``unmet_conditions``)."""
    meta = _transition_meta(transition_name)
    return meta.has_transition(admission_request.state) and meta.has_transition_perm(
        admission_request, admission_request.state, user or AnonymousUser()
    )


def blocked_transitions(
    admission_request: AdmissionRequest, user, transition_names
) -> dict[str, list[str]]:
    """Of ``transition_names``, those this user could take now but for a condition: name → the
    reasons. For the pages that say, before any form, what a step still waits for."""
    blocked = {}
    for name in transition_names:
        if may_take(admission_request, user, name):
            reasons = unmet_conditions(admission_request, name)
            if reasons:
                blocked[name] = reasons
    return blocked


def advice_choices(admission_request: AdmissionRequest, user, step: str) -> list[tuple[str, str]]:
    """The outcomes of ``step`` to offer, as (value, label): those the state machine lets this
    user record on this request now (the transitions from its state that record the step, that
    the user's role and region allow and whose conditions are met: a positive advice the
    checklist blocks is not offered; the page says why, from the same condition). A user who may
    record none of them is offered all of the step's outcomes, so that the service's refusal
    says why."""
    field = next(f for f in AdmissionRequest._meta.fields if isinstance(f, FSMFieldMixin))
    step_outcomes, permitted = [], []
    for transition in field.get_all_transitions(AdmissionRequest):
        if transition.custom.get("step") != step:
            continue
        choice = (transition.custom["outcome"], transition.custom["label"])
        step_outcomes.append(choice)
        if may_take(admission_request, user, transition.name) and not unmet_conditions(
            admission_request, transition.name
        ):
            permitted.append(choice)
    order = list(AdviceOutcome.values)
    return sorted(permitted or step_outcomes, key=lambda choice: order.index(choice[0]))


def outcomes_ending_procedure(step: str) -> frozenset[str]:
    """The outcomes of ``step`` whose transition ends the procedure without a contract (a
    negative advice, the council's rejection): read from the transitions' targets."""
    field = next(f for f in AdmissionRequest._meta.fields if isinstance(f, FSMFieldMixin))
    return frozenset(
        transition.custom["outcome"]
        for transition in field.get_all_transitions(AdmissionRequest)
        if transition.custom.get("step") == step and transition.target == S.REJECTED
    )


def who_acts_next(admission_request: AdmissionRequest) -> str:
    """What a success message says comes next: who the request now lies with, in Dutch words
    the office uses, or that the procedure has ended and how."""
    state = admission_request.state
    region = admission_request.location.region.name
    if state == RequestState.PRE_ASSESSMENT or (
        state == RequestState.CONTRACTING and admission_request.outcome_recorded_at is None
    ):
        manager = admission_request.assigned_location_manager
        name = (manager.get_full_name() or manager.username) if manager else ""
        who = _("location manager %(name)s") % {"name": name} if name else _("the location manager")
    elif state == RequestState.QUALITY_REVIEW:
        who = _("the quality team of %(region)s") % {"region": region}
    elif state == RequestState.COUNCIL_REVIEW:
        who = _("the regional council of %(region)s") % {"region": region}
    elif state in (RequestState.RECEIVED, RequestState.CONTRACTING):
        who = _("the regional secretariat of %(region)s") % {"region": region}
    else:
        return _("The procedure has ended: %(state)s.") % {
            "state": str(RequestState(state).label).lower()
        }
    return _("The request now lies with %(who)s.") % {"who": who}


@dataclass
class AdviceDossier:
    """What lies beside the quality team's and the council's form: the checklist's summary, the
    advices given so far and the request's documents."""

    checklist: AssessmentSummary | None
    advices: list[Advice]
    revisions: list
    contract_documents: list


def advice_dossier(admission_request: AdmissionRequest) -> AdviceDossier:
    """One read for the advice and decision pages, in a fixed number of queries: the latest
    revision's summary, every advice with its author, every revision (printable, as PDF) and,
    for a renewal, the signed documents of the contract it renews."""
    revisions = list(
        assessment_revisions(admission_request).select_related(
            "template", "admission_request__location"
        )
    )
    renewed = admission_request.renews_contract if admission_request.renews_contract_id else None
    return AdviceDossier(
        checklist=assessment_summary(revisions[0] if revisions else None),
        advices=list(
            admission_request.advices.select_related("decided_by").order_by("recorded_at")
        ),
        revisions=revisions,
        # Through the relation: the contracts app sits above the procedure.
        contract_documents=list(renewed.documents.all()) if renewed else [],
    )
