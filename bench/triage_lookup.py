"""Benchmark of the triage API's throughput and latency under concurrent clients.

Run from the repository root::

    .venv/bin/python bench/triage_lookup.py
    .venv/bin/python bench/triage_lookup.py --duration 20 --clients 50 --workers 3 \\
        --database-url postgres://postgres@127.0.0.1:5432/hap_bench_triage

The script creates the database if needed, migrates it and (re)builds the data set (care
locations, contracts, triage filter entries) when its size differs from the one asked for, and
makes one API client with a fresh token. It then starts gunicorn (sync workers, DEBUG off,
``bench/minimal_wsgi.py``: the project's application plus a minimal JSON view) on 127.0.0.1 and
drives it with ``--clients`` concurrent HTTP clients for ``--duration`` seconds per endpoint:
first the minimal view, then the verdict endpoint with random addresses (known locations and
unknown addresses). It reports requests per second, the ratio of the two and the p50/p95/p99
latency of each, and how much CPU the load generator itself took.

The load generator is Python (threads with ``http.client``, spread over ``--load-processes``
processes) and runs on the same machine as gunicorn and PostgreSQL: its CPU share is printed so
you can judge whether it, rather than the server, was the limit. Gunicorn's sync workers close
the connection after every response, so each request opens a new TCP connection, for both
endpoints alike.

The data set is rebuilt by deleting the benchmark's own rows: point ``--database-url`` at a
database of its own. The script refuses a database holding users.
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import os
import random
import resource
import secrets
import subprocess
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

from bench.procedure_pages import _postcode_letters  # noqa: E402
from bench.support import ensure_database, migrate, refuse_foreign_database  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/hap_bench_triage"
CLIENT_NAME = "bench.tpm"
BATCH_SIZE = 2000
VERDICT_PATH = "/api/v1/triage/verdict"
MINIMAL_PATH = "/bench/ok.json"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=60,
        help="CONN_MAX_AGE of the workers (default 60, as the settings' DJANGO_CONN_MAX_AGE; "
        "0 opens a connection per request)",
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help=f"PostgreSQL database of the benchmark (default {DEFAULT_DATABASE_URL})",
    )
    args = parser.parse_args(argv)
    for name in ("locations", "contracts", "listed", "clients", "workers", "load_processes"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.contracts + args.listed > args.locations:
        parser.error("--contracts plus --listed can't exceed --locations")
    return args


def server_environment(database_url: str, conn_max_age: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=database_url,
        DJANGO_DEBUG="false",
        DJANGO_LOG_LEVEL="WARNING",
        BENCH_CONN_MAX_AGE=str(conn_max_age),
        # WhiteNoise warns once per worker that collectstatic never ran; the API serves no files.
        PYTHONWARNINGS="ignore:No directory at",
    )
    return env


def configure_django(database_url: str) -> None:
    os.environ.update(server_environment(database_url, 0))
    import django

    django.setup()


# --- Data set --------------------------------------------------------------------------------


def dataset_is_current(args) -> bool:
    from hap_contracting.contracts.models import Contract
    from hap_contracting.organisations.models import CareLocation
    from hap_contracting.triage.models import TriageFilterEntry

    return (
        CareLocation.objects.count() == args.locations
        and Contract.objects.count() == args.contracts
        and TriageFilterEntry.objects.count() == args.listed
    )


def empty_dataset() -> None:
    from hap_contracting.contracts.models import Contract
    from hap_contracting.organisations.models import CareLocation, CareOrganisation
    from hap_contracting.triage.models import TriageFilterEntry

    TriageFilterEntry.objects.all().delete()
    Contract.other_locations.through.objects.all().delete()
    Contract.objects.all().delete()
    CareLocation.objects.all().delete()
    CareOrganisation.objects.all().delete()


def build_dataset(args, seed: int = 20260401) -> None:
    """Locations round-robin over the posts; contracts on ``--contracts`` of them (a tenth also
    covering a second location of the organisation); filter entries on ``--listed`` locations
    without a contract, with and without treatment admission, as the daily job and billing
    would leave them."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from hap_contracting.contracts.constants import ContractKind
    from hap_contracting.contracts.models import Contract
    from hap_contracting.organisations.models import CareLocation, CareOrganisation, HapPost
    from hap_contracting.triage.constants import TriageFilterReason
    from hap_contracting.triage.models import TriageFilterEntry

    rng = random.Random(seed)
    started = time.perf_counter()
    print(
        f"Building the data set: {args.locations:,} locations, {args.contracts:,} contracts, "
        f"{args.listed:,} filter entries …"
    )
    today = timezone.localdate()
    with transaction.atomic():
        call_command("loaddata", "regions", verbosity=0)
        posts = list(HapPost.objects.prefetch_related("postcode_ranges").order_by("pk"))
        organisations = CareOrganisation.objects.bulk_create(
            [
                CareOrganisation(
                    name=f"Zorgorganisatie {i + 1:04d}",
                    kvk_number=f"{20_000_000 + i}",
                    agb_code=f"{73_000_000 + i}",
                    organisation_type="wlz_institution",
                    contact_email=f"info{i + 1}@zorg.invalid",
                )
                for i in range(max(1, args.locations // 25))
            ],
            batch_size=BATCH_SIZE,
        )
        letters = _postcode_letters()
        locations = []
        for i in range(args.locations):
            post = posts[i % len(posts)]
            postcode_range = rng.choice(list(post.postcode_ranges.all()))
            treatment = rng.random() < 0.4
            locations.append(
                CareLocation(
                    organisation=organisations[i % len(organisations)],
                    name=f"Woonzorglocatie {i + 1:05d}",
                    street="Hofstraat",
                    house_number=i + 1,
                    house_number_addition=rng.choice("AB") if i % 7 == 0 else "",
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
        rng.shuffle(locations)
        contracted = locations[: args.contracts]
        listed = locations[args.contracts : args.contracts + args.listed]
        contracts = []
        for location in contracted:
            start = today - datetime.timedelta(days=rng.randint(0, 700))
            contracts.append(
                Contract(
                    organisation_id=location.organisation_id,
                    location=location,
                    region_id=location.region_id,
                    kind=ContractKind.WLZ_WITH_TREATMENT
                    if location.wlz_treatment_admission
                    else ContractKind.WLZ_WITHOUT_TREATMENT,
                    start_date=start,
                    end_date=start + datetime.timedelta(days=730),
                )
            )
        Contract.objects.bulk_create(contracts, batch_size=BATCH_SIZE)
        through = Contract.other_locations.through
        rest = locations[args.contracts + args.listed :]
        through.objects.bulk_create(
            [
                through(contract_id=contract.pk, carelocation_id=other.pk)
                for contract, other in zip(contracts[::10], rest, strict=False)
            ],
            batch_size=BATCH_SIZE,
        )
        TriageFilterEntry.objects.bulk_create(
            [
                TriageFilterEntry(
                    location=location,
                    reason=TriageFilterReason.BILLED_WITHOUT_CONTRACT
                    if location.wlz_treatment_admission
                    else TriageFilterReason.GRACE_PERIOD_ENDED,
                    listed_on=today - datetime.timedelta(days=rng.randint(0, 300)),
                )
                for location in listed
            ],
            batch_size=BATCH_SIZE,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"Data set built in {time.perf_counter() - started:.1f} s.")


def new_api_token() -> str:
    from hap_contracting.api import token_hash

    from hap_contracting.triage.models import TriageApiClient

    token = secrets.token_urlsafe(32)
    TriageApiClient.objects.filter(name=CLIENT_NAME).delete()
    TriageApiClient.objects.create(name=CLIENT_NAME, token_hash=token_hash(token))
    return token


def request_paths(unknown_share: float, seed: int = 7) -> list[str]:
    """10,000 verdict URLs: known addresses (additions in any case) and unknown ones."""
    from hap_contracting.organisations.models import CareLocation

    rng = random.Random(seed)
    known = list(
        CareLocation.objects.values_list("postcode", "house_number", "house_number_addition")
    )
    taken = set(known)
    letters = _postcode_letters()
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
        paths.append(f"{VERDICT_PATH}?{urllib.parse.urlencode(query)}")
    return paths


# --- Server ----------------------------------------------------------------------------------


def start_gunicorn(args) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "bench.minimal_wsgi:application",
        "--chdir",
        str(REPO_ROOT),
        "--bind",
        f"127.0.0.1:{args.port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        "sync",
        "--backlog",
        "2048",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(
        command, env=server_environment(args.database_url, args.conn_max_age), cwd=REPO_ROOT
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn stopped with exit code {server.returncode}.")
        try:
            connection = HTTPConnection("127.0.0.1", args.port, timeout=2)
            connection.request("GET", MINIMAL_PATH)
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    sys.exit("gunicorn did not answer within 30 s.")


def stop_gunicorn(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


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
    bad = {k: v for k, v in result["statuses"].items() if k != 200}
    if bad:
        print(f"WARNING: {label}: answers other than 200: {bad}")
    return result


def report(args, results) -> None:
    from django.conf import settings
    from django.db import connection

    from hap_contracting.contracts.models import Contract
    from hap_contracting.organisations.models import CareLocation
    from hap_contracting.triage.models import TriageFilterEntry

    db = settings.DATABASES["default"]
    print()
    print(
        f"Data set ({db['NAME']}, PostgreSQL {connection.pg_version // 10000}): "
        f"{CareLocation.objects.count():,} care locations, {Contract.objects.count():,} "
        f"contracts, {TriageFilterEntry.objects.count():,} triage filter entries."
    )
    print(
        f"gunicorn: {args.workers} sync workers on 127.0.0.1:{args.port}, DEBUG=False, "
        f"CONN_MAX_AGE={args.conn_max_age}; {os.cpu_count()} CPUs shared with PostgreSQL and the "
        f"load generator ({args.clients} clients in {args.load_processes} processes, "
        f"{args.warm_up:g} s warm-up, {args.duration:g} s measured per endpoint)."
    )
    print()
    headers = ("endpoint", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "load gen CPU")
    rows = []
    for r in results:
        machine_cpu = r["machine_busy"] or 1
        rows.append(
            (
                r["label"],
                f"{r['requests']:,}",
                f"{r['rps']:.0f}",
                f"{r['p50']:.1f}",
                f"{r['p95']:.1f}",
                f"{r['p99']:.1f}",
                f"{100 * r['load_cpu'] / machine_cpu:.0f}% of busy CPU",
            )
        )
    widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(len(headers))]
    print(" | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        print(" | ".join(cells))
    minimal, verdict = results
    print()
    print(
        f"Throughput of the verdict endpoint: {verdict['rps'] / minimal['rps']:.2f}x the minimal view."
    )
    for r in results:
        print(
            f"{r['label']}: machine CPU {100 * r['machine_busy'] / r['machine_total']:.0f}% busy; "
            f"gunicorn {r['server_cpu']:.1f} s, load generator {r['load_cpu']:.1f} s CPU "
            f"in {r['elapsed']:.1f} s."
        )
    verdicts = ", ".join(f"{k} {v:,}" for k, v in sorted(verdict["verdicts"].items()))
    print(f"Verdicts answered: {verdicts}.")


def main(argv=None) -> int:
    args = parse_args(argv)
    configure_django(args.database_url)
    ensure_database()
    refuse_foreign_database(None)
    migrate()
    if dataset_is_current(args):
        print(f"Data set of {args.locations:,} locations is current.")
    else:
        empty_dataset()
        build_dataset(args)
    token = new_api_token()
    paths = request_paths(args.unknown_share)
    headers = {"Authorization": f"Bearer {token}", "Host": "127.0.0.1"}
    server = start_gunicorn(args)
    try:
        results = [
            measure(args, "minimal JSON view", [MINIMAL_PATH], headers, server.pid),
            measure(args, "triage verdict", paths, headers, server.pid),
        ]
    finally:
        stop_gunicorn(server)
    report(args, results)
    failed = any(set(r["statuses"]) - {200} for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
