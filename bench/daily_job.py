"""Benchmark of the daily job (``operations.services.daily_job``) and of the reminder sender
(``contracts.services.reminders.reminders_send_pending``) on a production-sized register.

Run from the repository root::

    .venv/bin/python bench/daily_job.py
    .venv/bin/python bench/daily_job.py --contracts 100000 --small 1000 --repeat 5 \\
        --database-url postgres://postgres@127.0.0.1:5432/hap_bench_jobs

Two data sets (``bench.datasets.daily_job``) are built, each in a PostgreSQL database of its
own: ``--contracts`` contracts in the database of ``--database-url`` and ``--small`` contracts
in the database of the same name with ``_small`` appended. A database is created when missing,
migrated, and dropped and built again when its data set differs from the one asked for, or with
``--rebuild``. The script refuses to drop a database holding users it did not create.

Every contract has a care location of its own and a contracted origin request; the end dates are
spread uniformly over the five years after TODAY (2026-11-23, passed to the job). Every step of
the job gets work: renewals to open (2 % of them open already, with the reminders sent so far),
the countdowns of ``contracts.services.renewals.COUNTDOWNS`` (renewals due, completion
deadlines, grace periods ending and ended, breach actions overdue), locations to list after
their grace period and triage filter entries of locations that have a contract by now.

Measured, on both sizes: the queries of one run of the job. On the large size: the median time
of ``--repeat`` runs of the job, each from the same state (the run is rolled back), as a ratio
to one set-based SQL statement that selects the contracts whose renewal the job opens; the
sender's time and queries for the reminders the job scheduled (locmem e-mail backend, also
rolled back); and the queries and time of each step of one run (and of each countdown's query).

Exits non-zero when the job runs more queries on the large data set than on the small one, or
when the SQL statement does not select as many contracts as the job opened renewals.
``--explain`` also prints ``EXPLAIN (ANALYZE, BUFFERS)`` of every SELECT of the job. The last
line is ``RESULT {json}``.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import sys
import time
from pathlib import Path
from unittest import mock

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench import datasets, runner  # noqa: E402

BENCHMARK = "daily_job"
SMALL_SUFFIX = "_small"
TODAY = datetime.date(2026, 11, 23)
DATASET_VERSION = 3
# The steps of ``daily_job``, in its order (names in operations.services).
JOB_STEPS = (
    "renewals_open_due",
    "reminders_schedule",
    "triage_filter_list_after_grace",
    "triage_filter_delist_contracted",
)


def parse_args(argv=None):
    parser = runner.parser(__doc__, database="hap_bench_jobs", repeat=5)
    parser.add_argument("--contracts", type=int, default=100_000, help="contracts (large size)")
    parser.add_argument(
        "--small", type=int, default=1_000, help="contracts of the small data set (query count)"
    )
    parser.add_argument(
        "--explain", action="store_true", help="print the plans of the job's SELECTs (large)"
    )
    args = parser.parse_args(argv)
    runner.check_at_least(parser, args, 1, "contracts", "small", "repeat")
    if args.small >= args.contracts:
        parser.error("--small must be smaller than --contracts")
    return args


def prepare(name: str, n_contracts: int, rebuild: bool) -> float | None:
    with runner.use_database(name):
        return runner.prepare_database(
            BENCHMARK,
            f"contracts={n_contracts} today={TODAY.isoformat()} v{DATASET_VERSION}",
            lambda: datasets.daily_job(BENCHMARK, n_contracts, TODAY),
            rebuild=rebuild,
        )


# --- The floor -------------------------------------------------------------------------------


def baseline_sql() -> tuple[str, list]:
    """One statement selecting what ``renewals_open_due`` selects, with NOT EXISTS subqueries."""
    from hap_contracting.contracts.models import Contract, renewal_horizon
    from hap_contracting.procedure.constants import UNFINISHED_STATES
    from hap_contracting.procedure.models import AdmissionRequest

    contract = Contract._meta.db_table
    request = AdmissionRequest._meta.db_table
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
    return sql, [TODAY, renewal_horizon(TODAY), [str(state) for state in UNFINISHED_STATES]]


# --- The job ---------------------------------------------------------------------------------


def run_job():
    from hap_contracting.operations.services import daily_job

    return daily_job(TODAY)


def job_queries() -> tuple[object, list[str], int]:
    """One run of the job, rolled back; its report, its queries and the reminder rows it added
    (the report counts the new ones, as the job counts them)."""
    from hap_contracting.contracts.models import Reminder

    with runner.rolled_back():
        before = Reminder.objects.count()
        report, queries = runner.count_queries(run_job)
        return report, queries, Reminder.objects.count() - before


def sender_run(capture: bool) -> tuple[int, int, float, list[str]]:
    """Schedule with the job, then time the sender; rolled back. Returns (reminders sent,
    messages, seconds, queries)."""
    from django.core import mail
    from django.test.utils import override_settings

    from hap_contracting.contracts.services.reminders import reminders_send_pending

    with (
        override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"),
        runner.rolled_back(),
    ):
        run_job()
        mail.outbox = []
        queries: list[str] = []
        started = time.perf_counter()
        if capture:
            sent, queries = runner.count_queries(reminders_send_pending)
        else:
            sent = reminders_send_pending()
        elapsed = time.perf_counter() - started
        messages = len(mail.outbox)
        mail.outbox = []
    return sent, messages, elapsed, queries


class _TimedCountdown:
    """A countdown of ``COUNTDOWNS`` whose query (``reminders``) is measured."""

    def __init__(self, countdown, record):
        self.countdown, self.record = countdown, record

    def reminders(self, today):
        name = f"  countdown {self.countdown.rows.__name__.lstrip('_')}"
        return self.record(name, self.countdown.reminders, today)


def step_breakdown() -> list[tuple[str, int, float]]:
    """Queries and milliseconds of each step of one run of the job (rolled back), and of the
    query of each countdown inside ``reminders_schedule``."""
    from hap_contracting.contracts.services import renewals
    from hap_contracting.operations import services

    results = []

    def record(name, func, *args):
        started = time.perf_counter()
        value, queries = runner.count_queries(lambda: func(*args))
        results.append((name, len(queries), (time.perf_counter() - started) * 1000))
        return value

    def wrap(name):
        func = getattr(services, name)
        return lambda *args: record(name, func, *args)

    with contextlib.ExitStack() as stack:
        for name in JOB_STEPS:
            stack.enter_context(mock.patch.object(services, name, wrap(name)))
        countdowns = tuple(_TimedCountdown(c, record) for c in renewals.COUNTDOWNS)
        stack.enter_context(mock.patch.object(renewals, "COUNTDOWNS", countdowns))
        with runner.rolled_back():
            run_job()
    # A step is recorded when it ends, after its countdowns: list them under it.
    steps = [r for r in results if not r[0].startswith(" ")]
    nested = [r for r in results if r[0].startswith(" ")]
    ordered = []
    for step in steps:
        ordered.append(step)
        if step[0] == "reminders_schedule":
            ordered += nested
    return ordered


def explain_job() -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each SELECT of one run (rolled back), taken just before the
    SELECT runs, so each plan sees the state the earlier steps left."""
    from django.db import connection

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

    with runner.rolled_back(), connection.execute_wrapper(explain_first):
        run_job()
    print("Plans of the job's SELECTs (EXPLAIN ANALYZE just before each ran):")
    for sql, lines in plans:
        print()
        print(sql[:600] + (" …" if len(sql) > 600 else ""))
        for line in lines:
            print("    " + line)
    print()


def measure(large: bool, repeat: int = 0, explain: bool = False) -> dict:
    """The job's queries and the sender's; on the large size also the timings and steps."""
    report, queries, inserted = job_queries()  # also the warm-up
    sent, messages, _elapsed, sender_queries = sender_run(capture=True)
    result = {
        "report": report,
        "queries": queries,
        "inserted": inserted,
        "sent": sent,
        "messages": messages,
        "sender_queries": sender_queries,
    }
    if not large:
        return result

    from django.db import connection

    def rolled_back_job():
        with runner.rolled_back():
            run_job()

    sql, params = baseline_sql()
    rows: list = []

    def run_baseline():
        nonlocal rows
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()

    result.update(
        job=runner.timed(rolled_back_job, repeat),
        baseline=runner.timed(run_baseline, repeat, warm_up=1),
        sender=runner.Timing([sender_run(capture=False)[2] for _ in range(repeat)]),
        steps=step_breakdown(),
    )
    result["baseline_rows"] = len(rows)
    if explain:
        explain_job()
    return result


def dataset_summary() -> str:
    from hap_contracting.contracts.models import Contract, Reminder
    from hap_contracting.organisations.models import CareLocation
    from hap_contracting.procedure.models import AdmissionRequest

    return (
        f"{Contract.objects.count():,} contracts, {CareLocation.objects.count():,} care "
        f"locations, {AdmissionRequest.objects.count():,} admission requests, "
        f"{Reminder.objects.count():,} reminders (all sent)"
    )


def main(argv=None) -> int:
    args = parse_args(argv)
    runner.setup_django(args.database_url, DJANGO_EMAIL_URL="memory://")

    from django.conf import settings

    from hap_contracting.contracts.services.reminders import BATCH_SIZE as SENDER_BATCH

    large_name = settings.DATABASES["default"]["NAME"]
    small_name = large_name + SMALL_SUFFIX
    builds = {
        args.small: prepare(small_name, args.small, args.rebuild),
        args.contracts: prepare(large_name, args.contracts, args.rebuild),
    }
    with runner.use_database(small_name):
        small = measure(large=False)
        small_summary = dataset_summary()
    started = time.perf_counter()
    large = measure(large=True, repeat=args.repeat, explain=args.explain)
    measured = time.perf_counter() - started

    print()
    print(f"{runner.describe_environment()}; TODAY = {TODAY.isoformat()} (passed to the job).")
    print(f"Small ({small_name}): {small_summary}.")
    print(f"Large ({large_name}): {dataset_summary()}.")
    for size, seconds in builds.items():
        if seconds is not None:
            print(f"Built the {size:,}-contract data set in {seconds:.1f} s.")
    print()

    def sql_count(queries):
        return sum(not runner.is_savepoint(sql) for sql in queries)

    def batches(sent):
        return math.ceil(sent / SENDER_BATCH) + 1  # the last, empty batch ends the loop

    def both(func):
        return (func(small), func(large))

    table = [  # (key in RESULT, label, figure)
        ("job_statements", "daily job: all statements", lambda m: len(m["queries"])),
        ("job_queries", "daily job: without savepoints", lambda m: sql_count(m["queries"])),
        ("renewals_opened", "renewals opened", lambda m: m["report"].renewals_opened),
        (
            "reminders_scheduled",
            "reminders scheduled (job's report)",
            lambda m: m["report"].reminders_scheduled,
        ),
        ("reminder_rows_added", "reminder rows added", lambda m: m["inserted"]),
        ("locations_listed", "locations listed", lambda m: m["report"].locations_listed),
        ("locations_delisted", "locations delisted", lambda m: m["report"].locations_delisted),
        ("reminders_sent", "sender: reminders sent", lambda m: m["sent"]),
        ("emails", "sender: e-mails", lambda m: m["messages"]),
        (
            "sender_batches",
            f"sender: batches of {SENDER_BATCH} (+1 empty)",
            lambda m: batches(m["sent"]),
        ),
        ("sender_statements", "sender: all statements", lambda m: len(m["sender_queries"])),
    ]
    runner.print_table(
        ("queries", f"{args.small:,} contracts", f"{args.contracts:,} contracts"),
        [(label, f"{figure(small):,}", f"{figure(large):,}") for _key, label, figure in table],
    )
    print()
    job, baseline, sender = large["job"], large["baseline"], large["sender"]
    per_reminder = sender.median_ms / large["sent"] if large["sent"] else 0
    print(f"Timings on {args.contracts:,} contracts, median of {args.repeat} runs (rolled back):")
    print(f"  daily job                        {job.median_ms:10.1f} ms")
    print(
        f"  baseline SQL (renewal selection) {baseline.median_ms:10.1f} ms   "
        f"({large['baseline_rows']:,} rows)"
    )
    print(f"  ratio job / baseline             {job.median / baseline.median:10.1f}x")
    print(
        f"  reminder sender                  {sender.median_ms:10.1f} ms   "
        f"({large['sent']:,} reminders, {per_reminder:.2f} ms per reminder)"
    )
    print()
    print("Steps of one run of the job (large):")
    runner.print_table(
        ("step", "queries", "ms"),
        [(name, str(queries), f"{ms:.1f}") for name, queries, ms in large["steps"]],
    )
    print()
    print(f"Measuring took {measured:.1f} s.")

    job_small, job_large = len(small["queries"]), len(large["queries"])
    failures, passed = [], []
    counts = (
        f"{job_large} queries on {args.contracts:,} contracts and {job_small} on {args.small:,}"
    )
    if job_large > job_small:
        failures.append(f"the daily job runs {counts}: the count grows with the contracts.")
    else:
        passed.append(f"the daily job runs {counts}.")
    opened = large["report"].renewals_opened
    if large["baseline_rows"] != opened:
        failures.append(
            f"the baseline SQL selects {large['baseline_rows']:,} contracts, the job opened "
            f"{opened:,} renewals."
        )
    else:
        passed.append(f"the baseline SQL selects the {opened:,} contracts the job renews.")
    return runner.finish(
        BENCHMARK,
        sizes={"contracts": args.contracts, "small": args.small, "repeat": args.repeat},
        figures={
            **{
                key: {"small": figure(small), "large": figure(large)}
                for key, _label, figure in table
            },
            "job": job,
            "baseline_sql": baseline,
            "sender": sender,
            "sender_ms_per_reminder": round(per_reminder, 3),
            "steps": {
                name.strip(): {"queries": q, "ms": round(ms, 3)} for name, q, ms in large["steps"]
            },
        },
        ratios={
            "job_over_baseline_sql": runner.ratio(job.median, baseline.median),
            "job_queries_large_over_small": runner.ratio(job_large, job_small),
        },
        failures=failures,
        passed=passed,
    )


if __name__ == "__main__":
    sys.exit(main())
