"""The daily job (seed 004, 7.1): open renewals three months before contracts end, remind whoever
must act, end grace periods, and flag what is overdue.

Exactly once, whatever happens to the job: every step is set-based and idempotent. What a step
creates is guarded by a unique constraint (one renewal request per contract; one reminder per
subject, kind and due date; one open triage-filter entry per location) and inserted with
``ignore_conflicts``, so running the job twice, concurrently, late or after a missed day creates
each thing once. Renewals are opened under ``SELECT … FOR UPDATE SKIP LOCKED`` on the contracts,
so a second job running at the same moment passes over contracts the first is handling.
E-mail goes out afterwards from the reminder rows (``reminders_send_pending``), each row locked
while it is sent and marked sent in the same transaction.

The number of queries of each step does not depend on the number of contracts.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import asdict, dataclass

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from ..constants import (
    TERMINAL_STATES,
    AdviceOutcome,
    AdviceStep,
    ContractEventKind,
    ReminderKind,
    RequestKind,
    RequestState,
    TriageFilterReason,
)
from ..models import (
    AdmissionRequest,
    Advice,
    BreachAction,
    Contract,
    ContractEvent,
    Reminder,
    TriageFilterEntry,
)
from ..models.contracts import renewal_horizon
from .contracts import triage_filter_delist_contracted

logger = logging.getLogger(__name__)

# Renewal reminders go out while the renewal is not finished; contracting included.
UNFINISHED_STATES = [state for state in RequestState.values if state not in TERMINAL_STATES]


@dataclass
class DailyJobReport:
    today: datetime.date
    renewals_opened: int = 0
    reminders_scheduled: int = 0
    locations_listed: int = 0
    locations_delisted: int = 0

    def as_dict(self) -> dict:
        return {**asdict(self), "today": self.today.isoformat()}


def daily_contract_job(today: datetime.date | None = None) -> DailyJobReport:
    """Run every step for ``today`` (Amsterdam date). Each step commits on its own, so a worker
    that dies half-way leaves finished steps done and the rerun finishes the rest."""
    today = today or timezone.localdate()
    report = DailyJobReport(today=today)
    report.renewals_opened = renewals_open_due(today)
    report.reminders_scheduled += renewal_reminders_schedule(today)
    report.reminders_scheduled += completion_reminders_schedule(today)
    report.reminders_scheduled += grace_reminders_schedule(today)
    report.locations_listed = grace_periods_end(today)
    report.reminders_scheduled += breach_action_reminders_schedule(today)
    with transaction.atomic():
        report.locations_delisted = triage_filter_delist_contracted(today)
    logger.info("daily contract job %s", report.as_dict())
    return report


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
        ).values_list(*REMINDER_SUBJECTS, "kind", "due_on")
    )
    new = [reminder for reminder in reminders if _key(reminder) not in existing]
    Reminder.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


# --- Renewals -------------------------------------------------------------------------------


def renewals_open_due(today: datetime.date) -> int:
    """A renewal request (kind renewal, in ``received``) for every running contract that ends
    within three months and has none yet; its location must not have another open request."""
    try:
        return _renewals_open_due(today)
    except IntegrityError:
        # A concurrent run committed some of the same renewals between this run's read and its
        # insert (the one-renewal-per-contract key refused them, nothing was doubled); a second
        # pass opens whatever that run left.
        logger.info("renewals: a concurrent run opened some renewals first; trying once more")
        return _renewals_open_due(today)


def _renewals_open_due(today: datetime.date) -> int:
    now = timezone.now()
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
                    state_entered_at=now,
                )
            )
        AdmissionRequest.objects.bulk_create(requests)
        ContractEvent.objects.bulk_create(
            ContractEvent(
                contract=contract,
                kind=ContractEventKind.RENEWAL_OPENED,
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


# A contract that lapsed without any renewal is reported within this many days of its end: the
# job catches up after a missed month, and a first deployment does not mail about every contract
# that ended before the system existed (the register flags them all the same).
LAPSED_LOOKBACK_DAYS = 31


def renewal_reminders_schedule(today: datetime.date) -> int:
    """At 90, 60, 30 and 7 days before the end date while the renewal is unfinished, and once
    when the contract lapses without a completed renewal."""
    offsets = settings.RENEWAL_REMINDER_DAYS
    window_end = today + datetime.timedelta(days=max(offsets))
    with transaction.atomic():
        rows = Contract.objects.filter(
            terminated_on__isnull=True,
            renewal_request__state__in=UNFINISHED_STATES,
            end_date__lte=window_end,
        ).values_list("pk", "end_date")
        reminders = []
        for contract_id, end_date in rows:
            if end_date < today:
                reminders.append(
                    Reminder(
                        kind=ReminderKind.RENEWAL_LAPSED,
                        contract_id=contract_id,
                        due_on=end_date + datetime.timedelta(days=1),
                    )
                )
                continue
            due_on = _latest_due(end_date, offsets, today)
            if due_on is not None:
                reminders.append(
                    Reminder(kind=ReminderKind.RENEWAL_DUE, contract_id=contract_id, due_on=due_on)
                )
        # A contract whose renewal could not be opened (its location had another request open
        # all along) lapses too: the secretariat hears of it once.
        from ..selectors.contracts import lapsed_unrenewed

        never_renewed = Contract.objects.filter(
            lapsed_unrenewed(),
            renewal_request__isnull=True,
            end_date__lt=today,
            end_date__gte=today - datetime.timedelta(days=LAPSED_LOOKBACK_DAYS),
        ).values_list("pk", "end_date")
        reminders += [
            Reminder(
                kind=ReminderKind.RENEWAL_LAPSED,
                contract_id=contract_id,
                due_on=end_date + datetime.timedelta(days=1),
            )
            for contract_id, end_date in never_renewed
        ]
        return _insert_reminders(reminders)


# --- Completion deadline ----------------------------------------------------------------------


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


def completion_deadline(approved_on: datetime.date) -> datetime.date:
    """Seed 004, 7.1: "een termijn … van 6 maanden na het besluit om dit af te ronden"."""
    return approved_on + relativedelta(months=settings.COMPLETION_DEADLINE_MONTHS)


def completion_reminders_schedule(today: datetime.date) -> int:
    offsets = settings.COMPLETION_REMINDER_DAYS
    # Requests whose deadline is near enough to remind; a few days' slack for month ends, the
    # exact date is computed below.
    approved_before = (
        today
        + datetime.timedelta(days=max(offsets) + 3)
        - relativedelta(months=settings.COMPLETION_DEADLINE_MONTHS)
    )
    with transaction.atomic():
        rows = (
            AdmissionRequest.objects.filter(state=RequestState.CONTRACTING)
            .annotate(approved_on=council_approval_date())
            .filter(approved_on__lte=approved_before)
            .values_list("pk", "approved_on")
        )
        reminders = []
        for request_id, approved_on in rows:
            deadline = completion_deadline(approved_on)
            if deadline < today:
                reminders.append(
                    Reminder(
                        kind=ReminderKind.COMPLETION_OVERDUE,
                        admission_request_id=request_id,
                        due_on=deadline + datetime.timedelta(days=1),
                    )
                )
                continue
            due_on = _latest_due(deadline, offsets, today)
            if due_on is not None:
                reminders.append(
                    Reminder(
                        kind=ReminderKind.COMPLETION_DUE,
                        admission_request_id=request_id,
                        due_on=due_on,
                    )
                )
        return _insert_reminders(reminders)


# --- Grace periods ----------------------------------------------------------------------------


def grace_reminders_schedule(today: datetime.date) -> int:
    offsets = settings.GRACE_REMINDER_DAYS
    with transaction.atomic():
        rows = AdmissionRequest.objects.filter(
            kind=RequestKind.REGULARISATION,
            grace_ends_on__gte=today,
            grace_ends_on__lte=today + datetime.timedelta(days=max(offsets)),
        ).exclude(state=RequestState.CONTRACTED)
        reminders = []
        for request_id, grace_ends_on in rows.values_list("pk", "grace_ends_on"):
            due_on = _latest_due(grace_ends_on, offsets, today)
            if due_on is not None:
                reminders.append(
                    Reminder(
                        kind=ReminderKind.GRACE_ENDING,
                        admission_request_id=request_id,
                        due_on=due_on,
                    )
                )
        return _insert_reminders(reminders)


def grace_periods_end(today: datetime.date) -> int:
    """A grace period that ended without a contract marks the location uncontracted (the
    GRACE_ENDED reminder row is the mark, and tells the secretariat and location manager). A
    Wlz-with-treatment location also goes on the triage filter list: no ANW care without an
    agreement (seed 004, 7.1 and 7.2); the residents of other locations are registered (ION)
    patients and are never refused. Each request is handled once. Returns the locations
    listed."""
    contracted_today = Contract.objects.active_on(today).filter(
        Q(location_id=OuterRef("location_id")) | Q(other_locations=OuterRef("location_id"))
    )
    with transaction.atomic():
        ended = list(
            # A regularisation that ended in a contract has no grace period left to end.
            AdmissionRequest.objects.filter(
                kind=RequestKind.REGULARISATION, grace_ends_on__lt=today
            )
            .exclude(state=RequestState.CONTRACTED)
            .exclude(
                Exists(
                    Reminder.objects.filter(
                        admission_request=OuterRef("pk"), kind=ReminderKind.GRACE_ENDED
                    )
                )
            )
            .exclude(Exists(contracted_today))
            .values_list("pk", "location_id", "grace_ends_on", "location__wlz_treatment_admission")
            .distinct()
        )
        if not ended:
            return 0
        listed = [
            (location_id, grace_ends_on)
            for _pk, location_id, grace_ends_on, treatment in ended
            if treatment
        ]
        TriageFilterEntry.objects.bulk_create(
            [
                TriageFilterEntry(
                    location_id=location_id,
                    reason=TriageFilterReason.GRACE_PERIOD_ENDED,
                    listed_on=grace_ends_on + datetime.timedelta(days=1),
                )
                for location_id, grace_ends_on in listed
            ],
            ignore_conflicts=True,
        )
        _insert_reminders(
            [
                Reminder(
                    kind=ReminderKind.GRACE_ENDED,
                    admission_request_id=request_id,
                    due_on=grace_ends_on + datetime.timedelta(days=1),
                )
                for request_id, _location, grace_ends_on, _treatment in ended
            ]
        )
    return len({location_id for location_id, _date in listed})


# --- Breach actions ---------------------------------------------------------------------------


def breach_action_reminders_schedule(today: datetime.date) -> int:
    with transaction.atomic():
        overdue = (
            BreachAction.objects.filter(completed_on__isnull=True, deadline__lt=today)
            .exclude(
                Exists(
                    Reminder.objects.filter(
                        breach_action=OuterRef("pk"), kind=ReminderKind.BREACH_ACTION_OVERDUE
                    )
                )
            )
            .values_list("pk", "deadline")
        )
        return _insert_reminders(
            [
                Reminder(
                    kind=ReminderKind.BREACH_ACTION_OVERDUE,
                    breach_action_id=action_id,
                    due_on=deadline + datetime.timedelta(days=1),
                )
                for action_id, deadline in overdue
            ]
        )
