"""Benchmark of the daily contract job (``services.renewals.daily_contract_job``) and of the
reminder sender (``services.reminders.reminders_send_pending``) on a production-sized register.

Run from the repository root::

    .venv/bin/python bench/daily_job.py
    .venv/bin/python bench/daily_job.py --contracts 100000 --small 1000 --repeat 5 \\
        --database-url postgres://postgres@127.0.0.1:5432/hap_bench_jobs

Two data sets are built, each in a PostgreSQL database of its own: ``--contracts`` contracts in
the database of ``--database-url`` and ``--small`` contracts in the database of the same name
with ``_small`` appended. A database is created when missing, migrated, and rebuilt (dropped and
created again) when its data set differs from the one asked for, or with ``--rebuild``. The
script refuses to drop a database holding users (or tables) it did not create.

Every contract has a care location of its own and a contracted origin request; the end dates are
spread uniformly over the five years after TODAY (2026-11-23, passed to the job). The other steps
get work too: 2 % of the contracts already have an open renewal (with the reminders sent so
far), a few hundred regularisation requests have their grace period ending around TODAY, a few
hundred requests in contracting have the council's approval about six months ago, and there are
overdue breach actions and triage filter entries of locations that have a contract by now.

Measured, on both sizes: the queries of one run of the job (``CaptureQueriesContext``). On the
large size: the median time of ``--repeat`` runs of the job, each from the same state (the run is
rolled back), as a ratio to one set-based SQL statement that selects the contracts whose renewal
the job opens; the sender's time and queries for the reminders the job scheduled (locmem e-mail
backend, also rolled back); and the queries and time of each step of one run.

Exits non-zero when the job runs more queries on the large data set than on the small one, or
when the SQL statement does not select as many contracts as the job opened renewals.
``--explain`` also prints ``EXPLAIN (ANALYZE, BUFFERS)`` of every SELECT of the job.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import math
import os
import random
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.support import ensure_database, migrate, refuse_foreign_database  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/hap_bench_jobs"
SMALL_SUFFIX = "_small"
TODAY = datetime.date(2026, 11, 23)
BATCH_SIZE = 5000
USERNAME_PREFIX = "bench."
MARKER_USERNAME = "bench.marker"
# Bump when the data set changes: a data set of another version is rebuilt.
DATASET_VERSION = 1
# The job's steps, in the order ``daily_contract_job`` runs them (names in services.renewals).
JOB_STEPS = (
    "renewals_open_due",
    "renewal_reminders_schedule",
    "completion_reminders_schedule",
    "grace_reminders_schedule",
    "grace_periods_end",
    "breach_action_reminders_schedule",
    "triage_filter_delist_contracted",
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contracts", type=int, default=100_000, help="contracts (large size)")
    parser.add_argument(
        "--small", type=int, default=1_000, help="contracts of the small data set (query count)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of job and baseline")
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help=f"PostgreSQL database of the large data set (default {DEFAULT_DATABASE_URL}); "
        f"the small one goes to the same name with {SMALL_SUFFIX} appended",
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild both data sets")
    parser.add_argument(
        "--explain", action="store_true", help="print the plans of the job's SELECTs (large)"
    )
    args = parser.parse_args(argv)
    for name in ("contracts", "small", "repeat"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.small >= args.contracts:
        parser.error("--small must be smaller than --contracts")
    return args


def configure_django(database_url: str) -> None:
    """Environment first, then django.setup(): the settings read it once, at import."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["DJANGO_EMAIL_URL"] = "memory://"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")

    import django

    django.setup()


# --- Database --------------------------------------------------------------------------------


@contextlib.contextmanager
def use_database(name: str):
    """Point the default connection at another database of the same server for a while."""
    from django.db import connection

    previous = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = name
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = previous


def marker_text(n_contracts: int) -> str:
    return f"contracts={n_contracts} v{DATASET_VERSION} today={TODAY.isoformat()}"


def dataset_is_current(n_contracts: int) -> bool:
    from django.db import connection

    from accounts.models import User
    from hap_contracting.contracts.models import Contract

    if User._meta.db_table not in connection.introspection.table_names():
        return False
    marker = User.objects.filter(username=MARKER_USERNAME).values_list("last_name", flat=True)
    return list(marker) == [marker_text(n_contracts)] and Contract.objects.count() == n_contracts


def prepare_database(name: str, n_contracts: int, rebuild: bool) -> float | None:
    """Create, migrate and (re)build one database; returns the build time, None when reused."""
    from django.db import connection

    with use_database(name):
        ensure_database()
        refuse_foreign_database(
            {"username__startswith": USERNAME_PREFIX}, what="migrate or drop it"
        )
        if not rebuild and dataset_is_current(n_contracts):
            migrate()
            print(f"Data set of {n_contracts:,} contracts in {name} is current.")
            return None
        if connection.introspection.table_names():
            ensure_database(drop=True)
        started = time.perf_counter()
        migrate()
        migrated = time.perf_counter() - started
        build_dataset(n_contracts)
        elapsed = time.perf_counter() - started
        print(f"Database {name}: migrated in {migrated:.1f} s, built in {elapsed:.1f} s in all.")
        return elapsed


# --- Data set --------------------------------------------------------------------------------


def _postcode_letters() -> list[str]:
    letters = "ABCDEFGHJKLMNPRSTVWXZ"
    return [a + b for a in letters for b in letters if a + b not in {"SA", "SD", "SS"}]


def _at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    from django.utils import timezone

    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def build_dataset(n_contracts: int, seed: int = 20261123) -> None:
    from dateutil.relativedelta import relativedelta
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection, transaction

    from accounts.models import User
    from hap_contracting.contracts.constants import BreachActionKind, ContractKind, ReminderKind
    from hap_contracting.contracts.models import (
        Breach,
        BreachAction,
        Contract,
        Reminder,
        renewal_horizon,
    )
    from hap_contracting.core.roles import Role
    from hap_contracting.organisations.constants import OrganisationType
    from hap_contracting.organisations.models import CareLocation, CareOrganisation, HapPost, Region
    from hap_contracting.procedure.constants import (
        AdviceOutcome,
        AdviceStep,
        RequestKind,
        RequestState,
    )
    from hap_contracting.procedure.models import AdmissionRequest, Advice
    from hap_contracting.triage.constants import TriageFilterReason
    from hap_contracting.triage.models import TriageFilterEntry

    S = RequestState
    rng = random.Random(seed)
    days = datetime.timedelta
    n_open_renewals = max(1, round(n_contracts * 0.02))
    n_busy = max(2, n_contracts // 2000)
    n_contracting = max(10, n_contracts // 300)
    n_regularisation = max(10, n_contracts // 300)
    n_triage = max(5, n_contracts // 1000)
    n_breach_actions = max(5, n_contracts // 1000)
    n_locations = n_contracts + n_contracting + n_regularisation
    print(
        f"Building the data set: {n_contracts:,} contracts, {n_locations:,} locations, "
        f"{n_open_renewals:,} open renewals, {n_contracting:,} requests in contracting, "
        f"{n_regularisation:,} regularisations …"
    )
    renewal_offsets = settings.RENEWAL_REMINDER_DAYS

    with transaction.atomic():
        call_command("loaddata", "regions", verbosity=0)
        regions = list(Region.objects.order_by("pk"))
        posts = list(HapPost.objects.prefetch_related("postcode_ranges").order_by("pk"))
        ranges_of = {post.pk: list(post.postcode_ranges.all()) for post in posts}

        roles = (Role.SECRETARIAT, Role.LOCATION_MANAGER, Role.QUALITY_TEAM, Role.REGIONAL_COUNCIL)
        groups = {role: Group.objects.get_or_create(name=role)[0] for role in roles}
        users: dict[tuple[str, int], User] = {}
        for region in regions:
            for role in roles:
                user = User(
                    username=f"{USERNAME_PREFIX}{role}.{region.slug}",
                    first_name=str(Role(role).label),
                    last_name=region.name,
                    email=f"{role}.{region.slug}@bench.invalid",
                    region=region,
                )
                user.set_unusable_password()
                users[(role, region.pk)] = user
        User.objects.bulk_create(users.values())
        User.groups.through.objects.bulk_create(
            User.groups.through(user_id=user.pk, group_id=groups[role].pk)
            for (role, _region), user in users.items()
        )

        def user(role, region_id):
            return users[(role, region_id)]

        organisation_types = list(OrganisationType.values)
        organisations = CareOrganisation.objects.bulk_create(
            [
                CareOrganisation(
                    name=f"Zorgorganisatie {i + 1:05d}",
                    kvk_number=f"{20_000_000 + i}",
                    agb_code=f"{73_000_000 + i}",
                    organisation_type=organisation_types[i % len(organisation_types)],
                    contact_email=f"info{i + 1}@zorg.invalid",
                )
                for i in range(max(1, n_contracts // 25))
            ],
            batch_size=BATCH_SIZE,
        )

        # Locations round-robin over the posts, with a postcode in the post's ranges; the house
        # number alone keeps the address unique. The first n_contracts get a contract each, the
        # others carry the requests in contracting and the regularisations.
        letters = _postcode_letters()
        streets = ("Hofstraat", "Kerkweg", "Molenweg", "Dorpsstraat", "Stationsplein", "Brink")
        locations = []
        for i in range(n_locations):
            post = posts[i % len(posts)]
            postcode_range = rng.choice(ranges_of[post.pk])
            treatment = rng.random() < 0.4
            locations.append(
                CareLocation(
                    organisation=organisations[i % len(organisations)],
                    name=f"Woonzorglocatie {i + 1:06d}",
                    street=rng.choice(streets),
                    house_number=i + 1,
                    postcode=f"{rng.randint(postcode_range.first, postcode_range.last)} "
                    f"{rng.choice(letters)}",
                    city=post.city,
                    region_id=post.region_id,
                    hap_post=post,
                    wlz_treatment_admission=treatment,
                    treatment_delivered=treatment,
                    highest_care_profile=rng.randint(4, 10),
                    number_of_residents=rng.randint(6, 120),
                )
            )
        CareLocation.objects.bulk_create(locations, batch_size=BATCH_SIZE)

        # Contract i: location i, ending on a day of the five years from TODAY (shuffled over
        # the rows), from a contracted origin request; one in ten origins was a regularisation.
        span = ((TODAY + relativedelta(years=5)) - TODAY).days
        offsets = [i * span // n_contracts for i in range(n_contracts)]
        rng.shuffle(offsets)
        end_dates = [TODAY + days(offset) for offset in offsets]
        start_dates = [end - relativedelta(years=2) + days(1) for end in end_dates]
        origins = []
        for i in range(n_contracts):
            location = locations[i]
            region_id = location.region_id
            completed_on = start_dates[i] - days(rng.randint(1, 30))
            regularisation = i % 10 == 9
            origins.append(
                AdmissionRequest(
                    location=location,
                    kind=RequestKind.REGULARISATION if regularisation else RequestKind.NEW_ENTRANT,
                    requester_name=f"Aanvrager {i + 1}",
                    requester_email=f"aanvrager{i + 1}@zorg.invalid",
                    requester_phone="038 123 45 67",
                    received_on=completed_on - days(rng.randint(90, 200)),
                    state=S.CONTRACTED,
                    state_entered_at=_at(completed_on),
                    assigned_location_manager=user(Role.LOCATION_MANAGER, region_id),
                    outcome_recorded_at=_at(completed_on - days(rng.randint(1, 20))),
                    outcome_notes="Uitkomst verwerkt.",
                    completed_on=completed_on,
                    created_by=user(Role.SECRETARIAT, region_id),
                    grace_ends_on=start_dates[i] + days(rng.randint(0, 60))
                    if regularisation
                    else None,
                )
            )
        AdmissionRequest.objects.bulk_create(origins, batch_size=BATCH_SIZE)

        kinds = list(ContractKind.values)
        contracts = []
        for i in range(n_contracts):
            location = locations[i]
            terminated_on = None
            if i % 97 == 96:
                terminated_on = max(start_dates[i], TODAY - days(rng.randint(1, 200)))
            contracts.append(
                Contract(
                    organisation_id=location.organisation_id,
                    location=location,
                    region_id=location.region_id,
                    kind=kinds[i % len(kinds)],
                    start_date=start_dates[i],
                    end_date=end_dates[i],
                    terminated_on=terminated_on,
                    termination_reason="Beëindigd (benchmark)." if terminated_on else "",
                    admission_request=origins[i],
                )
            )
        Contract.objects.bulk_create(contracts, batch_size=BATCH_SIZE)

        # Contracts the job may renew today; some of them have their renewal open already, a
        # few have another unfinished request on their location.
        horizon = renewal_horizon(TODAY)
        window = [c for c in contracts if c.terminated_on is None and c.end_date <= horizon]
        rng.shuffle(window)
        renewed, busy = window[:n_open_renewals], window[n_open_renewals:][:n_busy]
        extra_requests: list[AdmissionRequest] = []
        sent_reminders: list[Reminder] = []
        for contract in renewed:
            region_id = contract.region_id
            opened_on = contract.end_date - relativedelta(months=3)
            extra_requests.append(
                AdmissionRequest(
                    location_id=contract.location_id,
                    kind=RequestKind.RENEWAL,
                    renews_contract=contract,
                    requester_name=contract.admission_request.requester_name,
                    requester_email=contract.admission_request.requester_email,
                    received_on=opened_on,
                    notes="Geopend door de dagelijkse taak (benchmark).",
                    state=S.PRE_ASSESSMENT,
                    state_entered_at=_at(min(opened_on + days(2), TODAY - days(1))),
                    assigned_location_manager=user(Role.LOCATION_MANAGER, region_id),
                )
            )
            # What earlier days' runs scheduled and sent: the opening and the reminders due
            # before today.
            sent_reminders.append(
                Reminder(
                    kind=ReminderKind.RENEWAL_OPENED,
                    contract=contract,
                    due_on=opened_on,
                    sent_at=_at(opened_on, 7),
                    recipients="bench@bench.invalid",
                )
            )
            sent_reminders += [
                Reminder(
                    kind=ReminderKind.RENEWAL_DUE,
                    contract=contract,
                    due_on=contract.end_date - days(offset),
                    sent_at=_at(contract.end_date - days(offset), 7),
                    recipients="bench@bench.invalid",
                )
                for offset in renewal_offsets
                if contract.end_date - days(offset) < TODAY
            ]
        for contract in busy:
            extra_requests.append(
                AdmissionRequest(
                    location_id=contract.location_id,
                    kind=RequestKind.NEW_ENTRANT,
                    requester_name="Aanvrager (tweede aanvraag)",
                    requester_email="tweede@zorg.invalid",
                    received_on=TODAY - days(rng.randint(1, 40)),
                    state=S.RECEIVED,
                    state_entered_at=_at(TODAY - days(1)),
                    created_by=user(Role.SECRETARIAT, contract.region_id),
                )
            )

        # Requests in contracting (the council approved them about six months ago) and
        # regularisations whose grace period ends around TODAY, each at a location of its own.
        contracting, advices = [], []
        for j in range(n_contracting):
            location = locations[n_contracts + j]
            region_id = location.region_id
            approved_on = TODAY - relativedelta(months=6) + days(rng.randint(-30, 40))
            request = AdmissionRequest(
                location=location,
                kind=RequestKind.NEW_ENTRANT,
                requester_name=f"Aanvrager contractering {j + 1}",
                requester_email=f"contractering{j + 1}@zorg.invalid",
                received_on=approved_on - days(rng.randint(60, 120)),
                state=S.CONTRACTING,
                state_entered_at=_at(approved_on),
                assigned_location_manager=user(Role.LOCATION_MANAGER, region_id),
                outcome_recorded_at=_at(approved_on + days(20)) if j % 2 else None,
                outcome_notes="Uitkomst verwerkt." if j % 2 else "",
                created_by=user(Role.SECRETARIAT, region_id),
            )
            contracting.append(request)
            for step, role, before in (
                (AdviceStep.LOCATION_MANAGER, Role.LOCATION_MANAGER, 40),
                (AdviceStep.QUALITY_TEAM, Role.QUALITY_TEAM, 20),
                (AdviceStep.REGIONAL_COUNCIL, Role.REGIONAL_COUNCIL, 0),
            ):
                advices.append(
                    Advice(
                        admission_request=request,
                        step=step,
                        outcome=AdviceOutcome.POSITIVE,
                        motivation="Positief (benchmark).",
                        decided_on=approved_on - days(before),
                        decided_by=user(role, region_id),
                    )
                )
        unfinished = (
            S.RECEIVED,
            S.PRE_ASSESSMENT,
            S.QUALITY_REVIEW,
            S.COUNCIL_REVIEW,
            S.CONTRACTING,
        )
        for j in range(n_regularisation):
            location = locations[n_contracts + n_contracting + j]
            region_id = location.region_id
            grace_ends_on = TODAY + days(rng.randint(-20, 40))
            state = unfinished[j % len(unfinished)]
            extra_requests.append(
                AdmissionRequest(
                    location=location,
                    kind=RequestKind.REGULARISATION,
                    requester_name=f"Aanvrager regularisatie {j + 1}",
                    requester_email=f"regularisatie{j + 1}@zorg.invalid",
                    received_on=grace_ends_on - relativedelta(months=3),
                    state=state,
                    state_entered_at=_at(min(grace_ends_on - days(60), TODAY - days(1))),
                    assigned_location_manager=None
                    if state == S.RECEIVED
                    else user(Role.LOCATION_MANAGER, region_id),
                    created_by=user(Role.SECRETARIAT, region_id),
                    grace_ends_on=grace_ends_on,
                )
            )
        AdmissionRequest.objects.bulk_create(contracting + extra_requests, batch_size=BATCH_SIZE)
        Advice.objects.bulk_create(advices, batch_size=BATCH_SIZE)
        Reminder.objects.bulk_create(sent_reminders, batch_size=BATCH_SIZE)

        # Triage filter entries of contract locations (delisted once the contract runs) and
        # overdue actions on breaches.
        TriageFilterEntry.objects.bulk_create(
            TriageFilterEntry(
                location_id=contract.location_id,
                reason=TriageFilterReason.BILLED_WITHOUT_CONTRACT,
                listed_on=TODAY - days(rng.randint(10, 90)),
            )
            for contract in rng.sample(contracts, n_triage)
        )
        breached = rng.sample(contracts, n_breach_actions)
        breaches = Breach.objects.bulk_create(
            Breach(
                contract=contract,
                observed_on=TODAY - days(rng.randint(70, 120)),
                agreement="SO/AVG niet bereikbaar voor de dienstdoende huisarts.",
                description="Benchmark.",
                recorded_by=user(Role.SECRETARIAT, contract.region_id),
            )
            for contract in breached
        )
        BreachAction.objects.bulk_create(
            BreachAction(
                breach=breach,
                kind=BreachActionKind.WRITTEN_WARNING,
                description="Schriftelijke waarschuwing met termijn.",
                deadline=TODAY - days(rng.randint(1, 60)),
                completed_on=TODAY - days(1) if k % 4 == 3 else None,
                recorded_by=breach.recorded_by,
            )
            for k, breach in enumerate(breaches)
        )

        marker = User(
            username=MARKER_USERNAME,
            first_name="Benchmark data set",
            last_name=marker_text(n_contracts),
            is_active=False,
        )
        marker.set_unusable_password()
        marker.save()

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


# --- Measuring -------------------------------------------------------------------------------


def baseline_sql() -> tuple[str, list]:
    """One statement selecting what ``renewals_open_due`` selects, with NOT EXISTS subqueries."""
    from hap_contracting.contracts.models import Contract, renewal_horizon
    from hap_contracting.procedure.constants import TERMINAL_STATES, RequestState
    from hap_contracting.procedure.models import AdmissionRequest

    contract = Contract._meta.db_table
    request = AdmissionRequest._meta.db_table
    unfinished = [state for state in RequestState.values if state not in TERMINAL_STATES]
    sql = f"""
        SELECT c.*
        FROM {contract} c
        WHERE c.terminated_on IS NULL
          AND c.end_date BETWEEN %s AND %s
          AND NOT EXISTS (SELECT 1 FROM {request} r WHERE r.renews_contract_id = c.id)
          AND NOT EXISTS (SELECT 1 FROM {contract} n WHERE n.previous_contract_id = c.id)
          AND NOT EXISTS (
              SELECT 1 FROM {request} o
              WHERE o.location_id = c.location_id AND o.state = ANY(%s)
          )
        ORDER BY c.id
    """
    return sql, [TODAY, renewal_horizon(TODAY), unfinished]


@contextlib.contextmanager
def rolled_back():
    """Run inside a transaction that is rolled back: every run starts from the same state. The
    job's own atomic blocks become savepoints."""
    from django.db import transaction

    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def count_queries(func) -> tuple[object, list[str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        result = func()
    return result, [query["sql"] for query in captured.captured_queries]


def is_savepoint(sql: str) -> bool:
    return sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO"))


def job_queries() -> tuple[object, list[str], int]:
    """One run of the job, rolled back; its report, its queries and the reminder rows it added
    (the report counts the reminders it tried to insert, conflicts included)."""
    from hap_contracting.services.renewals import daily_contract_job

    from hap_contracting.contracts.models import Reminder

    with rolled_back():
        before = Reminder.objects.count()
        report, queries = count_queries(lambda: daily_contract_job(TODAY))
        return report, queries, Reminder.objects.count() - before


def sender_run(capture: bool) -> tuple[int, int, float, list[str]]:
    """Schedule with the job, then time the sender; rolled back. Returns (reminders sent,
    messages, seconds, queries)."""
    from django.core import mail
    from django.test.utils import override_settings
    from hap_contracting.services.reminders import reminders_send_pending
    from hap_contracting.services.renewals import daily_contract_job

    with (
        override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"),
        rolled_back(),
    ):
        daily_contract_job(TODAY)
        mail.outbox = []
        queries: list[str] = []
        started = time.perf_counter()
        if capture:
            sent, queries = count_queries(reminders_send_pending)
        else:
            sent = reminders_send_pending()
        elapsed = time.perf_counter() - started
        messages = len(mail.outbox)
        mail.outbox = []
    return sent, messages, elapsed, queries


def step_breakdown() -> list[tuple[str, int, float]]:
    """Queries and time of each step in one run of the job (rolled back)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from hap_contracting.services import renewals

    results = []

    def wrap(name, func):
        def timed(*args, **kwargs):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                value = func(*args, **kwargs)
                elapsed = time.perf_counter() - started
            results.append((name, len(captured.captured_queries), elapsed * 1000))
            return value

        return timed

    with contextlib.ExitStack() as stack:
        for name in JOB_STEPS:
            stack.enter_context(
                mock.patch.object(renewals, name, wrap(name, getattr(renewals, name)))
            )
        with rolled_back():
            renewals.daily_contract_job(TODAY)
    return results


def explain_job() -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each SELECT of one run (rolled back), taken just before the
    SELECT runs, so each plan sees the state the earlier steps left."""
    from django.db import connection
    from hap_contracting.services.renewals import daily_contract_job

    plans: list[tuple[str, list[str]]] = []
    explaining = False

    def explain_first(execute, sql, params, many, context):
        nonlocal explaining
        if not explaining and not many and sql.lstrip().upper().startswith("SELECT"):
            explaining = True
            try:
                with context["connection"].cursor() as cursor:
                    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                    lines = [line for (line,) in cursor.fetchall()]
                plans.append((connection.ops.compose_sql(sql, params), lines))
            finally:
                explaining = False
        return execute(sql, params, many, context)

    with rolled_back(), connection.execute_wrapper(explain_first):
        daily_contract_job(TODAY)
    print("Plans of the job's SELECTs (EXPLAIN ANALYZE just before each ran):")
    for sql, lines in plans:
        print()
        print(sql[:600] + (" …" if len(sql) > 600 else ""))
        for line in lines:
            print("    " + line)
    print()


def median_ms(func, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def measure_small(name: str) -> dict:
    with use_database(name):
        report, queries, inserted = job_queries()
        sent, messages, _elapsed, sender_queries = sender_run(capture=True)
    return {
        "report": report,
        "queries": queries,
        "inserted": inserted,
        "sent": sent,
        "messages": messages,
        "sender_queries": sender_queries,
    }


def measure_large(repeat: int, explain: bool) -> dict:
    from django.db import connection
    from hap_contracting.services.renewals import daily_contract_job

    report, queries, inserted = job_queries()  # also the warm-up

    def run_job():
        with rolled_back():
            daily_contract_job(TODAY)

    job_ms = median_ms(run_job, repeat)

    sql, params = baseline_sql()
    rows: list = []

    def run_baseline():
        nonlocal rows
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()

    run_baseline()  # warm-up
    baseline_ms = median_ms(run_baseline, repeat)

    sent, messages, _elapsed, sender_queries = sender_run(capture=True)  # also the warm-up
    sender_timings = [sender_run(capture=False)[2] for _ in range(repeat)]
    steps = step_breakdown()
    if explain:
        explain_job()
    return {
        "report": report,
        "queries": queries,
        "inserted": inserted,
        "job_ms": job_ms,
        "baseline_ms": baseline_ms,
        "baseline_rows": len(rows),
        "sent": sent,
        "messages": messages,
        "sender_queries": sender_queries,
        "sender_ms": statistics.median(sender_timings) * 1000,
        "steps": steps,
    }


def dataset_summary() -> str:
    from django.conf import settings

    from hap_contracting.contracts.models import Contract, Reminder
    from hap_contracting.organisations.models import CareLocation
    from hap_contracting.procedure.models import AdmissionRequest

    db = settings.DATABASES["default"]
    return (
        f"{db['NAME']}: {Contract.objects.count():,} contracts, "
        f"{CareLocation.objects.count():,} care locations, "
        f"{AdmissionRequest.objects.count():,} admission requests, "
        f"{Reminder.objects.count():,} reminders (all sent)"
    )


def print_table(headers, rows) -> None:
    widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(len(headers))]
    print(" | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        print(" | ".join(cells))


def main(argv=None) -> int:
    args = parse_args(argv)
    configure_django(args.database_url)

    from django.conf import settings
    from django.db import connection
    from hap_contracting.services.reminders import BATCH_SIZE as SENDER_BATCH

    large_name = settings.DATABASES["default"]["NAME"]
    small_name = large_name + SMALL_SUFFIX
    builds = {
        args.small: prepare_database(small_name, args.small, args.rebuild),
        args.contracts: prepare_database(large_name, args.contracts, args.rebuild),
    }

    small = measure_small(small_name)
    with use_database(small_name):
        small_summary = dataset_summary()
    started = time.perf_counter()
    large = measure_large(args.repeat, args.explain)
    measured = time.perf_counter() - started
    large_summary = dataset_summary()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (pg_version,) = cursor.fetchone()

    print()
    print(f"PostgreSQL {pg_version}; TODAY = {TODAY.isoformat()} (passed to the job).")
    print(f"Small: {small_summary}.")
    print(f"Large: {large_summary}.")
    for size, seconds in builds.items():
        if seconds is not None:
            print(f"Built the {size:,}-contract data set in {seconds:.1f} s.")
    print()

    def sql_count(queries):
        return sum(not is_savepoint(sql) for sql in queries)

    def batches(sent):
        return math.ceil(sent / SENDER_BATCH) + 1  # the last, empty batch ends the loop

    headers = ("queries", f"{args.small:,} contracts", f"{args.contracts:,} contracts")
    rows = [
        (
            "daily job: all statements",
            str(len(small["queries"])),
            str(len(large["queries"])),
        ),
        (
            "daily job: without savepoints",
            str(sql_count(small["queries"])),
            str(sql_count(large["queries"])),
        ),
        (
            "renewals opened",
            f"{small['report'].renewals_opened:,}",
            f"{large['report'].renewals_opened:,}",
        ),
        (
            "reminders scheduled (job's report)",
            f"{small['report'].reminders_scheduled:,}",
            f"{large['report'].reminders_scheduled:,}",
        ),
        ("reminder rows added", f"{small['inserted']:,}", f"{large['inserted']:,}"),
        (
            "locations listed / delisted",
            f"{small['report'].locations_listed} / {small['report'].locations_delisted}",
            f"{large['report'].locations_listed} / {large['report'].locations_delisted}",
        ),
        ("sender: reminders sent", f"{small['sent']:,}", f"{large['sent']:,}"),
        ("sender: e-mails", f"{small['messages']:,}", f"{large['messages']:,}"),
        (
            f"sender: batches of {SENDER_BATCH} (+1 empty)",
            str(batches(small["sent"])),
            str(batches(large["sent"])),
        ),
        (
            "sender: all statements",
            str(len(small["sender_queries"])),
            str(len(large["sender_queries"])),
        ),
        (
            "sender: statements per batch",
            f"{len(small['sender_queries']) / batches(small['sent']):.1f}",
            f"{len(large['sender_queries']) / batches(large['sent']):.1f}",
        ),
    ]
    print_table(headers, rows)
    print()

    ratio = large["job_ms"] / large["baseline_ms"]
    print(f"Timings on {args.contracts:,} contracts, median of {args.repeat} runs (rolled back):")
    print(f"  daily job                       {large['job_ms']:10.1f} ms")
    print(
        f"  baseline SQL (renewal selection){large['baseline_ms']:10.1f} ms   "
        f"({large['baseline_rows']:,} rows)"
    )
    print(f"  ratio job / baseline            {ratio:10.1f}x")
    print(
        f"  reminder sender                 {large['sender_ms']:10.1f} ms   "
        f"({large['sent']:,} reminders, {large['sent'] and large['sender_ms'] / large['sent']:.2f} "
        f"ms per reminder)"
    )
    print()
    print("Steps of one run of the job (large):")
    print_table(
        ("step", "queries", "ms"),
        [(name, str(queries), f"{ms:.1f}") for name, queries, ms in large["steps"]],
    )
    print()
    print(f"Measuring took {measured:.1f} s.")

    ok = True
    job_small, job_large = len(small["queries"]), len(large["queries"])
    if job_large > job_small:
        print(
            f"FAIL: the daily job runs {job_large} queries on {args.contracts:,} contracts and "
            f"{job_small} on {args.small:,}: the count grows with the number of contracts."
        )
        ok = False
    else:
        print(
            f"OK: the daily job runs {job_large} queries on {args.contracts:,} contracts and "
            f"{job_small} on {args.small:,}."
        )
    if large["baseline_rows"] != large["report"].renewals_opened:
        print(
            f"FAIL: the baseline SQL selects {large['baseline_rows']:,} contracts, the job "
            f"opened {large['report'].renewals_opened:,} renewals."
        )
        ok = False
    else:
        print(
            f"OK: the baseline SQL selects the {large['baseline_rows']:,} contracts the job renews."
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
