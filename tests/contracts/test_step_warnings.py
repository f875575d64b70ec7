"""Warnings of the steps' service norms, by the daily job with the reminders' guarantees: one
before the norm runs out to whoever must act, one once it has run out to them and the region's
secretariat; each exactly once, whatever the job's reruns."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from hap_contracting.contracts.constants import ReminderKind
from hap_contracting.contracts.models import Reminder
from hap_contracting.contracts.services.reminders import reminders_send_pending
from hap_contracting.core.roles import Role
from hap_contracting.operations.services import daily_job
from hap_contracting.procedure.constants import RequestState
from hap_contracting.procedure.models import AdmissionRequest
from hap_contracting.procedure.services.deadlines import admission_request_extend_deadline
from tests.organisations.factories import CareLocationFactory
from tests.procedure.factories import AdmissionRequestFactory

S = RequestState
K = ReminderKind
pytestmark = pytest.mark.django_db

ENTERED = datetime.date(2026, 9, 1)
# Six weeks at the council.
DEADLINE = ENTERED + datetime.timedelta(weeks=6)


def days(n):
    return datetime.timedelta(days=n)


def run(today):
    report = daily_job(today)
    reminders_send_pending()
    return report


@pytest.fixture
def at_council(location, staff):
    return AdmissionRequestFactory(
        at_council=True,
        location=location,
        created_by=staff[Role.SECRETARIAT],
        state_entered_at=timezone.make_aware(datetime.datetime.combine(ENTERED, datetime.time(10))),
    )


def step_reminders(request):
    return list(
        Reminder.objects.filter(admission_request=request, kind__in=[K.STEP_DUE, K.STEP_OVERDUE])
        .order_by("due_on")
        .values_list("kind", "step", "due_on")
    )


def test_nothing_is_warned_well_within_the_norm(at_council):
    run(DEADLINE - days(8))

    assert step_reminders(at_council) == []


def test_the_council_is_warned_a_week_before_its_norm_runs_out_once(at_council, staff):
    run(DEADLINE - days(7))
    sent = sorted(message.to[0] for message in mail.outbox)

    again = run(DEADLINE - days(7))
    run(DEADLINE - days(3))

    assert step_reminders(at_council) == [(K.STEP_DUE, S.COUNCIL_REVIEW, DEADLINE - days(7))]
    assert sent == [staff[Role.REGIONAL_COUNCIL].email]
    assert len(mail.outbox) == 1
    assert again.reminders_scheduled == 0
    body = mail.outbox[0].body
    assert at_council.reference in body
    assert DEADLINE.strftime("%d-%m-%Y") in body


def test_once_the_norm_has_run_out_the_secretariat_is_warned_too_once(at_council, staff):
    run(DEADLINE + days(1))
    sent = sorted(message.to[0] for message in mail.outbox)

    run(DEADLINE + days(1))
    run(DEADLINE + days(2))
    run(DEADLINE + days(30))

    assert step_reminders(at_council) == [(K.STEP_OVERDUE, S.COUNCIL_REVIEW, DEADLINE + days(1))]
    assert sent == sorted([staff[Role.REGIONAL_COUNCIL].email, staff[Role.SECRETARIAT].email])
    assert len(mail.outbox) == 2
    assert "overschreden" in mail.outbox[0].body or "overschreden" in mail.outbox[0].subject


def test_the_day_the_norm_runs_out_is_still_within_it(at_council):
    run(DEADLINE)

    assert [kind for kind, _step, _due in step_reminders(at_council)] == [K.STEP_DUE]


def test_an_extension_moves_the_warnings_to_the_new_deadline(at_council, staff):
    run(DEADLINE - days(7))
    admission_request_extend_deadline(
        admission_request=at_council,
        by=staff[Role.SECRETARIAT],
        days=14,
        reason="Extra vergadering nodig.",
    )

    run(DEADLINE + days(1))  # no longer over: nothing new
    run(DEADLINE + days(7))  # a week before the new deadline

    assert step_reminders(at_council) == [
        (K.STEP_DUE, S.COUNCIL_REVIEW, DEADLINE - days(7)),
        (K.STEP_DUE, S.COUNCIL_REVIEW, DEADLINE + days(7)),
    ]


def test_an_ended_procedure_gets_no_step_warning(location):
    AdmissionRequestFactory(
        location=location,
        state=S.REJECTED,
        state_entered_at=timezone.make_aware(datetime.datetime.combine(ENTERED, datetime.time(10))),
    )

    run(DEADLINE + days(1))

    assert not Reminder.objects.filter(kind__in=[K.STEP_DUE, K.STEP_OVERDUE]).exists()


def test_the_offset_is_a_setting(at_council, settings):
    settings.STEP_REMINDER_DAYS = [3]

    run(DEADLINE - days(7))
    run(DEADLINE - days(3))

    assert step_reminders(at_council) == [(K.STEP_DUE, S.COUNCIL_REVIEW, DEADLINE - days(3))]


def test_scheduling_the_step_warnings_runs_a_constant_number_of_queries(
    location, django_assert_max_num_queries
):
    from hap_contracting.contracts.services.renewals import _step_deadlines

    for _ in range(15):
        AdmissionRequestFactory(
            at_council=True,
            location=CareLocationFactory(hap_post=location.hap_post),
            state_entered_at=timezone.make_aware(
                datetime.datetime.combine(ENTERED, datetime.time(10))
            ),
        )

    with django_assert_max_num_queries(2):
        rows = _step_deadlines(DEADLINE + days(1))

    assert len(rows) == 15


def test_a_warning_for_a_step_the_request_has_left_is_not_mailed(at_council):
    daily_job(DEADLINE - days(7))
    AdmissionRequest.objects.filter(pk=at_council.pk).update(state=S.CONTRACTING)

    reminders_send_pending()

    reminder = Reminder.objects.get(admission_request=at_council, kind=K.STEP_DUE)
    assert reminder.sent_at is not None
    assert reminder.recipients == ""
    assert mail.outbox == []
