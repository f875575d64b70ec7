"""The regional dashboard: who sees which region, the median days per step from the history,
waiting requests, overdue renewals, amounts billed, and a fixed number of queries."""

import datetime
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hap_contracting.billing.constants import InvoiceKind, InvoiceState
from hap_contracting.billing.models import Invoice, InvoiceLine
from hap_contracting.core.charts import amounts_chart
from hap_contracting.core.roles import Role
from hap_contracting.dashboard import selectors
from hap_contracting.procedure.constants import (
    AdviceOutcome,
    AdviceStep,
    ClockEventKind,
    NormUnit,
    RequestKind,
    RequestState,
)
from hap_contracting.procedure.models import (
    AdmissionRequest,
    Advice,
    ClockEvent,
    StepNorm,
    TransitionLog,
)
from hap_contracting.tariffs.models import Act
from tests.accounts.factories import UserFactory
from tests.billing.factories import ClaimFactory
from tests.contracts.factories import ContractFactory
from tests.organisations.factories import CareLocationFactory, CareOrganisationFactory
from tests.procedure.factories import AdmissionRequestFactory

S = RequestState
pytestmark = pytest.mark.django_db


@pytest.fixture
def flevoland_location(flevoland):
    return CareLocationFactory(hap_post=flevoland.posts.get(), postcode="1312 AB", city="Almere")


def _history(admission_request, *changes, created_at):
    """Write the request's history: ``(source, target, when)`` per change of state."""
    AdmissionRequest.objects.filter(pk=admission_request.pk).update(created_at=created_at)
    content_type = ContentType.objects.get_for_model(AdmissionRequest)
    for source, target, when in changes:
        TransitionLog.objects.create(
            content_type=content_type,
            object_id=admission_request.pk,
            source_state=source,
            state=target,
            transition=f"{source}_to_{target}",
            timestamp=when,
        )


def _request(location, state, entered_at, **kwargs):
    return AdmissionRequestFactory(
        location=location, state=state, state_entered_at=entered_at, **kwargs
    )


# --- Scope -----------------------------------------------------------------------------------


def test_a_regional_user_is_sent_to_their_own_region(client, staff):
    client.force_login(staff[Role.SECRETARIAT])

    response = client.get("/dashboard/")

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/zwolle/"
    assert client.get("/dashboard/zwolle/").status_code == 200


def test_another_regions_dashboard_does_not_exist_for_a_regional_user(client, staff, flevoland):
    client.force_login(staff[Role.QUALITY_TEAM])

    assert client.get("/dashboard/flevoland/").status_code == 404
    assert client.get("/dashboard/alle-regios/").status_code == 404
    assert client.get("/dashboard/nergens/").status_code == 404


def test_a_user_without_a_role_is_refused(client, zwolle):
    client.force_login(UserFactory(region=zwolle, roles=[]))

    assert client.get("/dashboard/").status_code == 403
    assert client.get("/dashboard/zwolle/").status_code == 403


def test_anonymous_users_log_in_first(client, zwolle):
    response = client.get("/dashboard/zwolle/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.FINANCE])
def test_administrators_and_finance_see_every_region_and_all_together(
    client, staff, flevoland, role
):
    client.force_login(staff[role])

    overview = client.get("/dashboard/")

    assert overview.status_code == 200
    html = overview.content.decode()
    assert 'href="/dashboard/zwolle/"' in html
    assert 'href="/dashboard/flevoland/"' in html
    assert 'href="/dashboard/alle-regios/"' in html
    assert client.get("/dashboard/flevoland/").status_code == 200
    assert client.get("/dashboard/alle-regios/").status_code == 200


def test_the_page_shows_only_the_regions_requests(client, staff, location, flevoland_location):
    long_ago = timezone.now() - datetime.timedelta(days=40)
    ours = _request(location, S.QUALITY_REVIEW, long_ago)
    theirs = _request(flevoland_location, S.QUALITY_REVIEW, long_ago)
    client.force_login(staff[Role.SECRETARIAT])

    html = client.get("/dashboard/zwolle/").content.decode()

    assert f"/aanvragen/{ours.pk}/" in html
    assert f"/aanvragen/{theirs.pk}/" not in html


# --- (1) Requests per step and the median days in each step -------------------------------


@pytest.fixture
def known_history(zwolle, location, flevoland_location):
    """Three Zwolle requests with a known history (days from ``start``), one of Flevoland and
    one whose stays ended more than a year ago."""
    now = timezone.now().replace(microsecond=0)
    start = now - datetime.timedelta(days=40)

    def day(n):
        return start + datetime.timedelta(days=n)

    # A: received 2 days; pre-assessment 5 + 2 (sent back once) = 7; quality review 3 + 1 = 4;
    # council 7; contracting 10 (the outcome recorded on day 25 is no change of state).
    done = _request(location, S.CONTRACTED, day(30))
    _history(
        done,
        (S.RECEIVED, S.PRE_ASSESSMENT, day(2)),
        (S.PRE_ASSESSMENT, S.QUALITY_REVIEW, day(7)),
        (S.QUALITY_REVIEW, S.PRE_ASSESSMENT, day(10)),
        (S.PRE_ASSESSMENT, S.QUALITY_REVIEW, day(12)),
        (S.QUALITY_REVIEW, S.COUNCIL_REVIEW, day(13)),
        (S.COUNCIL_REVIEW, S.CONTRACTING, day(20)),
        (S.CONTRACTING, S.CONTRACTING, day(25)),
        (S.CONTRACTING, S.CONTRACTED, day(30)),
        created_at=day(0),
    )
    # B: received 4 days, in pre-assessment since day 4: 36 days until now.
    other_location = CareLocationFactory(hap_post=zwolle.posts.get(), postcode="8012 AB")
    waiting = _request(other_location, S.PRE_ASSESSMENT, day(4))
    _history(waiting, (S.RECEIVED, S.PRE_ASSESSMENT, day(4)), created_at=day(0))
    # C: received one day ago, no history yet.
    third_location = CareLocationFactory(hap_post=zwolle.posts.get(), postcode="8013 AB")
    fresh = _request(third_location, S.RECEIVED, now - datetime.timedelta(days=1))
    AdmissionRequest.objects.filter(pk=fresh.pk).update(created_at=now - datetime.timedelta(days=1))
    # Old: its stays ended more than a year ago (outside the median's window), except the
    # council's: entered 400 days ago, left 300 days ago, so 100 days.
    old_location = CareLocationFactory(hap_post=zwolle.posts.get(), postcode="8014 AB")
    old = _request(old_location, S.REJECTED, now - datetime.timedelta(days=300))
    _history(
        old,
        (S.RECEIVED, S.PRE_ASSESSMENT, now - datetime.timedelta(days=500)),
        (S.PRE_ASSESSMENT, S.QUALITY_REVIEW, now - datetime.timedelta(days=450)),
        (S.QUALITY_REVIEW, S.COUNCIL_REVIEW, now - datetime.timedelta(days=400)),
        (S.COUNCIL_REVIEW, S.REJECTED, now - datetime.timedelta(days=300)),
        created_at=now - datetime.timedelta(days=600),
    )
    # Flevoland: 50 days in received, not Zwolle's.
    elsewhere = _request(flevoland_location, S.PRE_ASSESSMENT, day(20))
    _history(elsewhere, (S.RECEIVED, S.PRE_ASSESSMENT, day(20)), created_at=day(-30))
    return {"now": now, "done": done, "waiting": waiting, "fresh": fresh, "elsewhere": elsewhere}


def test_median_days_per_step_come_from_the_history(known_history, staff, zwolle):
    rows = {
        row.state: row
        for row in selectors.requests_per_step(
            staff[Role.SECRETARIAT], zwolle, now=known_history["now"]
        )
    }

    # received: A 2, B 4, C 1 (still there); the old request's 100 days are out of the window.
    assert (rows[S.RECEIVED].median_days, rows[S.RECEIVED].measured) == (2.0, 3)
    # pre-assessment: A 7 (two visits), B 36 (still there).
    assert (rows[S.PRE_ASSESSMENT].median_days, rows[S.PRE_ASSESSMENT].measured) == (21.5, 2)
    assert (rows[S.QUALITY_REVIEW].median_days, rows[S.QUALITY_REVIEW].measured) == (4.0, 1)
    # council: A 7, the old request 100 (its stay began before the window: LAG still sees it).
    assert (rows[S.COUNCIL_REVIEW].median_days, rows[S.COUNCIL_REVIEW].measured) == (53.5, 2)
    # Recording the outcome does not split the stay in contracting.
    assert rows[S.CONTRACTING].median_days == 10.0
    assert [row.open_count for row in rows.values()] == [1, 1, 0, 0, 0]
    assert [row.waiting_count for row in rows.values()] == [0, 1, 0, 0, 0]


def test_all_regions_take_every_regions_history(known_history, staff):
    rows = {
        row.state: row
        for row in selectors.requests_per_step(
            staff[Role.ADMINISTRATOR], None, now=known_history["now"]
        )
    }

    # Flevoland's request adds 50 days in received: 1, 2, 4, 50.
    assert (rows[S.RECEIVED].median_days, rows[S.RECEIVED].measured) == (3.0, 4)
    assert rows[S.PRE_ASSESSMENT].open_count == 2


def test_a_step_nobody_has_been_in_has_no_median(zwolle, staff):
    rows = selectors.requests_per_step(staff[Role.SECRETARIAT], zwolle, now=timezone.now())

    assert [row.median_days for row in rows] == [None] * 5
    assert [row.measured for row in rows] == [0] * 5


def test_the_page_shows_the_steps_with_their_medians(client, known_history, staff):
    client.force_login(staff[Role.SECRETARIAT])

    html = client.get("/dashboard/zwolle/").content.decode()

    assert 'data-state="pre_assessment"' in html
    assert 'data-median="21.5"' in html
    assert 'data-testid="steps-chart"' in html
    assert '<title id="steps-chart-title">' in html


# --- (2) Waiting longer than the threshold ------------------------------------------------


def test_requests_waiting_longer_than_the_threshold_are_listed(
    client, staff, zwolle, location, settings
):
    settings.DASHBOARD_WAITING_DAYS = 10
    now = timezone.now()
    long = _request(location, S.COUNCIL_REVIEW, now - datetime.timedelta(days=11))
    other = CareLocationFactory(hap_post=zwolle.posts.get(), postcode="8020 AB")
    short = _request(other, S.COUNCIL_REVIEW, now - datetime.timedelta(days=9))
    finished_location = CareLocationFactory(hap_post=zwolle.posts.get(), postcode="8021 AB")
    _request(finished_location, S.REJECTED, now - datetime.timedelta(days=90))
    user = staff[Role.REGIONAL_COUNCIL]

    waiting = selectors.waiting_requests(user, zwolle, now=now)
    rows = selectors.requests_per_step(user, zwolle, now=now)

    assert waiting == [long]
    assert sum(row.waiting_count for row in rows) == 1
    client.force_login(user)
    html = client.get("/dashboard/zwolle/").content.decode()
    assert f'href="/aanvragen/{long.pk}/"' in html
    assert f'href="/aanvragen/{short.pk}/"' not in html


def test_the_waiting_list_shows_the_twenty_longest_waiting(zwolle, staff):
    now = timezone.now()
    requests = [
        _request(
            CareLocationFactory(hap_post=zwolle.posts.get(), postcode=f"80{30 + n} AB"),
            S.RECEIVED,
            now - datetime.timedelta(days=20 + n),
        )
        for n in range(22)
    ]

    waiting = selectors.waiting_requests(staff[Role.SECRETARIAT], zwolle, now=now)

    assert len(waiting) == 20
    assert waiting[0] == requests[-1]
    assert requests[0] not in waiting


# --- (3) Contracts expiring ---------------------------------------------------------------


def test_contracts_expiring_per_month_are_the_regions(zwolle, flevoland_location, location):
    today = timezone.localdate()
    ends = today.replace(day=1) + relativedelta(months=2, days=5)
    ContractFactory(location=location, start_date=ends - relativedelta(years=2), end_date=ends)
    ContractFactory(
        location=flevoland_location, start_date=ends - relativedelta(years=2), end_date=ends
    )
    admin = UserFactory(region=None, roles=[Role.ADMINISTRATOR])

    zwolle_counts = dict(selectors.contracts_ending(admin, zwolle, today=today))
    all_counts = dict(selectors.contracts_ending(admin, None, today=today))

    assert zwolle_counts[ends.replace(day=1)] == 1
    assert all_counts[ends.replace(day=1)] == 2
    assert len(zwolle_counts) == 18


# --- (4) Renewals overdue ---------------------------------------------------------------


def test_lapsed_contracts_and_late_completions_are_overdue(client, zwolle, location, staff):
    today = timezone.localdate()
    lapsed = ContractFactory(
        location=location, start_date=today - relativedelta(years=2), end_date=today
    )
    lapsed.end_date = today - datetime.timedelta(days=3)
    lapsed.save()
    renewal = _request(
        location,
        S.QUALITY_REVIEW,
        timezone.now(),
        kind=RequestKind.RENEWAL,
        renews_contract=lapsed,
    )
    # A terminated contract is not a lapsed one, whatever its renewal does.
    terminated_location = CareLocationFactory(hap_post=zwolle.posts.get(), postcode="8040 AB")
    terminated = ContractFactory(
        location=terminated_location,
        start_date=today - relativedelta(years=2),
        end_date=today - datetime.timedelta(days=3),
        terminated_on=today - relativedelta(months=2),
    )
    _request(
        terminated_location,
        S.RECEIVED,
        timezone.now(),
        kind=RequestKind.RENEWAL,
        renews_contract=terminated,
    )

    def in_contracting(postcode, approved_months_ago):
        admission_request = _request(
            CareLocationFactory(hap_post=zwolle.posts.get(), postcode=postcode),
            S.CONTRACTING,
            timezone.now(),
        )
        Advice.objects.create(
            admission_request=admission_request,
            step=AdviceStep.REGIONAL_COUNCIL,
            outcome=AdviceOutcome.POSITIVE,
            motivation="Akkoord.",
            decided_on=today - relativedelta(months=approved_months_ago),
            decided_by=staff[Role.REGIONAL_COUNCIL],
        )
        return admission_request

    late = in_contracting("8041 AB", approved_months_ago=7)
    in_time = in_contracting("8042 AB", approved_months_ago=5)
    user = staff[Role.SECRETARIAT]

    overdue = selectors.renewals_overdue(user, zwolle, today=today)

    assert overdue.lapsed_contracts == [lapsed]
    assert overdue.completion_overdue == [late]
    assert overdue.completion_overdue[0].completion_deadline == (
        today - relativedelta(months=7) + relativedelta(months=6)
    )
    assert overdue.total == 2
    client.force_login(user)
    html = client.get("/dashboard/zwolle/").content.decode()
    assert f'href="/contracten/{lapsed.pk}/"' in html
    assert f'href="/aanvragen/{renewal.pk}/"' in html
    assert f'href="/aanvragen/{late.pk}/"' in html
    assert f'href="/aanvragen/{in_time.pk}/"' not in html


# --- (5) Amounts billed per month ---------------------------------------------------------


def _invoice(organisation, period, state, lines, *, administrative_costs="0", kind=None, **kw):
    """An invoice with ``lines`` of (location, amount); totals as the billing service sets."""
    lines_total = sum((Decimal(amount) for _location, amount in lines), Decimal("0"))
    costs = Decimal(administrative_costs)
    invoice = Invoice.objects.create(
        organisation=organisation,
        period=period,
        state=state,
        kind=kind or InvoiceKind.INVOICE,
        lines_total=lines_total,
        administrative_costs=costs,
        total=lines_total + costs,
        **kw,
    )
    act = Act.objects.get(code="VISITE")
    is_credit = invoice.kind == InvoiceKind.CREDIT_NOTE
    for location, amount in lines:
        claim = ClaimFactory(location=location)
        InvoiceLine.objects.create(
            invoice=invoice,
            claim=claim,
            location=location,
            act=act,
            care_on=period,
            tariff=abs(Decimal(amount)) / 2,
            amount=Decimal(amount),
            is_credit=is_credit,
        )
    return invoice


@pytest.fixture
def billing(zwolle, flevoland):
    """One organisation with a location in each region, and its invoices."""
    organisation = CareOrganisationFactory()
    in_zwolle = CareLocationFactory(
        organisation=organisation, hap_post=zwolle.posts.get(), postcode="8050 AB"
    )
    in_flevoland = CareLocationFactory(
        organisation=organisation, hap_post=flevoland.posts.get(), postcode="1350 AB"
    )
    today = timezone.localdate()
    last_month = today.replace(day=1) - relativedelta(months=1)
    two_months_ago = last_month - relativedelta(months=1)
    # Last month: 200 in Zwolle, 100 in Flevoland, 30 administrative costs shared 2 : 1.
    _invoice(
        organisation,
        last_month,
        InvoiceState.SENT,
        [(in_zwolle, "200.00"), (in_flevoland, "100.00")],
        administrative_costs="30.00",
    )
    # Two months ago: 90 approved, and a sent invoice of 50 credited in full.
    _invoice(organisation, two_months_ago, InvoiceState.APPROVED, [(in_zwolle, "90.00")])
    credited_organisation = CareOrganisationFactory()
    credited_location = CareLocationFactory(
        organisation=credited_organisation, hap_post=zwolle.posts.get(), postcode="8051 AB"
    )
    credited = _invoice(
        credited_organisation,
        two_months_ago,
        InvoiceState.SENT,
        [(credited_location, "45.00")],
        administrative_costs="5.00",
    )
    _invoice(
        credited_organisation,
        two_months_ago,
        InvoiceState.SENT,
        [(credited_location, "-45.00")],
        administrative_costs="-5.00",
        kind=InvoiceKind.CREDIT_NOTE,
        corrects=credited,
    )
    # Not counted: a draft, and a month outside the last twelve.
    draft_organisation = CareOrganisationFactory()
    _invoice(
        draft_organisation,
        last_month,
        InvoiceState.DRAFT,
        [(CareLocationFactory(organisation=draft_organisation, hap_post=zwolle.posts.get()), "70")],
    )
    _invoice(
        organisation,
        today.replace(day=1) - relativedelta(months=13),
        InvoiceState.SENT,
        [(in_zwolle, "1000.00")],
    )
    return {"today": today, "last_month": last_month, "two_months_ago": two_months_ago}


def test_amounts_billed_per_month_by_the_regions_locations(billing, zwolle, flevoland):
    admin = UserFactory(region=None, roles=[Role.FINANCE])
    today = billing["today"]

    in_zwolle = dict(selectors.billed_per_month(admin, zwolle, today=today))
    in_flevoland = dict(selectors.billed_per_month(admin, flevoland, today=today))
    everywhere = dict(selectors.billed_per_month(admin, None, today=today))

    assert len(in_zwolle) == 12
    assert max(in_zwolle) == billing["last_month"]
    assert in_zwolle[billing["last_month"]] == Decimal("220.00")
    assert in_flevoland[billing["last_month"]] == Decimal("110.00")
    assert everywhere[billing["last_month"]] == Decimal("330.00")
    # 90 approved; 50 sent and credited.
    assert in_zwolle[billing["two_months_ago"]] == Decimal("90.00")
    assert in_flevoland[billing["two_months_ago"]] == Decimal("0.00")
    assert sum(everywhere.values()) == Decimal("420.00")


def test_a_regional_user_sees_only_their_regions_amounts(billing, make_user, zwolle, flevoland):
    user = make_user(Role.SECRETARIAT, region=zwolle)

    amounts = dict(selectors.billed_per_month(user, zwolle, today=billing["today"]))

    assert amounts[billing["last_month"]] == Decimal("220.00")


def test_the_billed_chart_has_a_bar_and_a_row_per_month(client, billing, staff):
    client.force_login(staff[Role.FINANCE])

    html = client.get("/dashboard/zwolle/").content.decode()

    assert f'data-key="{billing["last_month"]:%Y-%m}" data-value="220.0"' in html
    assert f'data-month="{billing["last_month"]:%Y-%m}" data-amount="220.00"' in html
    assert "€ 220,00" in html


def test_a_month_with_more_credited_than_billed_draws_no_bar():
    month = datetime.date(2025, 3, 1)

    chart = amounts_chart([(month, Decimal("-40.00")), (month.replace(month=4), Decimal("10"))])

    assert chart.bars[0].height == 0
    assert chart.bars[1].height > 0


# --- A fixed number of queries ------------------------------------------------------------


def _populate(zwolle, size: int, council_member):
    """``size`` requests in every step with history, lapsed contracts and invoices."""
    now = timezone.now()
    today = timezone.localdate()
    content_type = ContentType.objects.get_for_model(AdmissionRequest)
    base = 8100 + 10 * size
    for n in range(size):
        for index, state in enumerate(selectors.DASHBOARD_STEPS):
            location = CareLocationFactory(
                hap_post=zwolle.posts.get(), postcode=f"{base + n} A{'BCDEF'[index]}"
            )
            admission_request = _request(location, state, now - datetime.timedelta(days=30))
            TransitionLog.objects.create(
                content_type=content_type,
                object_id=admission_request.pk,
                source_state=S.RECEIVED,
                state=S.PRE_ASSESSMENT,
                transition="forward",
                timestamp=now - datetime.timedelta(days=40),
            )
            if state == S.CONTRACTING:
                Advice.objects.create(
                    admission_request=admission_request,
                    step=AdviceStep.REGIONAL_COUNCIL,
                    outcome=AdviceOutcome.POSITIVE,
                    motivation="Akkoord.",
                    decided_on=today - relativedelta(months=8),
                    decided_by=council_member,
                )
        lapsed_location = CareLocationFactory(
            hap_post=zwolle.posts.get(), postcode=f"{base + n} AG"
        )
        lapsed = ContractFactory(
            location=lapsed_location,
            start_date=today - relativedelta(years=2),
            end_date=today - datetime.timedelta(days=2),
        )
        _request(lapsed_location, S.RECEIVED, now, kind=RequestKind.RENEWAL, renews_contract=lapsed)
        _invoice(
            lapsed_location.organisation,
            today.replace(day=1) - relativedelta(months=1 + n),
            InvoiceState.SENT,
            [(lapsed_location, "100.00")],
            administrative_costs="10.00",
        )


@pytest.mark.parametrize("role", [Role.SECRETARIAT, Role.ADMINISTRATOR])
def test_the_dashboard_runs_a_fixed_number_of_queries(
    client, staff, zwolle, role, django_assert_max_num_queries
):
    client.force_login(staff[role])
    _populate(zwolle, 1, staff[Role.REGIONAL_COUNCIL])
    with CaptureQueriesContext(connection) as small:
        assert client.get("/dashboard/zwolle/").status_code == 200
    _populate(zwolle, 6, staff[Role.REGIONAL_COUNCIL])

    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get("/dashboard/zwolle/")

    assert response.status_code == 200
    assert len(response.context["waiting"]) == 20
    assert response.context["overdue"].total == 14
    # 19: the page's 12 and the menu's work count (cached for the next pages), the step
    # norms' four (the norm table, the extensions and suspensions, the requests over the norm
    # counted per step, the longest 20 of them) and the payments panel's two (the invoices with
    # their payment state, their lines per region).
    assert len(small.captured_queries) <= 19


def test_the_overview_runs_a_fixed_number_of_queries(
    client, staff, zwolle, flevoland, django_assert_max_num_queries
):
    client.force_login(staff[Role.ADMINISTRATOR])
    _populate(zwolle, 1, staff[Role.REGIONAL_COUNCIL])
    with CaptureQueriesContext(connection) as small:
        client.get("/dashboard/")
    _populate(zwolle, 4, staff[Role.REGIONAL_COUNCIL])

    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get("/dashboard/").status_code == 200


# --- The steps' norms -----------------------------------------------------------------------


def test_each_step_shows_its_norm_and_the_share_decided_within_it(known_history, staff, zwolle):
    rows = {
        row.state: row
        for row in selectors.requests_per_step(
            staff[Role.SECRETARIAT], zwolle, now=known_history["now"]
        )
    }

    assert [row.norm_days for row in rows.values()][:4] == [14, 28, 28, 42]
    # Left the step in the last twelve months: received A 2 and B 4 days (norm 14); the
    # pre-assessment A only (B is still in it); council A 7 and the old request 100 (norm 42).
    assert (rows[S.RECEIVED].within_norm, rows[S.RECEIVED].decided) == (2, 2)
    assert (rows[S.PRE_ASSESSMENT].within_norm, rows[S.PRE_ASSESSMENT].decided) == (1, 1)
    assert (rows[S.COUNCIL_REVIEW].within_norm, rows[S.COUNCIL_REVIEW].decided) == (1, 2)
    assert rows[S.COUNCIL_REVIEW].within_share == 50
    assert rows[S.CONTRACTING].within_share == 100
    # Over the norm now: B, 36 days in the pre-assessment; C, received 30 days ago (the
    # factory's date received), registered only yesterday.
    assert [row.over_norm for row in rows.values()] == [1, 1, 0, 0, 0]


def test_an_extension_counts_towards_the_norm(known_history, staff, zwolle):
    old = AdmissionRequest.objects.get(state=S.REJECTED)
    ClockEvent.objects.create(
        admission_request=old,
        step=S.COUNCIL_REVIEW,
        kind=ClockEventKind.EXTENDED,
        days=60,
        reason="Aanvullend advies gevraagd.",
    )

    rows = {
        row.state: row
        for row in selectors.requests_per_step(
            staff[Role.SECRETARIAT], zwolle, now=known_history["now"]
        )
    }

    assert (rows[S.COUNCIL_REVIEW].within_norm, rows[S.COUNCIL_REVIEW].decided) == (2, 2)


def test_a_regions_own_norm_is_the_one_it_is_measured_against(known_history, staff, zwolle):
    StepNorm.objects.create(region=zwolle, step=S.COUNCIL_REVIEW, amount=100, unit=NormUnit.DAYS)

    rows = {
        row.state: row
        for row in selectors.requests_per_step(
            staff[Role.SECRETARIAT], zwolle, now=known_history["now"]
        )
    }

    assert rows[S.COUNCIL_REVIEW].norm_days == 100
    assert rows[S.COUNCIL_REVIEW].within_norm == 2


def test_the_page_lists_the_requests_over_their_norm(client, known_history, staff):
    client.force_login(staff[Role.SECRETARIAT])

    response = client.get("/dashboard/zwolle/")

    over = response.context["over_norm"]
    assert {row.pk for row in over} == {known_history["waiting"].pk, known_history["fresh"].pk}
    assert known_history["elsewhere"].pk not in {row.pk for row in over}
    page = response.content.decode()
    assert "Nu over de norm: 2 aanvragen" in page
    assert known_history["waiting"].reference in page


def test_the_page_lists_only_the_longest_over_their_norm_and_counts_them_all(
    client, known_history, staff, monkeypatch
):
    monkeypatch.setattr(selectors, "WAITING_LIST_LENGTH", 1)
    client.force_login(staff[Role.SECRETARIAT])

    response = client.get("/dashboard/zwolle/")

    (shown,) = response.context["over_norm"]
    over = selectors.requests_over_norm(staff[Role.SECRETARIAT], None, today=timezone.localdate())
    assert [row.pk for row in over][:1] == [shown.pk]  # the longest over its norm
    assert over[0].days_over > over[1].days_over
    page = response.content.decode()
    assert "Nu over de norm: 2 aanvragen" in page
    assert "De 1 die het langst over hun norm zijn, staan hier." in page


def test_the_overview_counts_the_requests_over_their_norm_per_region(
    client, known_history, staff, zwolle
):
    client.force_login(staff[Role.ADMINISTRATOR])

    summaries = {
        summary.region.slug: summary for summary in client.get("/dashboard/").context["summaries"]
    }

    # Zwolle: B and C; Flevoland: its request, 20 days in the pre-assessment, is within.
    assert summaries[zwolle.slug].over_norm_count == 2
    assert sum(summary.over_norm_count for summary in summaries.values()) == 2


def test_the_overview_counts_in_the_database_what_the_region_dashboard_lists(known_history, staff):
    administrator = staff[Role.ADMINISTRATOR]
    today = timezone.localdate()
    listed = {}
    for row in selectors.requests_over_norm(administrator, None, today=today):
        listed[row.clock_region_id] = listed.get(row.clock_region_id, 0) + 1

    assert listed and selectors.over_norm_counts(administrator, today=today) == listed


def test_the_overview_is_kept_for_every_user_who_sees_all_regions_and_read_again_after_a_change(
    client, known_history, staff, zwolle, location
):
    def zwolle_open(user) -> tuple[int, int]:
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/dashboard/")
            count = len(queries.captured_queries)
        summaries = {summary.region.slug: summary for summary in response.context["summaries"]}
        return summaries[zwolle.slug].open_count, count

    administrator, finance = staff[Role.ADMINISTRATOR], staff[Role.FINANCE]
    first_open, first_queries = zwolle_open(administrator)
    kept_open, kept_queries = zwolle_open(finance)
    AdmissionRequestFactory(location=location)
    changed_open, changed_queries = zwolle_open(administrator)

    assert kept_open == first_open and kept_queries <= first_queries - 4
    assert changed_open == first_open + 1 and changed_queries >= kept_queries + 4


def _drawn_after(regions, change) -> list[str]:
    """Which of the regions' kept figures (None: all regions) are drawn again after
    ``change()``, once each was drawn and kept."""
    today = timezone.localdate()
    drawn = []

    def figures(region):
        def render():
            drawn.append(region.slug if region else "all")
            return "figures"

        return selectors.cached_figures(region, render, today=today)

    for region in regions:
        figures(region)
    drawn.clear()
    change()
    for region in regions:
        figures(region)
    return drawn


def test_a_change_in_a_region_draws_its_figures_and_all_regions_again_not_another_regions(
    location, flevoland_location
):
    zwolle, flevoland = location.region, flevoland_location.region

    drawn = _drawn_after(
        [zwolle, flevoland, None], lambda: AdmissionRequestFactory(location=location)
    )

    assert drawn == [zwolle.slug, "all"]


def test_a_change_whose_region_is_not_at_hand_draws_every_dashboard_again(
    location, flevoland_location
):
    zwolle, flevoland = location.region, flevoland_location.region
    admission_request = AdmissionRequestFactory(location=location)
    unread = AdmissionRequest.objects.get(pk=admission_request.pk)  # its location not read

    drawn = _drawn_after([zwolle, flevoland, None], lambda: unread.save())

    assert drawn == [zwolle.slug, flevoland.slug, "all"]
