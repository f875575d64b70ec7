"""Benchmark of the triage API against its floors: throughput with concurrent clients (closed
loop) and latency at a fixed arrival rate (open loop), for the verdict and for the feed.

Run from the repository root::

    .venv/bin/python bench/triage_lookup.py
    .venv/bin/python bench/triage_lookup.py --smoke
    .venv/bin/python bench/triage_lookup.py --duration 15 --rate 200 --clients 50 \\
        --database-url postgres://postgres@127.0.0.1:5432/hap_bench_triage
    .venv/bin/python bench/triage_lookup.py --worker-class sync --workers 4  # sync, for comparison

The data set (``bench.datasets.triage``): care locations, running contracts on ``--contracts``
of them and triage filter entries on ``--listed`` others, and the verdict per address as the
services keep it. The script makes one API client with a fresh token
(``triage.services.triage_api_client_create``), starts gunicorn with production's configuration
(``config/gunicorn_conf.py``: gthread, 6 processes × 2 threads; ``--workers``, ``--threads``
and ``--worker-class`` override it) serving ``bench/minimal_wsgi.py`` (the project's
application, DEBUG off, plus the floor views of ``bench/minimal_urls.py``) on 127.0.0.1, and
measures each endpoint beside its floor, one after the other:

- the verdict (URL name ``triage:api_verdict``) for random addresses (known locations, an
  addition in either case, and ``--unknown-share`` unknown ones): the token check, one indexed
  SELECT of the verdict kept per address, one INSERT in the access log. Its floor
  (``/api/bench/triage/verdict``) is the same token check and the same SELECT, as JSON; a second
  floor (``…/verdict-logged``) adds the same access-log INSERT, to show what that costs;
- the feed (``triage:api_addresses``), the whole list, and the changes since a version
  (``?changed_since=``, a few versions behind the head): the token check, the version, the
  answer, the access log and the client's sync. Its floor (``/api/bench/triage/addresses``) is the
  token check and ONE SELECT of the same list (or changes), as JSON; for the changes a second
  floor (``…/addresses-logged``) adds the access-log INSERT, as for the verdict.

For each, two measurements:

- closed loop: ``--clients`` concurrent clients, each sending its next request when the last
  answered, for ``--duration`` seconds after ``--warm-up``, in ``--slices`` rounds in which
  the endpoint and its floor take turns (a change in the machine's load then falls on both):
  requests per second. The ratio endpoint / floor is the throughput figure (target ≥ 0.8);
- open loop: requests scheduled at ``--rate`` per second for ``--open-duration`` seconds
  whatever the answers (as wrk2 does), each request's latency counted from the moment it was
  scheduled, so a stall delays all requests due meanwhile and shows in the percentiles
  (no coordinated omission), in the same ``--slices`` rounds taking turns. p50/p95/p99 (target
  p99 ≤ 20 ms at 200 per second). A floor's open loop is run only when its closed loop answered
  more than the rate (else it would only show a queue growing).

The load generator is Python (threads with ``http.client``, spread over ``--load-processes``
processes) on the same machine as gunicorn and PostgreSQL: the CPU it took is printed as a
share of the machine's busy CPU, so you can judge whether it, rather than the server, was the
limit. Each client keeps its connection while gunicorn keeps it alive (gthread does, for
``keepalive`` seconds; sync workers close it after each response), for every endpoint alike.
The machine's load average is printed too.

``--smoke`` uses a small data set and short runs; it exits non-zero when a request fails, the
workload breaks (a verdict missing from the answers, a feed answer of the wrong length) or a
request's query count is not the constant it should be (counted in process with Django's test
client). The targets are only reported then; at full size the RESULT json says for each
endpoint whether they hold.

The database is dropped and built again when its data set differs from the one asked for (or
with ``--rebuild``): point ``--database-url`` at a database of its own. The script refuses one
holding users it did not create. The last line is ``RESULT {json}``.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import resource
import runpy
import sys
import threading
import time
import urllib.parse
from array import array
from collections import Counter
from http.client import HTTPConnection
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench import datasets, runner  # noqa: E402

BENCHMARK = "triage_lookup"
CLIENT_NAME = "bench.tpm"
DATASET_VERSION = 4
MINIMAL_PATH = "/bench/ok.json"
FLOOR_VERDICT = "/api/bench/triage/verdict"
FLOOR_VERDICT_LOGGED = "/api/bench/triage/verdict-logged"
FLOOR_ADDRESSES = "/api/bench/triage/addresses"
FLOOR_ADDRESSES_LOGGED = "/api/bench/triage/addresses-logged"
# How far behind the head the syncs asking for changes are.
VERSIONS_BEHIND = (0, 1, 5, 20, 100)
SMOKE = {
    "locations": 600,
    "contracts": 150,
    "listed": 120,
    "duration": 0.4,
    "open_duration": 0.4,
    "warm_up": 0.1,
    "clients": 8,
    "log_seconds": 0.3,
    "slices": 1,
}
TARGET_RATIO = 0.8
TARGET_P99_MS = 20.0
# Queries of one request once the process knows the client (in process, test client): the
# verdict's SELECT, the access log's INSERT and the wait for it to reach the disk
# (``audit.services.access_log_record_api_read``); the feed's version, the answer (the first read
# of a version), and the log's INSERT, with the sync's UPDATE in one transaction when the sync
# is due (BEGIN and COMMIT counted).
MAX_QUERIES = {"verdict": 3, "feed_list": 6, "feed_changes": 6}


def parse_args(argv=None):
    parser = runner.parser(__doc__, database="hap_bench_triage", repeat=None)
    parser.add_argument("--locations", type=int, default=10_000, help="care locations")
    parser.add_argument("--contracts", type=int, default=3_000, help="running contracts")
    parser.add_argument("--listed", type=int, default=2_000, help="triage filter entries")
    parser.add_argument("--duration", type=float, default=15, help="closed loop: seconds")
    parser.add_argument("--open-duration", type=float, default=15, help="open loop: seconds")
    parser.add_argument("--warm-up", type=float, default=2, help="seconds before each endpoint")
    parser.add_argument(
        "--slices",
        type=int,
        default=3,
        help="closed loop: rounds in which an endpoint and its floor take turns",
    )
    parser.add_argument("--clients", type=int, default=50, help="closed loop: clients")
    parser.add_argument("--rate", type=float, default=200, help="open loop: requests a second")
    parser.add_argument(
        "--workers", type=int, help="gunicorn processes (default: config/gunicorn_conf.py's)"
    )
    parser.add_argument("--threads", type=int, help="threads per gunicorn process (gthread)")
    parser.add_argument("--worker-class", help="gunicorn worker class (default: the config's)")
    parser.add_argument(
        "--log-seconds",
        type=float,
        default=2,
        help="seconds of each access-log insert measurement (chained, and an unchained copy)",
    )
    parser.add_argument("--load-processes", type=int, default=2, help="load generator processes")
    parser.add_argument(
        "--unknown-share", type=float, default=0.2, help="share of unknown addresses asked"
    )
    parser.add_argument("--port", type=int, default=0, help="gunicorn port (default: a free one)")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=60,
        help="CONN_MAX_AGE of the workers (default 60, as the settings' DJANGO_CONN_MAX_AGE; "
        "0 opens a connection per request)",
    )
    parser.add_argument(
        "--smoke", action="store_true", help="small data set, short runs; fails on broken work"
    )
    parser.add_argument(
        "--only",
        choices=list(COMPARED),
        action="append",
        help="measure only this endpoint and its floor (repeatable; default all)",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        for name, value in SMOKE.items():
            if parser.get_default(name) == getattr(args, name):
                setattr(args, name, value)
        if args.database_url == parser.get_default("database_url"):
            args.database_url += "_smoke"  # the full data set stays where it is
    runner.check_at_least(
        parser,
        args,
        1,
        "locations",
        "contracts",
        "listed",
        "clients",
        "load_processes",
        "slices",
    )
    if args.contracts + args.listed > args.locations:
        parser.error("--contracts plus --listed can't exceed --locations")
    return args


def new_api_token() -> str:
    from hap_contracting.triage.models import TriageApiClient
    from hap_contracting.triage.services import triage_api_client_create

    TriageApiClient.objects.filter(name=CLIENT_NAME).delete()
    return triage_api_client_create(name=CLIENT_NAME)[1]


def address_queries(unknown_share: float, seed: int = 7) -> list[str]:
    """10,000 query strings of addresses: known ones (additions in any case) and unknown ones."""
    from hap_contracting.organisations.models import CareLocation

    rng = random.Random(seed)
    known = list(
        CareLocation.objects.values_list("postcode", "house_number", "house_number_addition")
    )
    taken = set(known)
    letters = datasets.postcode_letters()
    queries = []
    for _ in range(10_000):
        if rng.random() < unknown_share:
            while True:
                address = (
                    f"{rng.randint(1000, 9999)} {rng.choice(letters)}",
                    rng.randint(1, 500),
                    "",
                )
                if address not in taken:
                    break
        else:
            address = rng.choice(known)
        postcode, number, addition = address
        query = {"postcode": postcode.replace(" ", "") if rng.random() < 0.5 else postcode}
        query["house_number"] = str(number)
        if addition:
            query["addition"] = addition.lower() if rng.random() < 0.5 else addition
        queries.append(urllib.parse.urlencode(query))
    return queries


def endpoints(unknown_share: float) -> list[dict]:
    """What is measured, in order: each floor just before what it is the floor of."""
    from django.urls import reverse

    from hap_contracting.triage.selectors import triage_list_version

    queries = address_queries(unknown_share)
    version = triage_list_version()
    since = [f"changed_since={max(0, version - behind)}" for behind in VERSIONS_BEHIND]
    verdict, addresses = reverse("triage:api_verdict"), reverse("triage:api_addresses")
    return [
        {"key": "minimal", "label": "minimal JSON view (no token)", "paths": [MINIMAL_PATH]},
        {
            "key": "verdict_floor",
            "label": "verdict floor",
            "paths": [f"{FLOOR_VERDICT}?{q}" for q in queries],
        },
        {
            "key": "verdict_floor_logged",
            "label": "verdict floor + access log",
            "paths": [f"{FLOOR_VERDICT_LOGGED}?{q}" for q in queries],
        },
        {"key": "verdict", "label": "verdict", "paths": [f"{verdict}?{q}" for q in queries]},
        {"key": "feed_list_floor", "label": "feed floor: list", "paths": [FLOOR_ADDRESSES]},
        {"key": "feed_list", "label": "feed: list", "paths": [addresses]},
        {
            "key": "feed_changes_floor",
            "label": "feed floor: changes",
            "paths": [f"{FLOOR_ADDRESSES}?{q}" for q in since],
        },
        {
            "key": "feed_changes_floor_logged",
            "label": "feed floor: changes + access log",
            "paths": [f"{FLOOR_ADDRESSES_LOGGED}?{q}" for q in since],
        },
        {
            "key": "feed_changes",
            "label": "feed: changes",
            "paths": [f"{addresses}?{q}" for q in since],
        },
    ]


# Which endpoints are compared with which floor, and the targets that apply to them.
COMPARED = {
    "verdict": "verdict_floor",
    "feed_list": "feed_list_floor",
    "feed_changes": "feed_changes_floor",
}
GROUPS = (
    ("minimal",),
    ("verdict_floor", "verdict_floor_logged", "verdict"),
    ("feed_list_floor", "feed_list"),
    ("feed_changes_floor", "feed_changes_floor_logged", "feed_changes"),
)


def groups(measured: list[dict], only=None) -> list[list[dict]]:
    by_key = {endpoint["key"]: endpoint for endpoint in measured}
    return [
        [by_key[key] for key in group]
        for group in GROUPS
        if only is None or any(key in only for key in group)
    ]


# --- Load generator --------------------------------------------------------------------------


def _cpu_seconds_of_tree(root_pid: int) -> float:
    """User + system CPU of a process and its children (gunicorn master and workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        if pid == root_pid or ppid == root_pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


class Tally:
    """What one load process saw: latencies (seconds), statuses, verdicts, body sizes."""

    def __init__(self):
        self.latencies = array("d")
        self.statuses = Counter()
        self.verdicts = Counter()
        self.sizes = Counter()
        self.lock = threading.Lock()

    def request(self, connection, path, headers, started) -> HTTPConnection:
        """One request on ``connection`` (a new one when gunicorn closed the last), its latency
        counted from ``started``. Returns the connection to use next."""
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            latency = time.perf_counter() - started
            with self.lock:
                self.latencies.append(latency)
                self.statuses[response.status] += 1
                if response.status == 200:
                    if body.startswith(b'{"verdict"'):
                        verdict = body.split(b'"verdict": "', 1)[1].split(b'"', 1)[0]
                        self.verdicts[verdict.decode()] += 1
                    else:
                        self.sizes[_items_in(body)] += 1
            if response.will_close:
                connection.close()
        except OSError:
            with self.lock:
                self.statuses["connection error"] += 1
            connection.close()
        return connection

    def as_tuple(self):
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return (
            self.latencies.tobytes(),
            dict(self.statuses),
            dict(self.verdicts),
            dict(self.sizes),
            usage.ru_utime + usage.ru_stime,
        )


def _items_in(body: bytes) -> int:
    """How many entries or changes a feed answer holds (the floors' and the API's alike: each
    item names its entry once), counted without parsing the answer."""
    return body.count(b'"entry":')


def _closed_loop_process(port, paths, headers, threads, duration, seed, queue):
    tally = Tally()
    deadline = time.perf_counter() + duration

    def client(seed_):
        rng = random.Random(seed_)
        connection = HTTPConnection("127.0.0.1", port, timeout=30)
        while (started := time.perf_counter()) < deadline:
            connection = tally.request(
                connection, paths[rng.randrange(len(paths))], headers, started
            )
        connection.close()

    workers = [threading.Thread(target=client, args=(seed * 100 + i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put(tally.as_tuple())


def _open_loop_process(port, paths, headers, threads, schedule, seed, queue):
    """Send the requests due at ``schedule`` (perf_counter moments; the clock is the machine's
    monotonic one, the same in every process), each by the first free thread; a request sent
    late because every thread was busy counts its wait."""
    tally = Tally()
    rng = random.Random(seed)
    chosen = [paths[rng.randrange(len(paths))] for _ in schedule]
    next_slot = iter(range(len(schedule)))
    lock = threading.Lock()

    def sender():
        connection = HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                slot = next(next_slot, None)
            if slot is None:
                break
            wait = schedule[slot] - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            connection = tally.request(connection, chosen[slot], headers, schedule[slot])
        connection.close()

    senders = [threading.Thread(target=sender) for _ in range(threads)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()
    queue.put(tally.as_tuple())


def run_load(args, paths, headers, server_pid, *, duration, open_loop: bool) -> dict:
    """The closed loop (``--clients`` over ``--load-processes``) or the open loop (``--rate``
    per second, the schedule shared out over the processes) for ``duration`` seconds: what it
    saw, unsummed (``summary`` adds runs up)."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes_n = args.load_processes
    server_cpu_before = _cpu_seconds_of_tree(server_pid)
    busy_before, total_before, stolen_before = runner.machine_cpu_seconds()
    started = time.perf_counter()
    lead_time = 0.2 if open_loop else 0.0  # the processes start before the first is due
    if open_loop:
        first = started + lead_time
        due = [first + i / args.rate for i in range(int(args.rate * duration))]
        processes = [
            context.Process(
                target=_open_loop_process,
                args=(args.port, paths, headers, 32, due[i::processes_n], i + 1, queue),
            )
            for i in range(processes_n)
        ]
    else:
        per_process = [
            args.clients // processes_n + (1 if i < args.clients % processes_n else 0)
            for i in range(processes_n)
        ]
        processes = [
            context.Process(
                target=_closed_loop_process,
                args=(args.port, paths, headers, n, duration, i + 1, queue),
            )
            for i, n in enumerate(per_process)
            if n
        ]
    for process in processes:
        process.start()
    results = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started - lead_time
    busy_after, total_after, stolen_after = runner.machine_cpu_seconds()
    run = {
        "latencies": array("d"),
        "statuses": Counter(),
        "verdicts": Counter(),
        "sizes": Counter(),
        "load_cpu": 0.0,
        "server_cpu": _cpu_seconds_of_tree(server_pid) - server_cpu_before,
        "machine_busy": busy_after - busy_before,
        "machine_total": total_after - total_before,
        "machine_stolen": stolen_after - stolen_before,
        "elapsed": elapsed,
    }
    for raw, status_counts, verdict_counts, size_counts, cpu in results:
        part = array("d")
        part.frombytes(raw)
        run["latencies"].extend(part)
        run["statuses"].update(status_counts)
        run["verdicts"].update(verdict_counts)
        run["sizes"].update(size_counts)
        run["load_cpu"] += cpu
    return run


def summary(runs: list[dict]) -> dict:
    """Runs of one endpoint added up: requests a second over their time, the percentiles of
    all their latencies."""
    ordered = sorted(latency for run in runs for latency in run["latencies"])
    statuses, verdicts, sizes = Counter(), Counter(), Counter()
    for run in runs:
        statuses.update(run["statuses"])
        verdicts.update(run["verdicts"])
        sizes.update(run["sizes"])
    elapsed = sum(run["elapsed"] for run in runs)
    machine_busy = sum(run["machine_busy"] for run in runs)
    machine_total = sum(run["machine_total"] for run in runs) or 1
    load_cpu = sum(run["load_cpu"] for run in runs)

    def percentile(p: float) -> float:
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    return {
        "requests": len(ordered),
        "rps": len(ordered) / elapsed if elapsed else 0.0,
        "p50": percentile(50),
        "p95": percentile(95),
        "p99": percentile(99),
        "max": percentile(100),
        "errors": sum(n for status, n in statuses.items() if status not in (200, 304)),
        "statuses": statuses,
        "verdicts": verdicts,
        "sizes": sizes,
        "load_cpu": load_cpu,
        "load_cpu_share": load_cpu / machine_busy if machine_busy else 0.0,
        "server_cpu": sum(run["server_cpu"] for run in runs),
        "machine_busy_share": machine_busy / machine_total,
        "machine_stolen_share": sum(run["machine_stolen"] for run in runs) / machine_total,
        "elapsed": elapsed,
    }


def measure_group(args, group: list[dict], headers, server_pid) -> dict:
    """The endpoints of ``group`` (a floor and what it is the floor of): warmed up, then the
    closed loop and then the open loop, each in ``--slices`` rounds in which they take turns,
    so that a change in the machine's load falls on all of them alike."""
    from django.db import connections

    connections.close_all()  # no connection is inherited by the forked load generator

    def rounds(endpoints_, *, duration, open_loop):
        runs = {endpoint["key"]: [] for endpoint in endpoints_}
        for _round in range(args.slices):
            for endpoint in endpoints_:
                runs[endpoint["key"]].append(
                    run_load(
                        args,
                        endpoint["paths"],
                        headers,
                        server_pid,
                        duration=duration / args.slices,
                        open_loop=open_loop,
                    )
                )
        return {key: summary(parts) for key, parts in runs.items()}

    for endpoint in group:
        if args.warm_up > 0:
            run_load(
                args, endpoint["paths"], headers, server_pid, duration=args.warm_up, open_loop=False
            )
    closed = rounds(group, duration=args.duration, open_loop=False)
    # The targets' latency is measured always; a floor's only when it can keep up with the rate
    # (else its open loop shows a queue growing for minutes), and not in the smoke, which is
    # about whether the work is right.
    timed = [
        endpoint
        for endpoint in group
        if endpoint["key"] in COMPARED
        or (
            endpoint["key"] != "minimal"
            and not args.smoke
            and closed[endpoint["key"]]["rps"] > args.rate
        )
    ]
    opened = rounds(timed, duration=args.open_duration, open_loop=True)
    results = {}
    for endpoint in group:
        key = endpoint["key"]
        results[key] = {"closed": closed[key], "open": opened.get(key)}
        print(
            f"  {endpoint['label']}: {closed[key]['rps']:.0f}/s closed loop"
            + (f", p99 {opened[key]['p99']:.1f} ms at {args.rate:g}/s" if key in opened else ""),
            flush=True,
        )
    return results


# --- The access log's capacity ----------------------------------------------------------------

LOG_INSERT = (
    "INSERT INTO {table} (at, api_client, roles, action, what, patient_references, "
    "references_digest, outcome, client_address, user_agent) "
    "VALUES (now(), 'bench', '', 'view', 'bench: one read', '', '', 'shown', '127.0.0.1', '')"
)
# As the API writes an entry: committed without waiting for the disk (the chain's lock is
# released at once), then a second commit that waits for the disk, outside the lock.
LOG_INSERT_QUICK = (
    "INSERT INTO {table} (at, api_client, roles, action, what, patient_references, "
    "references_digest, outcome, client_address, user_agent) "
    "SELECT now(), 'bench', '', 'view', 'bench: one read', '', '', 'shown', '127.0.0.1', '' "
    "FROM (SELECT set_config('synchronous_commit', 'off', true)) quick_commit"
)
LOG_FLUSH = "SELECT pg_current_xact_id()"


def log_capacity(seconds: float, threads: int = 8) -> dict:
    """Access-log entries a second that ``threads`` connections commit one by one (autocommit,
    once plainly) for ``seconds``: into the chained access log with an ordinary commit, whose
    trigger holds the chain's lock until the commit has reached the disk, so that every commit
    waits for the one before it (at most about one entry per flush of the write-ahead log,
    whatever the number of clients); into the chained log as the API writes (the lock released
    at a commit that does not wait, then a second commit that waits for the disk); and into an
    unchained copy of the table (same columns and indexes, no trigger), where concurrent
    commits share a flush."""
    import psycopg
    from django.db import connection

    from hap_contracting.audit.models import AccessLogEntry

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    copy = "bench_unchained_access_log"
    with psycopg.connect(**params, autocommit=True) as setup:
        setup.execute(f"DROP TABLE IF EXISTS {copy}")
        setup.execute(f"CREATE TABLE {copy} (LIKE {AccessLogEntry._meta.db_table} INCLUDING ALL)")
    figures = {}
    try:
        chained = AccessLogEntry._meta.db_table
        for label, table, statements in (
            ("chained", chained, (LOG_INSERT,)),
            ("chained_quick_commit", chained, (LOG_INSERT_QUICK, LOG_FLUSH)),
            ("unchained", copy, (LOG_INSERT,)),
        ):
            latencies = array("d")
            lock = threading.Lock()
            deadline = time.perf_counter() + seconds

            def insert(
                table=table,
                statements=statements,
                latencies=latencies,
                lock=lock,
                deadline=deadline,
            ):
                with psycopg.connect(**params, autocommit=True) as conn:
                    sqls = [statement.format(table=table) for statement in statements]
                    while (started := time.perf_counter()) < deadline:
                        for sql in sqls:
                            conn.execute(sql)
                        with lock:
                            latencies.append(time.perf_counter() - started)

            started = time.perf_counter()
            workers = [threading.Thread(target=insert) for _ in range(threads)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            elapsed = time.perf_counter() - started
            ordered = sorted(latencies)
            figures[label] = {
                "inserts_per_s": round(len(ordered) / elapsed, 1),
                "p50_ms": round(ordered[len(ordered) // 2] * 1000, 2),
                "p99_ms": round(ordered[int(0.99 * len(ordered))] * 1000, 2),
            }
    finally:
        with psycopg.connect(**params, autocommit=True) as setup:
            setup.execute(f"DROP TABLE IF EXISTS {copy}")
    return figures


# --- The server ------------------------------------------------------------------------------

GUNICORN_CONF = REPO_ROOT / "config" / "gunicorn_conf.py"


def gunicorn_options(args) -> list[str]:
    """Production's configuration file (``config/gunicorn_conf.py``: gthread, 6 processes × 2
    threads for 2 cores), with what the command line overrides. ``--preload``: the processes
    fork from a master that loaded the project once, so they start in a second rather than
    each importing it (what they run is the same)."""
    options = ["-c", str(GUNICORN_CONF), "--backlog", "2048", "--log-level", "warning"]
    options += ["--preload", "--graceful-timeout", "2"]
    if args.threads is not None:
        options += ["--threads", str(args.threads)]
    if args.worker_class:
        options += ["--worker-class", args.worker_class]
    return options


def server_description(args) -> str:
    """gunicorn's worker class, processes and threads: the configuration file's (with the
    environment it reads), unless the command line said otherwise."""
    conf = runpy.run_path(str(GUNICORN_CONF))
    worker_class = args.worker_class or conf["worker_class"]
    workers = args.workers or conf["workers"]
    threads = f" × {args.threads or conf['threads']} threads" if worker_class == "gthread" else ""
    return f"gunicorn {worker_class}, {workers} processes{threads}"


# --- Query counts (in process) ---------------------------------------------------------------


def query_counts(token: str, measured: list[dict]) -> dict[str, int]:
    """Queries of one request of each endpoint, in process (Django's test client, same
    database), once the process knows the client and has not answered that version yet."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from hap_contracting.triage import api
    from hap_contracting.triage.selectors import triage_api_clients_forget

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
    counts = {}
    for endpoint in measured:
        if endpoint["key"] not in MAX_QUERIES:
            continue
        worst = 0
        triage_api_clients_forget()
        client.get(endpoint["paths"][0])  # the client known, its use noted
        for path in endpoint["paths"][:20]:
            api.forget_feed_answers()
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            worst = max(worst, len(captured))
        counts[endpoint["key"]] = worst
    return counts


# --- Report ----------------------------------------------------------------------------------


def _figures(result: dict | None) -> dict | None:
    if result is None:
        return None
    return {
        "requests": result["requests"],
        "rps": round(result["rps"], 1),
        **{f"{p}_ms": round(result[p], 2) for p in ("p50", "p95", "p99", "max")},
        "errors": result["errors"],
        "load_gen_cpu_share": round(result["load_cpu_share"], 3),
        "server_cpu_s": round(result["server_cpu"], 2),
        "machine_busy_share": round(result["machine_busy_share"], 3),
        # The CPUs' time the hypervisor gave to other virtual machines meanwhile.
        "machine_stolen_share": round(result["machine_stolen_share"], 4),
    }


def workload_failures(args, results, listed_now: int, version: int) -> list[str]:
    failures = []
    for key, result in results.items():
        for loop in ("closed", "open"):
            run = result[loop]
            if run is None:
                continue
            if run["errors"] or not run["requests"]:
                failures.append(
                    f"{key} ({loop} loop): {run['requests']} answers, statuses "
                    f"{dict(run['statuses'])}"
                )
    for key in ("verdict", "verdict_floor", "verdict_floor_logged"):
        if key not in results:
            continue
        seen = set(results[key]["closed"]["verdicts"])
        if seen != {"contracted", "no_anw_care_without_agreement", "unknown"}:
            failures.append(f"{key}: verdicts answered {sorted(seen)}, not all three")
    for key in ("feed_list", "feed_list_floor"):
        if key not in results:
            continue
        sizes = set(results[key]["closed"]["sizes"])
        if sizes != {listed_now}:
            failures.append(f"{key}: answers of {sorted(sizes)} entries, not {listed_now}")
    expected = {min(behind, version) for behind in VERSIONS_BEHIND}
    for key in ("feed_changes", "feed_changes_floor", "feed_changes_floor_logged"):
        if key not in results:
            continue
        sizes = set(results[key]["closed"]["sizes"])
        if not sizes <= expected:
            failures.append(f"{key}: answers of {sorted(sizes)} changes, expected {expected}")
    return failures


def main(argv=None) -> int:
    args = parse_args(argv)
    runner.setup_django(args.database_url)
    runner.prepare_database(
        BENCHMARK,
        f"locations={args.locations} contracts={args.contracts} listed={args.listed} "
        f"v{DATASET_VERSION}",
        lambda: datasets.triage(args.locations, args.contracts, args.listed),
        rebuild=args.rebuild,
    )
    from hap_contracting.triage.models import TriageFilterEntry
    from hap_contracting.triage.selectors import triage_list_version

    token = new_api_token()
    measured = endpoints(args.unknown_share)
    listed_now = TriageFilterEntry.objects.filter(delisted_on__isnull=True).count()
    version = triage_list_version()
    counts = query_counts(token, measured)
    capacity = log_capacity(args.log_seconds)
    headers = {"Authorization": f"Bearer {token}", "Host": "127.0.0.1"}
    args.port = args.port or runner.free_port()
    server_env = runner.django_environment(
        args.database_url,
        BENCH_CONN_MAX_AGE=str(args.conn_max_age),
        # One client asks thousands of times a minute here: the limit is still counted (its
        # cost is measured) but not reached, or the run measures 429s.
        TRIAGE_API_RATE="100000000/m",
    )
    quiet = {} if args.smoke else runner.wait_for_quiet_machine()
    load_before = os.getloadavg()
    results = {}
    with runner.gunicorn(
        "bench.minimal_wsgi:application",
        port=args.port,
        workers=args.workers,
        env={**server_env, "GUNICORN_ACCESS_LOG": ""},  # no line per request on our output
        ready_path=MINIMAL_PATH,
        options=gunicorn_options(args),
    ) as server:
        for group in groups(measured, args.only):
            results.update(measure_group(args, group, headers, server.pid))
    load_after = os.getloadavg()

    from hap_contracting.contracts.models import Contract
    from hap_contracting.organisations.models import CareLocation

    print()
    print(
        f"Data set: {CareLocation.objects.count():,} care locations, "
        f"{Contract.objects.count():,} contracts, {listed_now:,} addresses on the triage list "
        f"(version {version}); {runner.describe_environment()}."
    )
    print(
        f"{server_description(args)} on 127.0.0.1:{args.port}, DEBUG=False, "
        f"CONN_MAX_AGE={args.conn_max_age}; the CPUs are shared with PostgreSQL and the load "
        f"generator ({args.load_processes} processes). Closed loop: {args.clients} clients, "
        f"{args.warm_up:g} s warm-up, {args.duration:g} s; open loop: {args.rate:g} requests "
        f"a second for {args.open_duration:g} s. Load average before {load_before[0]:.2f}, "
        f"after {load_after[0]:.2f} (1 min)."
    )
    print()
    labels = {endpoint["key"]: endpoint["label"] for endpoint in measured}
    rows = []
    for key, result in results.items():
        closed, opened = result["closed"], result["open"]
        rows.append(
            (
                labels[key],
                f"{closed['rps']:.0f}",
                f"{100 * closed['load_cpu_share']:.0f}%",
                *(
                    (
                        f"{opened['rps']:.0f}",
                        f"{opened['p50']:.1f}",
                        f"{opened['p95']:.1f}",
                        f"{opened['p99']:.1f}",
                        f"{100 * opened['load_cpu_share']:.0f}%",
                        f"{100 * opened['machine_stolen_share']:.1f}%",
                    )
                    if opened
                    else ("–",) * 6
                ),
                str(closed["errors"] + (opened["errors"] if opened else 0)),
            )
        )
    runner.print_table(
        (
            "endpoint",
            "closed req/s",
            "load gen CPU",
            "open req/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "load gen CPU",
            "CPU stolen",
            "errors",
        ),
        rows,
    )
    if "verdict" in results:
        verdicts = ", ".join(
            f"{k} {v:,}" for k, v in sorted(results["verdict"]["closed"]["verdicts"].items())
        )
        print(f"\nVerdicts answered (closed loop): {verdicts}.")
    print(f"Queries of one request (in process): {counts}.")
    print(
        "Access-log entries committed one by one, 8 connections (no HTTP): chained "
        f"{capacity['chained']['inserts_per_s']:.0f}/s (p99 {capacity['chained']['p99_ms']} ms), "
        "committed as the API does (quick commit, then the wait for the disk outside the lock) "
        f"{capacity['chained_quick_commit']['inserts_per_s']:.0f}/s "
        f"(p99 {capacity['chained_quick_commit']['p99_ms']} ms), "
        f"an unchained copy {capacity['unchained']['inserts_per_s']:.0f}/s "
        f"(p99 {capacity['unchained']['p99_ms']} ms)."
    )

    compared = {}
    for key, floor in COMPARED.items():
        if key not in results:
            continue
        real, base = results[key], results[floor]
        ratio = runner.ratio(real["closed"]["rps"], base["closed"]["rps"])
        p99 = real["open"]["p99"]
        compared[key] = {
            "ratio_rps_over_floor": ratio,
            "p50_ms_at_rate": round(real["open"]["p50"], 2),
            "p95_ms_at_rate": round(real["open"]["p95"], 2),
            "p99_ms_at_rate": round(p99, 2),
            "errors": real["closed"]["errors"] + real["open"]["errors"],
            "targets": {
                "ratio_ge_0_8": ratio is not None and ratio >= TARGET_RATIO,
                "p99_le_20ms_at_200rps": args.rate >= 200 and p99 <= TARGET_P99_MS,
            },
        }
    logged = {
        endpoint: runner.ratio(
            results[f"{floor}_logged"]["closed"]["rps"], results[floor]["closed"]["rps"]
        )
        for endpoint, floor in COMPARED.items()
        if f"{floor}_logged" in results
    }
    print()
    for key, figures in compared.items():
        print(
            f"{labels[key]}: {figures['ratio_rps_over_floor']} × its floor (closed loop), p99 "
            f"{figures['p99_ms_at_rate']} ms at {args.rate:g}/s; targets "
            f"{'reported only (smoke)' if args.smoke else figures['targets']}."
        )
    for endpoint, ratio_ in logged.items():
        print(
            f"The access log's INSERT alone: the floor of {labels[endpoint]} with it answers "
            f"{ratio_} × the floor without."
        )

    failures = workload_failures(args, results, listed_now, version)
    for key, limit in MAX_QUERIES.items():
        if counts.get(key, 0) > limit:
            failures.append(f"{key}: {counts[key]} queries a request, more than {limit}")
    return runner.finish(
        BENCHMARK,
        sizes={
            "locations": args.locations,
            "contracts": args.contracts,
            "listed": args.listed,
            "clients": args.clients,
            "rate": args.rate,
            "server": server_description(args),
            "duration_s": args.duration,
            "open_duration_s": args.open_duration,
            "smoke": args.smoke,
        },
        figures={
            "load_average_1min": [round(load_before[0], 2), round(load_after[0], 2)],
            "waited_for_quiet_machine": quiet or None,
            "queries_per_request": counts,
            "access_log_commits": capacity,
            **{
                key: {"closed": _figures(r["closed"]), "open": _figures(r["open"])}
                for key, r in results.items()
            },
        },
        ratios={
            **compared,
            **{f"{key}_floor_logged_over_floor": ratio_ for key, ratio_ in logged.items()},
        },
        failures=failures,
        targets={key: figures["targets"] for key, figures in compared.items()},
    )


if __name__ == "__main__":
    sys.exit(main())
