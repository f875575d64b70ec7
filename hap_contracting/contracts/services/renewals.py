"""The contracts' daily steps (seed 004, 7.1): open renewals three months before contracts end,
and schedule the reminders to whoever must act: renewals due and lapsed, completion deadlines,
grace periods ending and ended, breach actions overdue. ``operations.services.daily_job`` runs
them every morning, with the other apps' daily steps.

Exactly once, whatever happens to the job: every step is set-based and idempotent. What a step
creates is guarded by a unique constraint (one renewal request per contract; one reminder per
subject, kind and due date) and inserted with ``ignore_conflicts``, so running the job twice,
concurrently, late or after a missed day creates each thing once. Renewals are opened under
``SELECT … FOR UPDATE SKIP LOCKED`` on the contracts, so a second job running at the same moment
passes over contracts the first is handling. E-mail goes out afterwards from the reminder rows
(``reminders.reminders_send_pending``), each row locked while it is sent and marked sent in the
same transaction.

The number of queries of each step does not depend on the number of contracts.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hap_contracting.procedure.constants import UNFINISHED_STATES, RequestKind, RequestState
from hap_contracting.procedure.models import AdmissionRequest, Norms
from hap_contracting.procedure.selectors.deadlines import with_step_clock, with_step_deadlines

from ..constants import ContractEventKind, ReminderKind
from ..models import BreachAction, Contract, ContractEvent, Reminder, renewal_horizon
from ..selectors import contract_covers, lapsed_unrenewed

logger = logging.getLogger(__name__)
K = ReminderKind

# A contract that lapsed without any renewal is reported within this many days of its end: the
# job catches up after a missed month, and a first deployment does not mail about every contract
# that ended before the system existed (the register flags them all the same).
LAPSED_LOOKBACK_DAYS = 31


def _latest_due(target: datetime.date, offsets: list[int], today: datetime.date):
    """The most recent ``target - offset`` that has arrived, or None. After a missed day the
    job catches up with that one reminder, not with every older one it missed."""
    arrived = [target - datetime.timedelta(days=days) for days in offsets]
    arrived = [day for day in arrived if day <= today]
    return max(arrived) if arrived else None


REMINDER_SUBJECTS = ("contract_id", "admission_request_id", "breach_action_id")


def _key(reminder: Reminder) -> tuple:
    return (
        *(getattr(reminder, field) for field in REMINDER_SUBJECTS),
        reminder.kind,
        reminder.step,
        reminder.due_on,
    )


def _insert_reminders(reminders: list[Reminder]) -> int:
    """Insert the reminders not there yet; returns how many were new, so that a rerun reports
    nothing scheduled. One query to find the existing ones, one insert; the unique indexes
    (``ON CONFLICT DO NOTHING``) still settle a race with a concurrent run."""
    if not reminders:
        return 0
    subjects = Q()
    for field in REMINDER_SUBJECTS:
        ids = {getattr(reminder, field) for reminder in reminders} - {None}
        if ids:
            subjects |= Q(**{f"{field}__in": ids})
    existing = set(
        Reminder.objects.filter(
            subjects,
            kind__in={reminder.kind for reminder in reminders},
            due_on__in={reminder.due_on for reminder in reminders},
        ).values_list(*REMINDER_SUBJECTS, "kind", "step", "due_on")
    )
    new = [reminder for reminder in reminders if _key(reminder) not in existing]
    Reminder.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


# --- Renewals ---------------------------------------------------------------------------------


def renewals_open_due(today: datetime.date, *, at: datetime.datetime | None = None) -> int:
    """A renewal request (kind renewal, in ``received``) for every running contract that ends
    within three months and has none yet; its location must not have another open request.
    ``at``: when the job ran, if not now (the demo's history; on ``today``)."""
    try:
        return _renewals_open_due(today, at)
    except IntegrityError:
        # A concurrent run committed some of the same renewals between this run's read and its
        # insert (the one-renewal-per-contract key refused them, nothing was doubled); a second
        # pass opens whatever that run left.
        logger.info("renewals: a concurrent run opened some renewals first; trying once more")
        return _renewals_open_due(today, at)


def _renewals_open_due(today: datetime.date, at: datetime.datetime | None) -> int:
    now = at or timezone.now()
    location_busy = AdmissionRequest.objects.filter(
        location_id=OuterRef("location_id"), state__in=UNFINISHED_STATES
    )
    with transaction.atomic():
        due = list(
            Contract.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                terminated_on__isnull=True,
                end_date__gte=today,
                end_date__lte=renewal_horizon(today),
                renewal_request__isnull=True,
                next_contract__isnull=True,
            )
            .exclude(Exists(location_busy))
            .select_related("organisation", "admission_request")
            .order_by("pk")
        )
        if not due:
            return 0
        requests = []
        for contract in due:
            previous = contract.admission_request
            requests.append(
                AdmissionRequest(
                    location_id=contract.location_id,
                    kind=RequestKind.RENEWAL,
                    renews_contract=contract,
                    requester_name=previous.requester_name
                    if previous
                    else contract.organisation.name,
                    requester_email=previous.requester_email
                    if previous
                    else contract.organisation.contact_email,
                    requester_phone=previous.requester_phone if previous else "",
                    received_on=today,
                    notes=_("Opened by the daily job: contract %(reference)s ends on %(end)s.")
                    % {
                        "reference": contract.reference,
                        "end": contract.end_date.strftime("%d-%m-%Y"),
                    },
                    created_at=now,
                    state_entered_at=now,
                )
            )
        AdmissionRequest.objects.bulk_create(requests)
        ContractEvent.objects.bulk_create(
            ContractEvent(
                contract=contract,
                kind=ContractEventKind.RENEWAL_OPENED,
                at=now,
                description=_("Renewal request %(reference)s opened.")
                % {"reference": renewal.reference},
            )
            for contract, renewal in zip(due, requests, strict=True)
        )
        _insert_reminders(
            [
                Reminder(kind=ReminderKind.RENEWAL_OPENED, contract=contract, due_on=today)
                for contract in due
            ]
        )
    return len(due)


# --- Reminders: one countdown per kind of deadline ------------------------------------------


@dataclass(frozen=True)
class Countdown:
    """Reminders that count down to a date of a subject (a contract, a request, a breach
    action): ``before`` at each of ``offsets`` days before it, and ``after`` once, the day
    after it passed. ``rows(today)`` gives (subject id, the date counted down to) for the
    subjects that may need one today, in one query; a row may add the reminder's ``step``
    (the step whose norm it counts down) as its third item."""

    subject: str  # the Reminder field: contract_id, admission_request_id or breach_action_id
    rows: Callable[[datetime.date], Iterable[tuple]]
    before: str | None = None
    after: str | None = None
    offsets: Callable[[], list[int]] = lambda: []

    def reminders(self, today: datetime.date) -> list[Reminder]:
        reminders = []
        for subject_id, target, *step in self.rows(today):
            if target < today:
                kind, due_on = self.after, target + datetime.timedelta(days=1)
            else:
                kind, due_on = self.before, _latest_due(target, self.offsets(), today)
            if kind is not None and due_on is not None:
                reminders.append(
                    Reminder(
                        kind=kind,
                        due_on=due_on,
                        step=step[0] if step else "",
                        **{self.subject: subject_id},
                    )
                )
        return reminders


def _window(offsets: list[int], today: datetime.date) -> datetime.date:
    return today + datetime.timedelta(days=max(offsets, default=0))


def _renewals_unfinished(today: datetime.date):
    """Contracts ending soon, or ended, with their renewal request still unfinished."""
    return Contract.objects.filter(
        terminated_on__isnull=True,
        renewal_request__state__in=UNFINISHED_STATES,
        end_date__lte=_window(settings.RENEWAL_REMINDER_DAYS, today),
    ).values_list("pk", "end_date")


def _never_renewed(today: datetime.date):
    """Contracts that lapsed recently without a renewal request (their location had another
    request open all along): the secretariat hears of it once."""
    return Contract.objects.filter(
        lapsed_unrenewed(),
        renewal_request__isnull=True,
        end_date__lt=today,
        end_date__gte=today - datetime.timedelta(days=LAPSED_LOOKBACK_DAYS),
    ).values_list("pk", "end_date")


def _completion_deadlines(today: datetime.date):
    """Requests in contracting with their deadline: the contracting norm (six months, seed 004,
    7.1) after the council's approval, plus its extensions (``selectors.deadlines``). Only the
    requests approved long enough ago are read (the longest norm of any region, a few days'
    slack for month ends); two queries."""
    norms = Norms.load()
    approved_before = (
        _window(settings.COMPLETION_REMINDER_DAYS, today)
        + datetime.timedelta(days=3)
        - norms.longest(RequestState.CONTRACTING)
    )
    rows = with_step_clock(
        AdmissionRequest.objects.filter(state=RequestState.CONTRACTING).order_by("pk")
    ).filter(clock_approved_on__lte=approved_before)
    return [
        (row.pk, row.step_deadline)
        for row in with_step_deadlines(rows, today, norms)
        if row.step_deadline is not None
    ]


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
    quality team's suspended days) is near or passed, with the step: two queries."""
    window = _window(settings.STEP_REMINDER_DAYS, today)
    rows = with_step_clock(AdmissionRequest.objects.filter(state__in=STEPS_WARNED).order_by("pk"))
    return [
        (row.pk, row.step_deadline, row.state)
        for row in with_step_deadlines(rows, today)
        if row.step_deadline is not None and row.step_deadline <= window
    ]


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
        .values_list("pk", "grace_ends_on")
    )


def _breach_actions_overdue(today: datetime.date):
    return (
        BreachAction.objects.filter(completed_on__isnull=True, deadline__lt=today)
        .exclude(
            Exists(
                Reminder.objects.filter(breach_action=OuterRef("pk"), kind=K.BREACH_ACTION_OVERDUE)
            )
        )
        .values_list("pk", "deadline")
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
    """Every countdown's reminders due by today; returns how many are new."""
    scheduled = 0
    for countdown in COUNTDOWNS:
        with transaction.atomic():
            scheduled += _insert_reminders(countdown.reminders(today))
    return scheduled
