"""Benchmark of the triage API's throughput and latency under concurrent clients.

Run from the repository root::

    .venv/bin/python bench/triage_lookup.py
    .venv/bin/python bench/triage_lookup.py --duration 20 --clients 50 --workers 3 \\
        --database-url postgres://postgres@127.0.0.1:5432/hap_bench_triage

The data set (``bench.datasets.triage``): care locations, running contracts on ``--contracts``
of them and triage filter entries on ``--listed`` others. The script makes one API client with
a fresh token (``triage.services.triage_api_client_create``), then starts gunicorn (sync
workers, DEBUG off, ``bench/minimal_wsgi.py``: the project's application plus a minimal JSON
view) on 127.0.0.1 and drives it with ``--clients`` concurrent HTTP clients for ``--duration``
seconds per endpoint: first the minimal view, then the verdict endpoint (URL name
``triage:api_verdict``) with random addresses (known locations and unknown addresses). It
reports requests per second, the ratio of the two and the p50/p95/p99 latency of each, and how
much CPU the load generator itself took.

The load generator is Python (threads with ``http.client``, spread over ``--load-processes``
processes) and runs on the same machine as gunicorn and PostgreSQL: its CPU share is printed so
you can judge whether it, rather than the server, was the limit. Gunicorn's sync workers close
the connection after every response, so each request opens a new TCP connection, for both
endpoints alike.

The database is dropped and built again when its data set differs from the one asked for (or
with ``--rebuild``): point ``--database-url`` at a database of its own. The script refuses one
holding users it did not create. The last line is ``RESULT {json}``.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import resource
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
DATASET_VERSION = 3
MINIMAL_PATH = "/bench/ok.json"


def parse_args(argv=None):
    parser = runner.parser(__doc__, database="hap_bench_triage", repeat=None)
    parser.add_argument("--locations", type=int, default=10_000, help="care locations")
    parser.add_argument("--contracts", type=int, default=3_000, help="running contracts")
    parser.add_argument("--listed", type=int, default=2_000, help="triage filter entries")
    parser.add_argument("--duration", type=float, default=20, help="seconds per endpoint")
    parser.add_argument("--warm-up", type=float, default=3, help="seconds before each")
    parser.add_argument("--clients", type=int, default=50, help="concurrent HTTP clients")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
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
    args = parser.parse_args(argv)
    runner.check_at_least(
        parser, args, 1, "locations", "contracts", "listed", "clients", "workers", "load_processes"
    )
    if args.contracts + args.listed > args.locations:
        parser.error("--contracts plus --listed can't exceed --locations")
    return args


def new_api_token() -> str:
    from hap_contracting.triage.models import TriageApiClient
    from hap_contracting.triage.services import triage_api_client_create

    TriageApiClient.objects.filter(name=CLIENT_NAME).delete()
    return triage_api_client_create(name=CLIENT_NAME)[1]


def request_paths(unknown_share: float, seed: int = 7) -> list[str]:
    """10,000 verdict URLs: known addresses (additions in any case) and unknown ones."""
    from django.urls import reverse

    from hap_contracting.organisations.models import CareLocation

    verdict_path = reverse("triage:api_verdict")
    rng = random.Random(seed)
    known = list(
        CareLocation.objects.values_list("postcode", "house_number", "house_number_addition")
    )
    taken = set(known)
    letters = datasets.postcode_letters()
    paths = []
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
        paths.append(f"{verdict_path}?{urllib.parse.urlencode(query)}")
    return paths


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


def _machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / ticks, sum(values) / ticks


# --- Load generator --------------------------------------------------------------------------


def _client_thread(port, paths, headers, deadline, latencies, statuses, verdicts, seed):
    rng = random.Random(seed)
    connection = HTTPConnection("127.0.0.1", port, timeout=30)
    while True:
        path = paths[rng.randrange(len(paths))]
        started = time.perf_counter()
        if started >= deadline:
            break
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            latencies.append(time.perf_counter() - started)
            statuses[response.status] += 1
            if response.status == 200 and b'"verdict"' in body:
                verdicts[body.split(b'"verdict": "', 1)[1].split(b'"', 1)[0].decode()] += 1
            if response.will_close:
                connection.close()
        except OSError:
            statuses["connection error"] += 1
            connection.close()
    connection.close()


def _load_process(port, paths, headers, threads, duration, seed, queue):
    deadline = time.perf_counter() + duration
    latencies: list[array] = [array("d") for _ in range(threads)]
    statuses, verdicts = Counter(), Counter()
    workers = [
        threading.Thread(
            target=_client_thread,
            args=(port, paths, headers, deadline, latencies[i], statuses, verdicts, seed * 100 + i),
        )
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    merged = array("d")
    for part in latencies:
        merged.extend(part)
    queue.put((merged.tobytes(), dict(statuses), dict(verdicts), usage.ru_utime + usage.ru_stime))


def run_load(args, paths, headers, duration, server_pid) -> dict:
    """``--clients`` threads over ``--load-processes`` processes, for ``duration`` seconds."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    per_process = [
        args.clients // args.load_processes + (1 if i < args.clients % args.load_processes else 0)
        for i in range(args.load_processes)
    ]
    server_cpu_before = _cpu_seconds_of_tree(server_pid)
    busy_before, total_before = _machine_busy_seconds()
    started = time.perf_counter()
    processes = [
        context.Process(
            target=_load_process, args=(args.port, paths, headers, n, duration, i + 1, queue)
        )
        for i, n in enumerate(per_process)
        if n
    ]
    for process in processes:
        process.start()
    results = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    busy_after, total_after = _machine_busy_seconds()
    latencies = array("d")
    statuses, verdicts = Counter(), Counter()
    load_cpu = 0.0
    for raw, status_counts, verdict_counts, cpu in results:
        part = array("d")
        part.frombytes(raw)
        latencies.extend(part)
        statuses.update(status_counts)
        verdicts.update(verdict_counts)
        load_cpu += cpu
    ordered = sorted(latencies)

    def percentile(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    return {
        "requests": len(ordered),
        "rps": len(ordered) / elapsed,
        "p50": percentile(50),
        "p95": percentile(95),
        "p99": percentile(99),
        "statuses": statuses,
        "verdicts": verdicts,
        "load_cpu": load_cpu,
        "server_cpu": _cpu_seconds_of_tree(server_pid) - server_cpu_before,
        "machine_busy": busy_after - busy_before,
        "machine_total": total_after - total_before,
        "elapsed": elapsed,
    }


def measure(args, label, paths, headers, server_pid) -> dict:
    from django.db import connections

    connections.close_all()  # no connection is inherited by the forked load generator
    if args.warm_up > 0:
        run_load(args, paths, headers, args.warm_up, server_pid)
    result = run_load(args, paths, headers, args.duration, server_pid)
    result["label"] = label
    return result


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
    token = new_api_token()
    paths = request_paths(args.unknown_share)
    headers = {"Authorization": f"Bearer {token}", "Host": "127.0.0.1"}
    args.port = args.port or runner.free_port()
    server_env = runner.django_environment(
        args.database_url,
        BENCH_CONN_MAX_AGE=str(args.conn_max_age),
        # One client asks thousands of times a minute here: the limit is still counted (its
        # cost is measured) but not reached, or the run measures 429s.
        TRIAGE_API_RATE="100000000/m",
    )
    with runner.gunicorn(
        "bench.minimal_wsgi:application",
        port=args.port,
        workers=args.workers,
        env=server_env,
        ready_path=MINIMAL_PATH,
        options=("--worker-class", "sync", "--backlog", "2048", "--log-level", "warning"),
    ) as server:
        results = [
            measure(args, "minimal JSON view", [MINIMAL_PATH], headers, server.pid),
            measure(args, "triage verdict", paths, headers, server.pid),
        ]

    from hap_contracting.contracts.models import Contract
    from hap_contracting.organisations.models import CareLocation
    from hap_contracting.triage.models import TriageFilterEntry

    print()
    print(
        f"Data set: {CareLocation.objects.count():,} care locations, "
        f"{Contract.objects.count():,} contracts, {TriageFilterEntry.objects.count():,} triage "
        f"filter entries; {runner.describe_environment()}."
    )
    print(
        f"gunicorn: {args.workers} sync workers on 127.0.0.1:{args.port}, DEBUG=False, "
        f"CONN_MAX_AGE={args.conn_max_age}; the CPUs are shared with PostgreSQL and the load "
        f"generator ({args.clients} clients in {args.load_processes} processes, "
        f"{args.warm_up:g} s warm-up, {args.duration:g} s measured per endpoint)."
    )
    print()
    runner.print_table(
        ("endpoint", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "load gen CPU"),
        [
            (
                r["label"],
                f"{r['requests']:,}",
                f"{r['rps']:.0f}",
                f"{r['p50']:.1f}",
                f"{r['p95']:.1f}",
                f"{r['p99']:.1f}",
                f"{100 * r['load_cpu'] / (r['machine_busy'] or 1):.0f}% of busy CPU",
            )
            for r in results
        ],
    )
    minimal, verdict = results
    print()
    for r in results:
        print(
            f"{r['label']}: machine CPU {100 * r['machine_busy'] / r['machine_total']:.0f}% busy; "
            f"gunicorn {r['server_cpu']:.1f} s, load generator {r['load_cpu']:.1f} s CPU "
            f"in {r['elapsed']:.1f} s."
        )
    verdicts = ", ".join(f"{k} {v:,}" for k, v in sorted(verdict["verdicts"].items()))
    print(f"Verdicts answered: {verdicts}.")

    def figures(r):
        return {
            "requests": r["requests"],
            "rps": round(r["rps"], 1),
            **{f"{p}_ms": round(r[p], 2) for p in ("p50", "p95", "p99")},
            **{f"{k}_s": round(r[k], 2) for k in ("load_cpu", "server_cpu", "elapsed")},
        }

    return runner.finish(
        BENCHMARK,
        sizes={
            "locations": args.locations,
            "contracts": args.contracts,
            "listed": args.listed,
            "clients": args.clients,
            "workers": args.workers,
            "duration_s": args.duration,
        },
        figures={
            "minimal_view": figures(minimal),
            "verdict": figures(verdict),
            "verdicts": dict(verdict["verdicts"]),
        },
        ratios={
            "verdict_rps_over_minimal_rps": runner.ratio(verdict["rps"], minimal["rps"]),
            "verdict_p50_over_minimal_p50": runner.ratio(verdict["p50"], minimal["p50"]),
        },
        failures=[
            f"{r['label']}: answers other than 200: {dict(r['statuses'])}"
            for r in results
            if set(r["statuses"]) - {200}
        ],
    )


if __name__ == "__main__":
    sys.exit(main())
