"""The daily job (seed 004, 7.1): renewal three months before the end date, reminders at 90, 60,
30 and 7 days that are sent exactly once, lapsed contracts, the six-month completion deadline,
grace periods and overdue breach actions. Time is passed in or frozen, never waited for."""

import datetime
import smtplib
import threading
import zoneinfo
from unittest import mock

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from hap_contracting.contracts.constants import BreachActionKind, ContractStatus, ReminderKind
from hap_contracting.contracts.models import Breach, BreachAction, Contract, Reminder
from hap_contracting.contracts.services.reminders import reminders_send_pending
from hap_contracting.core.roles import Role
from hap_contracting.operations import services as operations_services
from hap_contracting.operations.services import daily_job
from hap_contracting.procedure.constants import AdviceOutcome, AdviceStep, RequestKind, RequestState
from hap_contracting.procedure.models import AdmissionRequest, Advice
from hap_contracting.triage.constants import TriageFilterReason
from hap_contracting.triage.models import TriageFilterEntry
from tests.contracts.factories import ContractFactory
from tests.organisations.factories import CareLocationFactory
from tests.procedure.factories import AdmissionRequestFactory

S = RequestState
K = ReminderKind
AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")
TODAY = datetime.date(2026, 11, 23)


def days(n):
    return datetime.timedelta(days=n)


def run(today):
    """One run of the job and of the sender, as beat and the worker would."""
    report = daily_job(today)
    reminders_send_pending()
    return report


@pytest.fixture
def ending_contract(staff, location):
    """A contract from a completed request of this location, ending 2027-02-23 (three months
    after TODAY)."""
    origin = AdmissionRequestFactory(
        location=location,
        state=S.CONTRACTED,
        assigned_location_manager=staff[Role.LOCATION_MANAGER],
        requester_email="zorg@example.org",
    )
    return ContractFactory(
        location=location,
        admission_request=origin,
        start_date=datetime.date(2025, 2, 24),
        end_date=datetime.date(2027, 2, 23),
    )


# --- Opening renewals -----------------------------------------------------------------------


def test_the_renewal_opens_three_months_before_the_end_date(ending_contract):
    daily_job(TODAY - days(1))
    assert not AdmissionRequest.objects.filter(kind=RequestKind.RENEWAL).exists()

    report = daily_job(TODAY)

    renewal = ending_contract.renewal_request
    assert report.renewals_opened == 1
    assert (renewal.kind, renewal.state, renewal.received_on) == (
        RequestKind.RENEWAL,
        S.RECEIVED,
        TODAY,
    )
    assert renewal.location == ending_contract.location
    assert renewal.requester_email == "zorg@example.org"
    assert renewal.created_by is None


@pytest.mark.parametrize(
    ("end_date", "opens_on"),
    [
        # Three calendar months before the end date, clamped to the month's last day.
        (datetime.date(2026, 12, 31), datetime.date(2026, 9, 30)),
        (datetime.date(2028, 5, 31), datetime.date(2028, 2, 29)),  # a leap year
        (datetime.date(2027, 5, 31), datetime.date(2027, 2, 28)),  # a common year
        (datetime.date(2027, 6, 15), datetime.date(2027, 3, 15)),
    ],
)
def test_the_renewal_opens_on_the_end_date_minus_three_calendar_months(
    ending_contract, end_date, opens_on
):
    ending_contract.start_date = end_date - relativedelta(years=2)
    ending_contract.end_date = end_date
    ending_contract.save()

    daily_job(opens_on - days(1))
    assert not AdmissionRequest.objects.filter(kind=RequestKind.RENEWAL).exists()
    daily_job(opens_on)

    assert ending_contract.renewal_request.received_on == opens_on
    assert ending_contract.status_on(opens_on) == ContractStatus.EXPIRING
    assert ending_contract.status_on(opens_on - days(1)) == ContractStatus.ACTIVE


def test_opening_a_renewal_notifies_the_secretariat_and_the_location_manager(
    ending_contract, staff
):
    run(TODAY)

    recipients = [address for message in mail.outbox for address in message.to]
    assert len(recipients) == len(set(recipients))
    assert {staff[Role.SECRETARIAT].email, staff[Role.LOCATION_MANAGER].email} <= set(recipients)
    assert staff[Role.QUALITY_TEAM].email not in recipients
    assert ending_contract.reference in mail.outbox[0].subject


def test_running_the_job_twice_opens_one_renewal_and_sends_each_reminder_once(ending_contract):
    run(TODAY)
    sent_first = len(mail.outbox)

    report = run(TODAY)

    assert report.renewals_opened == 0
    assert AdmissionRequest.objects.filter(renews_contract=ending_contract).count() == 1
    assert len(mail.outbox) == sent_first
    assert Reminder.objects.filter(sent_at__isnull=True).count() == 0


def test_a_renewal_the_unique_keys_refuse_is_passed_over_without_failing_the_job(
    ending_contract,
):
    # What a concurrent run that committed first looks like to the insert: the key refuses the
    # row. Here the key of one open request per location refuses the second of two contracts
    # of one location that end together; the first is renewed, the job goes on.
    second = ContractFactory(location=ending_contract.location, end_date=ending_contract.end_date)

    report = daily_job(TODAY)

    assert report.renewals_opened == 1
    assert AdmissionRequest.objects.filter(kind=RequestKind.RENEWAL).count() == 1
    assert ending_contract.renewal_request.location == ending_contract.location
    assert not AdmissionRequest.objects.filter(renews_contract=second).exists()
    assert Reminder.objects.filter(kind=K.RENEWAL_OPENED).count() == 1


def test_the_renewal_says_which_contract_it_renews_and_the_contract_history_names_it(
    ending_contract,
):
    daily_job(TODAY)

    renewal = ending_contract.renewal_request
    assert renewal.notes == (
        f"Geopend door de dagelijkse taak: contract {ending_contract.reference} loopt af op "
        "23-02-2027."
    )
    assert renewal.public_token is not None
    assert renewal.state_entered_at == renewal.created_at
    event = ending_contract.events.get()
    assert (event.kind, event.by) == ("renewal_opened", None)
    assert event.description == f"Verlengingsaanvraag {renewal.reference} is geopend."


def test_a_contract_without_an_origin_request_is_renewed_in_its_organisations_name(location):
    contract = ContractFactory(location=location, end_date=TODAY + days(30))

    daily_job(TODAY)

    renewal = contract.renewal_request
    assert (renewal.requester_name, renewal.requester_email, renewal.requester_phone) == (
        contract.organisation.name,
        contract.organisation.contact_email,
        "",
    )


def test_a_rerun_reports_no_reminders_scheduled(ending_contract):
    first = run(ending_contract.end_date - days(60))

    again = run(ending_contract.end_date - days(60))

    assert first.reminders_scheduled == 1
    assert again.reminders_scheduled == 0


def test_terminated_contracts_and_contracts_already_renewed_get_no_renewal(location, zwolle):
    ContractFactory(location=location, end_date=TODAY + days(30), terminated_on=TODAY - days(1))
    other = CareLocationFactory(hap_post=zwolle.posts.get())
    old = ContractFactory(location=other, end_date=TODAY + days(30))
    ContractFactory(location=other, previous_contract=old, start_date=TODAY + days(31))

    assert daily_job(TODAY).renewals_opened == 0


def test_no_renewal_is_opened_while_the_location_has_another_open_request(ending_contract):
    AdmissionRequestFactory(location=ending_contract.location, kind=RequestKind.REGULARISATION)

    assert daily_job(TODAY).renewals_opened == 0


# --- Reminders ------------------------------------------------------------------------------


def test_reminders_come_at_90_60_30_and_7_days_before_the_end_date(ending_contract):
    end = ending_contract.end_date
    day = end - days(95)
    while day <= end:
        daily_job(day)
        day += days(1)

    due = sorted(Reminder.objects.filter(kind=K.RENEWAL_DUE).values_list("due_on", flat=True))
    assert due == [end - days(90), end - days(60), end - days(30), end - days(7)]


def test_the_offsets_are_settings(ending_contract, settings):
    settings.RENEWAL_REMINDER_DAYS = [45]
    end = ending_contract.end_date
    for offset in range(95, -1, -1):
        daily_job(end - days(offset))

    assert list(Reminder.objects.filter(kind=K.RENEWAL_DUE).values_list("due_on", flat=True)) == [
        end - days(45)
    ]


def test_after_missed_days_the_job_catches_up_with_the_latest_reminder_only(ending_contract):
    end = ending_contract.end_date
    daily_job(end - days(92))  # opens the renewal
    # The job did not run for two months.
    daily_job(end - days(29))

    assert list(Reminder.objects.filter(kind=K.RENEWAL_DUE).values_list("due_on", flat=True)) == [
        end - days(30)
    ]


def test_a_reminder_goes_to_whoever_must_act_next(ending_contract, staff, make_user, zwolle):
    end = ending_contract.end_date
    daily_job(end - days(92))
    renewal = ending_contract.renewal_request
    # With the quality team since the day before (well within its norm: no step warning).
    AdmissionRequest.objects.filter(pk=renewal.pk).update(
        state=S.QUALITY_REVIEW,
        state_entered_at=timezone.make_aware(
            datetime.datetime.combine(end - days(61), datetime.time(9))
        ),
    )
    other_member = make_user(Role.QUALITY_TEAM, region=zwolle)
    reminders_send_pending()
    mail.outbox.clear()

    run(end - days(60))

    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [staff[Role.QUALITY_TEAM].email, other_member.email]
    )
    assert "60" in mail.outbox[0].body


def test_a_contract_that_could_not_be_renewed_is_flagged_and_the_secretariat_told(
    ending_contract, staff, location
):
    from hap_contracting.contracts.selectors import lapsed_unrenewed

    end = ending_contract.end_date
    other = AdmissionRequestFactory(location=location, at_quality_team=True)
    daily_job(end - days(92))
    assert not AdmissionRequest.objects.filter(renews_contract=ending_contract).exists()
    reminders_send_pending()
    mail.outbox.clear()

    run(end + days(1))
    run(end + days(2))

    lapsed = Reminder.objects.get(kind=K.RENEWAL_LAPSED)
    assert (lapsed.contract, lapsed.due_on) == (ending_contract, end + days(1))
    told = [m.to[0] for m in mail.outbox if "zonder verlenging" in m.body]
    assert staff[Role.SECRETARIAT].email in told
    assert len(told) == len(set(told))  # once, on the first day only
    flagged = Contract.objects.filter(lapsed_unrenewed(), end_date__lt=end + days(2))
    assert list(flagged) == [ending_contract]
    assert other.state == S.QUALITY_REVIEW


def test_a_contract_followed_by_a_new_one_is_not_flagged_as_lapsed(ending_contract, location):
    from hap_contracting.contracts.selectors import lapsed_unrenewed

    end = ending_contract.end_date
    AdmissionRequestFactory(location=location, at_quality_team=True)
    ContractFactory(location=location, start_date=end + days(1), end_date=end + days(800))

    run(end + days(1))

    assert not Reminder.objects.filter(kind=K.RENEWAL_LAPSED).exists()
    assert not Contract.objects.filter(lapsed_unrenewed(), end_date__lt=end + days(1)).exists()


def test_a_location_covered_by_a_later_contract_of_another_location_is_not_lapsed(
    ending_contract, location, zwolle
):
    from hap_contracting.contracts.selectors import lapsed_unrenewed

    end = ending_contract.end_date
    AdmissionRequestFactory(location=location, at_quality_team=True)
    group_contract = ContractFactory(
        location=CareLocationFactory(hap_post=zwolle.posts.get(), postcode="8012 CD"),
        start_date=end - days(30),
        end_date=end + days(700),
    )
    group_contract.other_locations.add(location)

    run(end + days(1))

    assert not Contract.objects.filter(lapsed_unrenewed(), pk=ending_contract.pk).exists()
    assert not Reminder.objects.filter(kind=K.RENEWAL_LAPSED).exists()


def test_contracts_that_lapsed_long_ago_are_flagged_but_not_mailed_about(ending_contract, location):
    from hap_contracting.contracts.selectors import lapsed_unrenewed

    AdmissionRequestFactory(location=location, at_quality_team=True)

    run(ending_contract.end_date + days(90))

    assert Contract.objects.filter(lapsed_unrenewed(), pk=ending_contract.pk).exists()
    assert not Reminder.objects.filter(kind=K.RENEWAL_LAPSED).exists()


def test_an_address_the_mail_server_refuses_does_not_block_or_double_other_reminders(
    ending_contract, staff, make_user, zwolle, settings
):
    from tests import mail as refusing

    settings.EMAIL_BACKEND = "tests.mail.RefusingEmailBackend"
    settings.REMINDER_MAX_ATTEMPTS = 2
    wrong_address = make_user(Role.SECRETARIAT, region=zwolle, email="vertrokken@example.org")
    refusing.REFUSED_ADDRESSES.add(wrong_address.email)
    try:
        daily_job(ending_contract.end_date - days(92))
        first_run = reminders_send_pending()
        second_run = reminders_send_pending()
        third_run = reminders_send_pending()
    finally:
        refusing.reset()

    opened = Reminder.objects.get(kind=K.RENEWAL_OPENED)
    delivered = [m.to[0] for m in mail.outbox]
    assert (first_run, second_run, third_run) == (0, 0, 0)
    assert staff[Role.SECRETARIAT].email in delivered
    assert len(delivered) == len(set(delivered))  # retries went to the refused address only
    assert opened.sent_at is None and opened.attempts == 2
    assert wrong_address.email not in opened.recipients
    assert staff[Role.SECRETARIAT].email in opened.recipients
    assert "SMTPRecipientsRefused" in opened.last_error


def test_a_connection_lost_mid_batch_keeps_what_was_delivered_and_the_rerun_sends_the_rest(
    zwolle, make_user, settings
):
    from tests import mail as misbehaving

    settings.EMAIL_BACKEND = "tests.mail.RefusingEmailBackend"
    make_user(Role.SECRETARIAT, region=zwolle)
    for number in range(3):
        location = CareLocationFactory(hap_post=zwolle.posts.get(), postcode=f"801{number} AB")
        ContractFactory(location=location, end_date=TODAY + days(80))
    daily_job(TODAY)
    expected = Reminder.objects.filter(sent_at__isnull=True).count()
    misbehaving.DISCONNECT_AFTER.append(2)
    try:
        with pytest.raises(smtplib.SMTPServerDisconnected):
            reminders_send_pending()
        delivered_first = len(mail.outbox)
        misbehaving.reset()
        reminders_send_pending()
    finally:
        misbehaving.reset()

    addressed = [(m.to[0], m.subject) for m in mail.outbox]
    assert delivered_first == 2
    assert len(addressed) == len(set(addressed))  # nobody got the same reminder twice
    assert Reminder.objects.filter(sent_at__isnull=False).count() == expected


def test_a_temporary_refusal_is_retried_without_counting_an_attempt(
    ending_contract, staff, settings
):
    from tests import mail as misbehaving

    settings.EMAIL_BACKEND = "tests.mail.RefusingEmailBackend"
    misbehaving.TEMPORARILY_REFUSED.add(staff[Role.SECRETARIAT].email)
    try:
        daily_job(ending_contract.end_date - days(92))
        reminders_send_pending()
        reminders_send_pending()
        held_back = Reminder.objects.get(kind=K.RENEWAL_OPENED)
        misbehaving.reset()
        reminders_send_pending()
    finally:
        misbehaving.reset()

    assert held_back.attempts == 0 and held_back.sent_at is None
    assert "SMTPRecipientsRefused" in held_back.last_error
    assert Reminder.objects.get(kind=K.RENEWAL_OPENED).sent_at is not None


def test_a_reminder_with_nobody_to_send_it_to_says_so(ending_contract, staff):
    from django.contrib.auth import get_user_model

    get_user_model().objects.update(email="")
    daily_job(ending_contract.end_date - days(92))

    reminders_send_pending()

    opened = Reminder.objects.get(kind=K.RENEWAL_OPENED)
    assert opened.sent_at is not None and opened.recipients == ""
    assert opened.last_error


def test_a_contract_that_lapses_with_its_renewal_open_is_flagged_once(ending_contract, staff):
    end = ending_contract.end_date
    daily_job(end - days(92))
    reminders_send_pending()
    mail.outbox.clear()

    run(end + days(1))
    run(end + days(2))

    lapsed = Reminder.objects.filter(kind=K.RENEWAL_LAPSED)
    assert list(lapsed.values_list("due_on", flat=True)) == [end + days(1)]
    assert staff[Role.SECRETARIAT].email in {m.to[0] for m in mail.outbox}


def test_a_finished_renewal_stops_the_reminders(ending_contract):
    end = ending_contract.end_date
    daily_job(end - days(92))
    AdmissionRequest.objects.filter(pk=ending_contract.renewal_request.pk).update(
        state=S.CONTRACTED
    )

    daily_job(end - days(60))
    daily_job(end + days(1))

    assert not Reminder.objects.filter(kind__in=[K.RENEWAL_DUE, K.RENEWAL_LAPSED]).exists()


# --- Completion deadline --------------------------------------------------------------------


def approved_request(staff, location, approved_on):
    request = AdmissionRequestFactory(
        in_contracting=True,
        location=location,
        assigned_location_manager=staff[Role.LOCATION_MANAGER],
        received_on=approved_on - days(60),
    )
    Advice.objects.create(
        admission_request=request,
        step=AdviceStep.REGIONAL_COUNCIL,
        outcome=AdviceOutcome.POSITIVE,
        motivation="Akkoord.",
        decided_on=approved_on,
        decided_by=staff[Role.REGIONAL_COUNCIL],
    )
    return request


def test_completion_is_due_six_months_after_the_council_decision(staff, location):
    request = approved_request(staff, location, datetime.date(2026, 5, 31))
    deadline = datetime.date(2026, 11, 30)

    daily_job(deadline - days(31))
    assert not Reminder.objects.exists()
    for day in (deadline - days(30), deadline - days(7), deadline, deadline + days(1)):
        daily_job(day)
        daily_job(day)

    assert list(request.reminders.order_by("due_on").values_list("kind", "due_on")) == [
        (K.COMPLETION_DUE, deadline - days(30)),
        (K.COMPLETION_DUE, deadline - days(7)),
        (K.COMPLETION_OVERDUE, deadline + days(1)),
    ]


def test_an_overdue_completion_is_mailed_to_the_location_manager_and_secretariat(staff, location):
    approved_request(staff, location, datetime.date(2026, 1, 10))

    run(TODAY)

    assert {m.to[0] for m in mail.outbox} >= {
        staff[Role.LOCATION_MANAGER].email,
        staff[Role.SECRETARIAT].email,
    }
    assert staff[Role.QUALITY_TEAM].email not in {m.to[0] for m in mail.outbox}
    assert "10-07-2026" in mail.outbox[0].body


# --- Grace periods --------------------------------------------------------------------------


def regularisation(location, grace_ends_on, state=S.PRE_ASSESSMENT):
    return AdmissionRequestFactory(
        location=location,
        kind=RequestKind.REGULARISATION,
        state=state,
        grace_ends_on=grace_ends_on,
    )


def test_a_regularisation_request_gets_a_grace_end_date(staff, location, settings):
    from hap_contracting.procedure.services.admission import admission_request_register

    settings.GRACE_PERIOD_MONTHS = 3
    request = admission_request_register(
        by=staff[Role.SECRETARIAT],
        location=location,
        kind=RequestKind.REGULARISATION,
        requester_name="Zorg",
        requester_email="zorg@example.org",
        received_on=datetime.date(2026, 10, 1),
    )

    assert request.grace_ends_on == datetime.date(2027, 1, 1)


def test_a_grace_period_ending_without_a_contract_puts_the_location_on_the_filter_list(
    location, staff
):
    request = regularisation(location, grace_ends_on=TODAY)
    daily_job(TODAY - days(30))
    daily_job(TODAY)
    assert not TriageFilterEntry.objects.exists()

    run(TODAY + days(1))
    run(TODAY + days(2))

    entry = TriageFilterEntry.objects.get()
    assert (entry.location, entry.reason, entry.listed_on, entry.delisted_on) == (
        location,
        TriageFilterReason.GRACE_PERIOD_ENDED,
        TODAY + days(1),
        None,
    )
    assert list(request.reminders.order_by("due_on").values_list("kind", "due_on")) == [
        (K.GRACE_ENDING, TODAY - days(30)),
        (K.GRACE_ENDING, TODAY - days(7)),
        (K.GRACE_ENDED, TODAY + days(1)),
    ]


def test_a_location_without_treatment_admission_is_marked_but_never_listed_at_grace_end(
    location, staff
):
    location.wlz_treatment_admission = False
    location.save()
    request = regularisation(location, grace_ends_on=TODAY)
    daily_job(TODAY - days(7))
    reminders_send_pending()
    ending_mail = mail.outbox[-1].body
    mail.outbox.clear()

    report = run(TODAY + days(1))

    assert report.locations_listed == 0
    assert not TriageFilterEntry.objects.exists()
    assert request.reminders.filter(kind=K.GRACE_ENDED).exists()
    with time_machine.travel(datetime.datetime(2026, 11, 24, 12, tzinfo=AMSTERDAM)):
        assert AdmissionRequest.objects.get(pk=request.pk).grace_period_over is True
    ended_mail = mail.outbox[0].body
    for body in (ending_mail, ended_mail):
        assert "ingeschreven" in body
        assert "geen ANW-zorg zonder afspraak" not in body


def test_a_location_with_a_contract_is_not_listed_when_the_grace_period_ends(location):
    regularisation(location, grace_ends_on=TODAY, state=S.CONTRACTED)
    ContractFactory(location=location, start_date=TODAY - days(10))

    daily_job(TODAY + days(1))

    assert not TriageFilterEntry.objects.exists()


def test_a_listed_location_leaves_the_list_when_its_contract_starts(location):
    regularisation(location, grace_ends_on=TODAY - days(10), state=S.REJECTED)
    daily_job(TODAY)
    ContractFactory(location=location, start_date=TODAY + days(5))

    daily_job(TODAY + days(4))
    assert TriageFilterEntry.objects.get().delisted_on is None
    daily_job(TODAY + days(5))

    entry = TriageFilterEntry.objects.get()
    assert entry.delisted_on == TODAY + days(5)
    daily_job(TODAY + days(6))
    assert TriageFilterEntry.objects.count() == 1


# --- Breach actions -------------------------------------------------------------------------


def test_a_breach_action_past_its_deadline_is_reminded_once(location, staff):
    contract = ContractFactory(location=location)
    breach = Breach.objects.create(
        contract=contract,
        observed_on=TODAY - days(20),
        agreement="SO bereikbaar",
        description="Niet bereikbaar.",
        recorded_by=staff[Role.LOCATION_MANAGER],
    )
    action = BreachAction.objects.create(
        breach=breach,
        kind=BreachActionKind.WRITTEN_WARNING,
        description="Brief.",
        deadline=TODAY,
        recorded_by=staff[Role.LOCATION_MANAGER],
    )

    run(TODAY)
    assert not mail.outbox
    run(TODAY + days(1))
    run(TODAY + days(2))

    assert list(action.reminders.values_list("due_on", flat=True)) == [TODAY + days(1)]
    assert {m.to[0] for m in mail.outbox} == {
        staff[Role.SECRETARIAT].email,
        staff[Role.LOCATION_MANAGER].email,
    }


# --- Exactly once, whatever happens to the job ----------------------------------------------


def test_a_job_that_dies_half_way_is_finished_by_the_rerun_without_doubles(ending_contract):
    end = ending_contract.end_date
    with (
        mock.patch.object(
            operations_services, "reminders_schedule", side_effect=RuntimeError("worker lost")
        ),
        pytest.raises(RuntimeError),
    ):
        daily_job(end - days(90))
    assert ending_contract.__class__.objects.get().renewal_request is not None

    daily_job(end - days(90))
    daily_job(end - days(90))

    assert AdmissionRequest.objects.filter(kind=RequestKind.RENEWAL).count() == 1
    assert list(Reminder.objects.order_by("kind").values_list("kind", "due_on")) == [
        (K.RENEWAL_DUE, end - days(90)),
        (K.RENEWAL_OPENED, end - days(90)),
    ]


def test_across_the_autumn_dst_change_each_reminder_is_sent_once(ending_contract, staff):
    """On 25 October 2026 02:00–03:00 happens twice in Amsterdam; a job started at 02:30 in
    both passes, and the regular runs at 06:00 either side, still send each reminder once."""
    end = datetime.date(2026, 10, 25) + days(60)
    ending_contract.end_date = end
    ending_contract.save()
    moments = [
        datetime.datetime(2026, 10, 24, 6, 0, tzinfo=AMSTERDAM),
        datetime.datetime(2026, 10, 25, 0, 30, tzinfo=datetime.UTC),  # 02:30 summer time
        datetime.datetime(2026, 10, 25, 1, 30, tzinfo=datetime.UTC),  # 02:30 winter time
        datetime.datetime(2026, 10, 25, 6, 0, tzinfo=AMSTERDAM),
    ]
    for moment in moments:
        with time_machine.travel(moment, tick=False):
            assert timezone.localdate() == moment.astimezone(AMSTERDAM).date()
            run(None)

    # The first run caught up with the 90-day reminder; the 60-day one fell on the DST day.
    assert sorted(Reminder.objects.filter(kind=K.RENEWAL_DUE).values_list("due_on", flat=True)) == [
        datetime.date(2026, 9, 25),
        datetime.date(2026, 10, 25),
    ]
    secretariat = staff[Role.SECRETARIAT].email
    assert sum("60 dagen" in m.body for m in mail.outbox if m.to == [secretariat]) == 1


def test_across_the_spring_dst_change_the_daily_run_keeps_its_date(ending_contract):
    end = datetime.date(2026, 3, 29) + days(7)
    ending_contract.end_date = end
    ending_contract.save()
    daily_job(datetime.date(2026, 1, 1))

    with time_machine.travel(datetime.datetime(2026, 3, 29, 6, 0, tzinfo=AMSTERDAM), tick=False):
        run(None)
        run(None)

    assert list(Reminder.objects.filter(kind=K.RENEWAL_DUE).values_list("due_on", flat=True)) == [
        datetime.date(2026, 3, 29)
    ]


def test_the_jobs_query_count_does_not_grow_with_the_number_of_contracts(
    zwolle, django_assert_max_num_queries
):
    def contracts(n):
        for _ in range(n):
            location = CareLocationFactory(hap_post=zwolle.posts.get())
            ContractFactory(location=location, end_date=TODAY + days(40))

    # The steps' statements and the audit trail's check (one query per protected table: 53 on
    # PostgreSQL with the payments', deliveries' (and their outcomes') and classification
    # changes' tables): a fixed number, the same for one contract as for many.
    contracts(1)
    with django_assert_max_num_queries(53) as one:
        report = daily_job(TODAY)
    assert report.renewals_opened == 1
    contracts(40)
    with django_assert_max_num_queries(53) as many:
        report = daily_job(TODAY)

    assert report.renewals_opened == 40
    assert report.reminders_scheduled == 40  # the 60-day reminders
    assert len(many.captured_queries) == len(one.captured_queries)
    assert AdmissionRequest.objects.filter(kind=RequestKind.RENEWAL).count() == 41


def test_sending_runs_a_constant_number_of_queries(
    ending_contract, zwolle, django_assert_max_num_queries
):
    for _ in range(20):
        location = CareLocationFactory(hap_post=zwolle.posts.get())
        ContractFactory(location=location, end_date=TODAY + days(40))
    daily_job(TODAY)

    with django_assert_max_num_queries(8):
        # 20 contracts: renewal opened and the 60-day reminder; the other: opened only.
        assert reminders_send_pending() == 41


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_jobs_at_once_open_each_renewal_once_and_remind_once(staff, location, zwolle):
    for _ in range(10):
        ContractFactory(
            location=CareLocationFactory(hap_post=zwolle.posts.get()), end_date=TODAY + days(30)
        )
    barrier = threading.Barrier(2)
    errors = []

    def job():
        try:
            barrier.wait()
            daily_job(TODAY)
            reminders_send_pending()
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert AdmissionRequest.objects.filter(kind=RequestKind.RENEWAL).count() == 10
    assert Reminder.objects.filter(kind=K.RENEWAL_OPENED).count() == 10
    assert Reminder.objects.filter(kind=K.RENEWAL_DUE).count() == 10
    # Each reminder mails the region's secretariat and location managers once.
    assert len(mail.outbox) == len({(m.subject, m.to[0]) for m in mail.outbox})


# --- Running it -----------------------------------------------------------------------------


def test_beat_runs_the_daily_job_at_six_in_amsterdam(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["daily-contract-job"]

    assert entry["task"] == "operations.run_daily_job"
    assert entry["schedule"].hour == {6} and entry["schedule"].minute == {0}
    assert settings.CELERY_TIMEZONE == "Europe/Amsterdam"


def test_the_task_runs_the_job_and_sends_the_reminders(
    ending_contract, django_capture_on_commit_callbacks
):
    from hap_contracting.operations.tasks import run_daily_job

    with django_capture_on_commit_callbacks(execute=True):
        result = run_daily_job.delay(TODAY.isoformat()).get()

    assert result["renewals_opened"] == 1
    assert Reminder.objects.get().sent_at is not None
    assert mail.outbox


def test_operations_run_the_job_by_hand(ending_contract, capsys):
    call_command("run_daily_jobs", "--date", TODAY.isoformat())

    output = capsys.readouterr().out
    assert "renewals_opened: 1" in output
    assert "reminders_sent: 1" in output
    with pytest.raises(CommandError, match="--date"):
        call_command("run_daily_jobs", "--date", "23-11-2026")


def test_a_regularisation_that_ended_in_a_contract_has_no_grace_period_left(location):
    regularisation(location, grace_ends_on=TODAY - days(400), state=S.CONTRACTED)
    ContractFactory(location=location, end_date=TODAY - days(1))  # the contract has ended since

    daily_job(TODAY)

    assert not TriageFilterEntry.objects.exists()
