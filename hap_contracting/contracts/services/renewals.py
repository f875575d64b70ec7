"""The contracts' daily steps (seed 004, 7.1): open renewals three months before contracts end,
and schedule the reminders to whoever must act: renewals due and lapsed, completion deadlines,
grace periods ending and ended, breach actions overdue. ``operations.services.daily_job`` runs
them every morning, with the other apps' daily steps.

Exactly once, whatever happens to the job: every step is set-based and idempotent. What a step
creates is guarded by a unique constraint (one renewal request per contract; one reminder per
subject, kind and due date) and inserted with ``ON CONFLICT DO NOTHING``, so running the job
twice, concurrently, late or after a missed day creates each thing once. Renewals are opened
under ``SELECT … FOR UPDATE SKIP LOCKED`` on the contracts, so a second job running at the same
moment passes over contracts the first is handling. E-mail goes out afterwards from the reminder
rows (``reminders.reminders_send_pending``), each row locked while it is sent and marked sent in
the same transaction.

Each step is a fixed number of ``INSERT … SELECT`` statements (``core.sql``), whatever the
number of contracts: the rows are chosen and computed in the database and never pass through
Python. Opening a renewal takes no transition (the request starts in ``received``, the state it
is created in), so no transition history row is written for it, as before.
"""

from __future__ import annotations

import datetime
import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import (
    Case,
    CharField,
    DateField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan, LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext as _

from hap_contracting.core.sql import (
    AddDays,
    DayMonthYear,
    RandomUUID,
    Row,
    insert_from,
    insert_select,
    interpolate,
    padded_number,
)
from hap_contracting.procedure.constants import UNFINISHED_STATES, RequestKind, RequestState
from hap_contracting.procedure.models import AdmissionRequest, Norms
from hap_contracting.procedure.selectors.deadlines import step_deadline_expression, with_step_clock

from ..constants import ContractEventKind, ReminderKind
from ..models import BreachAction, Contract, ContractEvent, Reminder, renewal_horizon
from ..selectors import contract_covers, lapsed_unrenewed

K = ReminderKind

# A contract that lapsed without any renewal is reported within this many days of its end: the
# job catches up after a missed month, and a first deployment does not mail about every contract
# that ended before the system existed (the register flags them all the same).
LAPSED_LOOKBACK_DAYS = 31


# --- Renewals ---------------------------------------------------------------------------------


def renewals_open_due(today: datetime.date, *, at: datetime.datetime | None = None) -> int:
    """A renewal request (kind renewal, in ``received``) for every running contract that ends
    within three months and has none yet; its location must not have another open request.
    ``at``: when the job ran, if not now (the demo's history; on ``today``). Three statements:
    the requests, the contracts' history rows and the reminders, each ``INSERT … SELECT``."""
    now = at or timezone.now()
    location_busy = AdmissionRequest.objects.filter(
        location_id=OuterRef("location_id"), state__in=UNFINISHED_STATES
    )
    # Locked without joins (``FOR UPDATE`` refuses the nullable side of an outer join).
    due = (
        Contract.objects.select_for_update(skip_locked=True)
        .filter(
            terminated_on__isnull=True,
            end_date__gte=today,
            end_date__lte=renewal_horizon(today),
        )
        .exclude(Exists(AdmissionRequest.objects.filter(renews_contract=OuterRef("pk"))))
        .exclude(Exists(Contract.objects.filter(previous_contract=OuterRef("pk"))))
        .exclude(Exists(location_busy))
        .order_by()
        .values("pk")
    )
    no_previous = Q(admission_request__isnull=True)
    with transaction.atomic():
        # A contract a concurrent run renewed first is passed over (its lock, or the key of one
        # renewal per contract and of one open request per location), never renewed twice.
        opened = insert_from(
            AdmissionRequest,
            Contract.objects.filter(pk__in=due).order_by("pk"),
            {
                "location_id": F("location_id"),
                "kind": RequestKind.RENEWAL,
                "renews_contract_id": F("pk"),
                "requester_name": Case(
                    When(no_previous, then=F("organisation__name")),
                    default=F("admission_request__requester_name"),
                ),
                "requester_email": Case(
                    When(no_previous, then=F("organisation__contact_email")),
                    default=F("admission_request__requester_email"),
                ),
                "requester_phone": Coalesce(F("admission_request__requester_phone"), Value("")),
                "received_on": today,
                "notes": interpolate(
                    _("Opened by the daily job: contract %(reference)s ends on %(end)s."),
                    reference=padded_number("C-", F("pk")),
                    end=DayMonthYear(F("end_date")),
                ),
                "public_token": RandomUUID(),
                "created_at": now,
                "state_entered_at": now,
            },
            ignore_conflicts=True,
        )
        # The requests this run opened: made at ``now`` by nobody (the job).
        renewals = AdmissionRequest.objects.filter(
            kind=RequestKind.RENEWAL,
            received_on=today,
            created_at=now,
            created_by__isnull=True,
            renews_contract__isnull=False,
        )
        insert_from(
            ContractEvent,
            renewals.exclude(
                Exists(
                    ContractEvent.objects.filter(
                        contract=OuterRef("renews_contract"), kind=ContractEventKind.RENEWAL_OPENED
                    )
                )
            ).order_by("pk"),
            {
                "contract_id": F("renews_contract_id"),
                "kind": ContractEventKind.RENEWAL_OPENED,
                "at": now,
                "description": interpolate(
                    _("Renewal request %(reference)s opened."),
                    reference=padded_number("A-", F("pk")),
                ),
            },
        )
        insert_from(
            Reminder,
            renewals.order_by("pk"),
            {
                "kind": ReminderKind.RENEWAL_OPENED,
                "contract_id": F("renews_contract_id"),
                "due_on": today,
                "created_at": timezone.now(),
            },
            ignore_conflicts=True,
        )
    return opened


# --- Reminders: one countdown per kind of deadline ------------------------------------------


@dataclass(frozen=True)
class Countdown:
    """Reminders that count down to a date of a subject (a contract, a request, a breach
    action): ``before`` at each of ``offsets`` days before it, and ``after`` once, the day
    after it passed; after missed days only the latest reminder that fell due (not every older
    one). ``rows(today)`` gives, as a ``values()`` queryset, ``subject`` (the subject's id) and
    ``target`` (the date counted down to) of the subjects that may need one today, and may add
    ``step`` (the step whose norm it counts down). One ``INSERT … SELECT`` writes the
    reminders not there yet."""

    subject: str  # the Reminder field: contract_id, admission_request_id or breach_action_id
    rows: Callable[[datetime.date], QuerySet]
    before: str | None = None
    after: str | None = None
    offsets: Callable[[], list[int]] = lambda: []

    def schedule(self, today: datetime.date) -> int:
        """The reminders due by ``today`` that are not there yet; returns how many are new."""
        target = Row("target", output_field=DateField())
        passed = LessThan(target, Value(today))
        kinds, due_on, due = [], [], []
        if self.after is not None:
            kinds.append(When(passed, then=Value(self.after)))
            due_on.append(When(passed, then=AddDays(target, 1)))
            due.append(Q(passed))
        offsets = sorted(self.offsets())
        if self.before is not None and offsets:
            # The latest ``target - offset`` that has arrived: the smallest offset that reaches.
            kinds.append(When(~Q(passed), then=Value(self.before)))
            due_on += [
                When(
                    LessThanOrEqual(target, Value(today + _days(offset))),
                    then=AddDays(target, -offset),
                )
                for offset in offsets
            ]
            due.append(~Q(passed) & Q(LessThanOrEqual(target, Value(today + _days(offsets[-1])))))
        rows = self.rows(today)
        return insert_select(
            Reminder,
            rows,
            {
                self.subject: Row("subject"),
                "kind": Case(*kinds, output_field=CharField()),
                "due_on": Case(*due_on, output_field=DateField()),
                "step": Row("step") if "step" in rows._fields else "",
                "created_at": timezone.now(),
            },
            where=functools.reduce(operator.or_, due),
            ignore_conflicts=True,
        )


def _days(days: int) -> datetime.timedelta:
    return datetime.timedelta(days=days)


def _window(offsets: list[int], today: datetime.date) -> datetime.date:
    return today + datetime.timedelta(days=max(offsets, default=0))


def _renewals_unfinished(today: datetime.date):
    """Contracts ending soon, or ended, with their renewal request still unfinished."""
    return Contract.objects.filter(
        terminated_on__isnull=True,
        renewal_request__state__in=UNFINISHED_STATES,
        end_date__lte=_window(settings.RENEWAL_REMINDER_DAYS, today),
    ).values(subject=F("pk"), target=F("end_date"))


def _never_renewed(today: datetime.date):
    """Contracts that lapsed recently without a renewal request (their location had another
    request open all along): the secretariat hears of it once."""
    return Contract.objects.filter(
        lapsed_unrenewed(),
        renewal_request__isnull=True,
        end_date__lt=today,
        end_date__gte=today - datetime.timedelta(days=LAPSED_LOOKBACK_DAYS),
    ).values(subject=F("pk"), target=F("end_date"))


def _completion_deadlines(today: datetime.date):
    """Requests in contracting with their deadline: the contracting norm (six months, seed 004,
    7.1) after the council's approval, plus its extensions (``selectors.deadlines``). Only the
    requests approved long enough ago are read (the longest norm of any region, a few days'
    slack for month ends). The deadline is computed in the query (one more for the norms)."""
    norms = Norms.load()
    approved_before = (
        _window(settings.COMPLETION_REMINDER_DAYS, today)
        + datetime.timedelta(days=3)
        - norms.longest(RequestState.CONTRACTING)
    )
    return (
        with_step_clock(AdmissionRequest.objects.filter(state=RequestState.CONTRACTING))
        .filter(clock_approved_on__lte=approved_before)
        .order_by()
        .values(subject=F("pk"), target=step_deadline_expression(norms))
    )


# The steps before the council's decision: their norms are warned of here (contracting by its
# own countdown above, which says what the deadline means).
STEPS_WARNED = (
    RequestState.RECEIVED,
    RequestState.PRE_ASSESSMENT,
    RequestState.QUALITY_REVIEW,
    RequestState.COUNCIL_REVIEW,
)


def _step_deadlines(today: datetime.date):
    """Requests before the decision whose step's deadline (its norm, its extensions, the
    quality team's suspended days) may be near or passed, with the step; the deadline is
    computed in the query (one more for the norms)."""
    return (
        with_step_clock(AdmissionRequest.objects.filter(state__in=STEPS_WARNED))
        .order_by()
        .values(subject=F("pk"), target=step_deadline_expression(Norms.load()), step=F("state"))
    )


def _grace_periods(today: datetime.date):
    """Regularisations not contracted whose grace period ends soon, or ended while no contract
    covers the location (not yet marked uncontracted)."""
    return (
        AdmissionRequest.objects.filter(
            kind=RequestKind.REGULARISATION,
            grace_ends_on__lte=_window(settings.GRACE_REMINDER_DAYS, today),
        )
        .exclude(state=RequestState.CONTRACTED)
        .exclude(
            Exists(Reminder.objects.filter(admission_request=OuterRef("pk"), kind=K.GRACE_ENDED))
        )
        .exclude(Q(grace_ends_on__lt=today) & contract_covers(OuterRef("location_id"), today))
        .order_by()
        .values(subject=F("pk"), target=F("grace_ends_on"))
    )


def _breach_actions_overdue(today: datetime.date):
    return (
        BreachAction.objects.filter(completed_on__isnull=True, deadline__lt=today)
        .exclude(
            Exists(
                Reminder.objects.filter(breach_action=OuterRef("pk"), kind=K.BREACH_ACTION_OVERDUE)
            )
        )
        .order_by()
        .values(subject=F("pk"), target=F("deadline"))
    )


COUNTDOWNS = (
    # At 90, 60, 30 and 7 days before the end date while the renewal is unfinished, and once
    # when the contract lapses without a completed renewal.
    Countdown(
        "contract_id",
        _renewals_unfinished,
        before=K.RENEWAL_DUE,
        after=K.RENEWAL_LAPSED,
        offsets=lambda: settings.RENEWAL_REMINDER_DAYS,
    ),
    Countdown("contract_id", _never_renewed, after=K.RENEWAL_LAPSED),
    Countdown(
        "admission_request_id",
        _completion_deadlines,
        before=K.COMPLETION_DUE,
        after=K.COMPLETION_OVERDUE,
        offsets=lambda: settings.COMPLETION_REMINDER_DAYS,
    ),
    # A grace period that ended without a contract marks the location uncontracted: the
    # GRACE_ENDED reminder is the mark and tells the secretariat and the location manager.
    Countdown(
        "admission_request_id",
        _grace_periods,
        before=K.GRACE_ENDING,
        after=K.GRACE_ENDED,
        offsets=lambda: settings.GRACE_REMINDER_DAYS,
    ),
    Countdown("breach_action_id", _breach_actions_overdue, after=K.BREACH_ACTION_OVERDUE),
    # Each step's service norm: ``STEP_REMINDER_DAYS`` before it runs out to whoever must act,
    # and once when it has run out, to them and the region's secretariat. An extension moves
    # the deadline, and the new deadline is warned of in its turn.
    Countdown(
        "admission_request_id",
        _step_deadlines,
        before=K.STEP_DUE,
        after=K.STEP_OVERDUE,
        offsets=lambda: settings.STEP_REMINDER_DAYS,
    ),
)


def reminders_schedule(today: datetime.date) -> int:
    """Every countdown's reminders due by today; returns how many are new. One statement per
    countdown (and one for the norms of each of the two deadline countdowns)."""
    scheduled = 0
    for countdown in COUNTDOWNS:
        with transaction.atomic():
            scheduled += countdown.schedule(today)
    return scheduled
