"""The step deadline in SQL (``step_deadline_expression``, by which "Mijn werk" is sorted in the
database) is the date ``step_deadline`` gives in Python, for every step, kind of norm and clock:
the two may never drift apart."""

import datetime

import pytest
from django.utils import timezone

from hap_contracting.core.roles import Role
from hap_contracting.procedure.constants import (
    AdviceOutcome,
    AdviceStep,
    ClockEventKind,
    NormUnit,
    RequestState,
)
from hap_contracting.procedure.models import (
    AdmissionRequest,
    Advice,
    ClockEvent,
    Norms,
    StepNorm,
    TransitionLog,
)
from hap_contracting.procedure.selectors.deadlines import (
    step_deadline_expression,
    with_step_clock,
    with_step_deadlines,
)
from tests.organisations.factories import CareLocationFactory
from tests.procedure.factories import AdmissionRequestFactory

S = RequestState
pytestmark = pytest.mark.django_db

# 23:30 in Amsterdam in winter: the next day already in UTC, so the local date counts.
LATE = datetime.datetime.fromisoformat("2026-01-30 23:30+01:00")


def request_in(region, state, *, entered=LATE, **fields):
    return AdmissionRequestFactory(
        location=CareLocationFactory(hap_post=region.posts.first()),
        state=state,
        state_entered_at=entered,
        **fields,
    )


def deadlines_both_ways(today=datetime.date(2026, 3, 1)):
    """Each request's (SQL, Python) step deadline."""
    norms = Norms.load()
    rows = with_step_deadlines(
        with_step_clock(AdmissionRequest.objects.all()).annotate(
            sql_deadline=step_deadline_expression(norms)
        ),
        today,
        norms,
    )
    return {row.pk: (row.sql_deadline, row.step_deadline) for row in rows}


def assert_the_same(expected: dict):
    both = deadlines_both_ways()
    for request, deadline in expected.items():
        assert both[request.pk] == (deadline, deadline), request.state


def test_every_step_by_the_national_norms(zwolle):
    received = request_in(zwolle, S.RECEIVED, received_on=datetime.date(2026, 1, 20))
    pre = request_in(zwolle, S.PRE_ASSESSMENT)
    quality = request_in(zwolle, S.QUALITY_REVIEW)
    council = request_in(zwolle, S.COUNCIL_REVIEW)
    contracting = request_in(zwolle, S.CONTRACTING)

    # Entered late on 30 January in Amsterdam: the clock starts on the 30th.
    assert_the_same(
        {
            received: datetime.date(2026, 2, 3),
            pre: datetime.date(2026, 2, 27),
            quality: datetime.date(2026, 2, 27),
            council: datetime.date(2026, 3, 13),
            contracting: datetime.date(2026, 7, 30),
        }
    )


def test_a_request_whose_procedure_ended_has_no_deadline(zwolle):
    for state in (S.CONTRACTED, S.REJECTED, S.WITHDRAWN):
        request_in(zwolle, state)

    assert set(deadlines_both_ways().values()) == {(None, None)}


def test_a_regions_norm_in_days_and_a_month_that_ends_early(zwolle, flevoland):
    StepNorm.objects.create(region=zwolle, step=S.PRE_ASSESSMENT, amount=10, unit=NormUnit.DAYS)
    StepNorm.objects.create(region=zwolle, step=S.CONTRACTING, amount=1, unit=NormUnit.MONTHS)
    in_zwolle = request_in(zwolle, S.PRE_ASSESSMENT)
    elsewhere = request_in(flevoland, S.PRE_ASSESSMENT)
    # 31 January plus a month: the last day of February, as relativedelta has it.
    end_of_month = request_in(
        zwolle, S.CONTRACTING, entered=datetime.datetime.fromisoformat("2026-01-31 10:00+01:00")
    )

    assert_the_same(
        {
            in_zwolle: datetime.date(2026, 2, 9),
            elsewhere: datetime.date(2026, 2, 27),
            end_of_month: datetime.date(2026, 2, 28),
        }
    )


def test_contracting_counts_from_the_councils_approval(zwolle, staff):
    request = request_in(zwolle, S.CONTRACTING)
    Advice.objects.create(
        admission_request=request,
        step=AdviceStep.REGIONAL_COUNCIL,
        outcome=AdviceOutcome.POSITIVE,
        motivation="Akkoord.",
        decided_on=datetime.date(2025, 8, 31),
        decided_by=staff[Role.REGIONAL_COUNCIL],
    )

    assert_the_same({request: datetime.date(2026, 2, 28)})


def test_extensions_and_the_quality_teams_suspended_days_move_the_deadline(zwolle):
    council = request_in(zwolle, S.COUNCIL_REVIEW)
    ClockEvent.objects.create(
        admission_request=council,
        step=S.COUNCIL_REVIEW,
        kind=ClockEventKind.EXTENDED,
        days=9,
        reason="Wacht op stukken.",
        at=LATE + datetime.timedelta(days=2),
    )
    # At the quality team since 10 January the first time, sent back, back on the 30th.
    quality = request_in(zwolle, S.QUALITY_REVIEW)
    TransitionLog.objects.create(
        content_object=quality,
        source_state=S.PRE_ASSESSMENT,
        state=S.QUALITY_REVIEW,
        transition="location_manager_advise_positive",
        timestamp=datetime.datetime.fromisoformat("2026-01-10 09:00+01:00"),
    )
    ClockEvent.objects.create(
        admission_request=quality,
        step=S.QUALITY_REVIEW,
        kind=ClockEventKind.RESUMED,
        days=5,
        reason="Nieuwe versie van de checklist ingediend.",
        at=LATE,
    )

    assert_the_same(
        {
            council: datetime.date(2026, 3, 13) + datetime.timedelta(days=9),
            quality: datetime.date(2026, 2, 7) + datetime.timedelta(days=5),
        }
    )


def test_the_deadline_is_the_same_at_any_hour_of_the_day(zwolle):
    for hour in (0, 1, 12, 22, 23):
        entered = timezone.make_aware(datetime.datetime(2026, 3, 29, hour, 30))
        request_in(zwolle, S.PRE_ASSESSMENT, entered=entered)

    for sql, python in deadlines_both_ways().values():
        assert sql == python


def test_the_clock_built_once_gives_every_read_its_own_requests_norm(zwolle, flevoland):
    """The clock's subqueries are built once per process (``with_step_clock``): reading them
    for one request, then for another of another region and step, gives each its own norm and
    deadline, with the norms and clock events as they are at the read."""
    in_zwolle = request_in(zwolle, S.PRE_ASSESSMENT)
    elsewhere = request_in(flevoland, S.QUALITY_REVIEW)
    StepNorm.objects.create(region=zwolle, step=S.PRE_ASSESSMENT, amount=10, unit=NormUnit.DAYS)
    first = with_step_clock(AdmissionRequest.objects.filter(pk=in_zwolle.pk), with_norm=True).get()
    StepNorm.objects.create(region=flevoland, step=S.QUALITY_REVIEW, amount=3, unit=NormUnit.DAYS)
    ClockEvent.objects.create(
        admission_request=elsewhere,
        step=S.QUALITY_REVIEW,
        kind=ClockEventKind.EXTENDED,
        days=2,
        reason="Extra tijd voor het bezoek.",
        at=timezone.now(),
    )

    second = with_step_clock(AdmissionRequest.objects.filter(pk=elsewhere.pk), with_norm=True).get()

    assert (first.pk, first.clock_region_id, first.clock_days) == (in_zwolle.pk, zwolle.pk, 0)
    assert (first.clock_norm_amount, first.clock_norm_unit) == (10, NormUnit.DAYS)
    assert (second.pk, second.clock_region_id) == (elsewhere.pk, flevoland.pk)
    assert (second.clock_norm_amount, second.clock_norm_unit, second.clock_days) == (
        3,
        NormUnit.DAYS,
        2,
    )
