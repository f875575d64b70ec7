"""Load test: simulated users of every role against gunicorn and PostgreSQL on loopback, with the
production settings and the production server configuration.

Run from the repository root (locust is an optional extra,
``.venv/bin/pip install -c constraints.txt -e ".[load]"``)::

    .venv/bin/python bench/load/run.py            # 50 users for 5 minutes (the issue's target)
    .venv/bin/python bench/load/run.py --smoke    # 10 users for 15 seconds on a small data set
    .venv/bin/python bench/load/run.py --users 50 --duration 60s

The script (1) creates the PostgreSQL database if needed, migrates it, loads the demo
(``seed_demo`` of ``hap_contracting.operations``) and adds volume with a realistic history
(``bench.datasets.load_volume``: locations, requests over every state with the transitions,
advices and checklists that brought them there, contracts with their history, a year of
invoices with payments, address investigations), and makes the logins of the roles with a
second factor (``bench.datasets.load_logins``); (2) collects the static files as the image
does; (3) starts gunicorn with ``config/gunicorn_conf.py`` (production's) on a free loopback
port, ``config.settings.production`` with DEBUG off, two-factor authentication on, sessions
and the cache in Redis as production has them, serving the project's application with the
benchmarks' floors beside its URLs (``bench/minimal_wsgi.py``, production's persistent
connections); (4) runs locust headless with ``bench/load/locustfile.py``; (5) reports
p50/p95/p99 per page, computed from every response time (locust's own CSV rounds them), and
for the pages once logged in also from the moment the last user had logged in
(``logged_in_once_all_users_in``: users start at one a second, so the first 50 s share the
cores with the logins' password checks), and (6) stops gunicorn.

What is measured: the time from sending a request to the last byte of its response, redirects
followed, per page, as locust on the same machine sees it. The target (issue 15): no failed
request and no error in the server's log, and p95 ≤ 100 ms for every page once logged in. The
login itself (form, password check, second factor) is reported but not part of the target: it
checks a PBKDF2 hash on purpose (Django's 1,000,000 iterations, a large part of a second of CPU).
Downloads (lists exported to CSV or Excel, about one request in a hundred) are reported apart and
not part of the target either: they are files, not pages. The target is absolute; beside the
users one more simulated client, the floor probe, asks about once a second for the pages' floor
(``base.html`` for a logged-in user behind the same middleware and nothing else, the page that
``procedure_pages.py`` compares every page with) or the cheapest 50-row list (that page with a
table of 50 requests read as tuples and drawn in Python): their p50/p95
(``floors_under_load``) say what the cheapest logged-in page and the cheapest list take on this
machine under the same load, and ``logged_in_p95_over_floor_p95`` how far the pages lie above
the floor.

Exit code: non-zero when any request failed or the server logged an error (smoke and full
size alike). With ``--smoke`` (10 users, 15 s, a small data set) the p95 figures are only
reported: too few requests to say anything. At full size the RESULT json says per page whether
p95 ≤ 100 ms held (``targets``).

The data set is built once and reused while its size matches; otherwise (or with ``--rebuild``)
the database is dropped and built again. The script refuses a database holding users other than
the demo logins and its own: point ``--database-url`` at a database of its own (the smoke run's
default is ``hap_bench_load_smoke``). The last line is ``RESULT {json}``.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import math
import os
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench import datasets, runner  # noqa: E402
from bench.load import logins  # noqa: E402

BENCHMARK = "load"
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
GUNICORN_CONF = REPO_ROOT / "config" / "gunicorn_conf.py"
DEFAULT_PASSWORD = "anw-load-2026"
DATASET_VERSION = 3
TARGET_P95_MS = 100
# gunicorn queues and the worker runs the tasks as in production (not eager), on the broker
# the environment names (CELERY_BROKER_URL, else the settings' default), on a queue of this run.
WORKER_QUEUE = {
    "CELERY_TASK_ALWAYS_EAGER": "false",
    "CELERY_TASK_DEFAULT_QUEUE": f"hap-bench-load-{os.getpid()}",
}
FULL = {
    "users": 50,
    "spawn_rate": 1,
    "duration": "5m",
    "locations": 2_000,
    "requests": 10_000,
    "contracts": 3_000,
}
# One user per role, each opening every page of its role once (the locustfile's tour); locust
# stops when all have, the duration is the limit.
SMOKE = {
    "users": 7,
    "spawn_rate": 7,
    "duration": "60s",
    "locations": 100,
    "requests": 300,
    "contracts": 60,
}
# Kinds of page (the locustfile's): the target holds for pages and static files once logged in.
TARGETED = ("page", "static")
# One simulated client beside the users asks for the pages' floor and the cheapest 50-row list
# (kind "floor", not targeted): what the cheapest logged-in page and list take under the same
# load.
FLOOR_PROBES = 1
FLOOR = "floor"
FLOOR_PATH = "/bench/base/"


def parse_args(argv=None):
    parser = runner.parser(__doc__, database="hap_bench_load", repeat=None)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="10 users for 15 s on a small data set; fails on any error, reports p95 only",
    )
    parser.add_argument("--users", type=int, help="simulated users (default 50)")
    parser.add_argument(
        "--spawn-rate", type=float, help="users started per second (default 1; smoke: 7)"
    )
    parser.add_argument("--duration", help="locust run time, e.g. 30s, 5m (default 5m)")
    parser.add_argument(
        "--workers", type=int, help="gunicorn processes (default: config/gunicorn_conf.py's)"
    )
    parser.add_argument("--threads", type=int, help="threads per gunicorn process (gthread)")
    parser.add_argument("--worker-class", help="gunicorn worker class (default gthread)")
    parser.add_argument("--port", type=int, default=0, help="gunicorn port (default: a free one)")
    parser.add_argument(
        "--user-classes",
        nargs="+",
        metavar="CLASS",
        help="only these classes of the locustfile (to look at some roles; the target is "
        "measured with all of them)",
    )
    parser.add_argument("--locations", type=int, help="extra care locations (default 2,000)")
    parser.add_argument("--requests", type=int, help="extra admission requests (default 10,000)")
    parser.add_argument("--contracts", type=int, help="extra contracts (default 3,000)")
    parser.add_argument("--password", default=DEFAULT_PASSWORD, help="password of the logins")
    parser.add_argument(
        "--out", type=Path, default=None, help="directory for locust's CSVs and the server logs"
    )
    args = parser.parse_args(argv)
    sizes = SMOKE if args.smoke else FULL
    for name, value in sizes.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.smoke and args.database_url == parser.get_default("database_url"):
        args.database_url += "_smoke"
    runner.check_at_least(parser, args, 1, "users", "locations")
    if args.requests < args.locations:
        parser.error("--requests must be at least --locations (every location has a request)")
    if args.contracts > args.requests // 2:
        parser.error("--contracts may be at most half of --requests")
    return args


def settings_environment(static_root: Path) -> dict[str, str]:
    """What gunicorn (and the seeding, in this process) run with, on top of runner's
    environment: the production settings, their secrets given, e-mail nowhere, the static
    files collected into ``static_root``, the cache (rate limits, sessions) in Redis under a
    prefix of its own."""
    return {
        "settings": "config.settings.production",
        "DJANGO_SECRET_KEY": "load-test-only-" + "x" * 50,
        "BSN_HASH_KEY": "load-test-only-bsn-key",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_CACHE_URL": "redis://127.0.0.1:6379/1?key_prefix=hap_bench_load",
        "DJANGO_EMAIL_URL": "dummy://",
        "DJANGO_STATIC_ROOT": str(static_root),
    }


def demo_usernames() -> dict:
    """The lookups of seed_demo's logins: one per role per region, finance and the admin."""
    from hap_contracting.operations.management.commands.seed_demo import ROLE_USERNAMES
    from hap_contracting.organisations.models import Region

    slugs = set(Region.objects.values_list("slug", flat=True)) or set(logins.REGIONS)
    names = {
        f"{prefix}.{slug}" for prefix, _first, _last in ROLE_USERNAMES.values() for slug in slugs
    }
    return {"username__in": names | {"financien", "financien.controle", "beheerder"}}


def seed_demo(password: str) -> None:
    """``seed_demo`` with one password hash for all its logins: hashing each (PBKDF2, most of a
    second) would make building the data set slower, not the load test truer."""
    from django.contrib.auth import base_user
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    encoded = make_password(password)
    print("Loading the demo (seed_demo) …")
    with mock.patch.object(base_user, "make_password", lambda raw, *a, **k: encoded):
        call_command("seed_demo", password=password, stdout=io.StringIO())


def prepare(args) -> float | None:
    """The data set (built when missing or different), then the logins with a second factor;
    the build time, None when reused. The password is part of the data set's description (as
    a digest), so another password builds it again."""
    from django.db import connections

    from accounts.models import User

    def build():
        seed_demo(args.password)
        datasets.load_volume(args.locations, args.requests, args.contracts)

    digest = hashlib.sha256(args.password.encode()).hexdigest()[:12]
    built = runner.prepare_database(
        BENCHMARK,
        f"locations={args.locations} requests={args.requests} contracts={args.contracts} "
        f"v{DATASET_VERSION} password={digest}",
        build,
        rebuild=args.rebuild,
        also_own=demo_usernames,
    )
    datasets.load_logins(User.objects.get(username="beheerder").password)
    connections.close_all()
    return built


def static_sources_digest() -> str:
    """What the static files are made of: every source file's name, size and modification
    time, as the staticfiles finders list them."""
    from django.contrib.staticfiles.finders import get_finders

    digest = hashlib.sha256()
    for finder in get_finders():
        for path, storage in finder.list([]):
            stat = os.stat(storage.path(path))
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def collect_static(static_root: Path) -> None:
    """As the image does (``collectstatic``, WhiteNoise's compressed manifest storage): only
    when a source file changed since the last run (compressing them all takes a while)."""
    from django.core.management import call_command

    marker = static_root / ".sources"
    digest = static_sources_digest()
    if marker.exists() and marker.read_text() == digest:
        print(f"Static files in {static_root} are current.")
        return
    started = time.perf_counter()
    call_command("collectstatic", interactive=False, verbosity=0)
    marker.write_text(digest)
    print(f"Static files collected into {static_root} in {time.perf_counter() - started:.1f} s.")


def run_locust(args, host: str, csv_prefix: Path) -> int:
    locust = shutil.which("locust", path=str(Path(sys.executable).parent)) or "locust"
    # The users and, beside them, the floor probe (the locustfile's ``FloorProbe``).
    command = [locust, "-f", str(LOCUSTFILE), "--headless", "-u", str(args.users + FLOOR_PROBES)]
    command += ["-r", str(args.spawn_rate), "-t", args.duration, "--host", host]
    command += ["--csv", str(csv_prefix), "--only-summary", "--loglevel", "WARNING"]
    command += [*args.user_classes, "FloorProbe"] if args.user_classes else []
    print("$", " ".join(command))
    env = {
        **os.environ,
        "HAP_LOAD_PASSWORD": args.password,
        "HAP_LOAD_TOUR": "1" if args.smoke else "",
    }
    return subprocess.run(command, cwd=REPO_ROOT, env=env, check=False).returncode


def percentile(sorted_ms: list[float], p: float) -> float | None:
    """Nearest rank: the smallest time that ``p`` per cent of the requests did not exceed."""
    if not sorted_ms:
        return None
    return round(sorted_ms[max(0, math.ceil(p / 100 * len(sorted_ms)) - 1)], 1)


def page_figures(csv_prefix: Path, seconds: float) -> dict[str, dict]:
    """Per page: its kind, requests, failures, p50/p95/p99 (every response time, from the
    locustfile) and requests per second; the failures from locust's statistics."""
    with open(f"{csv_prefix}_final_stats.csv", newline="") as handle:
        failures = {row["Name"]: int(row["Failure Count"]) for row in csv.DictReader(handle)}
    with open(f"{csv_prefix}_response_times.json") as handle:
        times = json.load(handle)["pages"]
    figures = {}
    for name, entry in times.items():
        ms = sorted(entry["ms"])
        figures[name] = {
            "kind": entry["kind"],
            "requests": len(ms),
            "failures": failures.get(name, 0),
            **{f"p{p}_ms": percentile(ms, p) for p in (50, 95, 99)},
            "max_ms": round(ms[-1], 1) if ms else None,
            "rps": round(len(ms) / seconds, 3),
        }
    return figures


def total_figures(
    times: dict, figures: dict, seconds: float, kinds=None, *, since: float | None = None
) -> dict:
    """All requests of ``kinds`` (all kinds: None); with ``since``, only those answered from
    that moment on (the failures are then the whole run's)."""
    ms = sorted(
        t
        for name, entry in times.items()
        for t, at in zip(entry["ms"], entry["at"], strict=True)
        if (kinds is None or entry["kind"] in kinds) and (since is None or at >= since)
    )
    return {
        "requests": len(ms),
        "failures": sum(
            f["failures"] for f in figures.values() if kinds is None or f["kind"] in kinds
        ),
        **{f"p{p}_ms": percentile(ms, p) for p in (50, 95, 99)},
        "rps": round(len(ms) / seconds, 3),
    }


def failure_lines(csv_prefix: Path) -> list[str]:
    path = Path(f"{csv_prefix}_final_failures.csv")
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return [
            f"{row['Occurrences']}× {row['Method']} {row['Name']}: {row['Error']}"
            for row in csv.DictReader(handle)
        ]


# What the server's log says when something went wrong: an exception, an error (a 500 logs one),
# a refused request (django.security: CSRF, a bad host) or a 4xx/5xx response (django.request).
SERVER_LOG_ERRORS = (
    "Traceback",
    " ERROR ",
    " CRITICAL ",
    "[ERROR]",
    "[CRITICAL]",
    " WARNING django.security",
    " WARNING django.request",
)


def server_errors(log_path: Path) -> list[str]:
    """Lines of the server's log (gunicorn's and Django's, captured) that report an error."""
    if not log_path.exists():
        return []
    return [
        line
        for line in log_path.read_text(errors="replace").splitlines()
        if any(marker in line for marker in SERVER_LOG_ERRORS)
    ]


def _spent(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else round(after - before, 1)


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process and its children (gunicorn's master and workers)."""
    try:
        import psutil  # a dependency of locust
    except ImportError:
        return None
    with contextlib.suppress(psutil.NoSuchProcess):
        process = psutil.Process(pid)
        total = 0.0
        for member in (process, *process.children(recursive=True)):
            with contextlib.suppress(psutil.NoSuchProcess):
                times = member.cpu_times()
                total += times.user + times.system
        return round(total, 1)
    return None


@contextlib.contextmanager
def celery_worker(env: dict[str, str], log: Path, *, timeout: float = 60):
    """A Celery worker as production runs one beside gunicorn (the dashboards' figures are
    drawn again there), on a queue of its own in the broker, until the block ends; yields its
    process once it is ready."""
    command = runner.celery_worker_command(env["CELERY_TASK_DEFAULT_QUEUE"])
    print("$", " ".join(command[2:]))
    with log.open("w") as output:
        worker = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while " ready." not in log.read_text():
            if worker.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"The Celery worker did not start; its log:\n{log.read_text()}")
            time.sleep(0.2)
        yield worker
    finally:
        runner.stop(worker)


def gunicorn_options(args, out: Path) -> tuple[list[str], dict[str, str]]:
    """Production's configuration file, with what the command line overrides; the access log
    and the error log (Django's log captured into it) in ``out``."""
    options = [
        "-c",
        str(GUNICORN_CONF),
        "--capture-output",
        "--error-logfile",
        str(out / "gunicorn.log"),
    ]
    if args.threads is not None:
        options += ["--threads", str(args.threads)]
    if args.worker_class is not None:
        options += ["--worker-class", args.worker_class]
    return options, {"GUNICORN_ACCESS_LOG": str(out / "access.log")}


def main(argv=None) -> int:
    args = parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="hap-load-"))
    out.mkdir(parents=True, exist_ok=True)
    static_root = Path(tempfile.gettempdir()) / f"hap-load-static-{os.getuid()}"
    environment = settings_environment(static_root)
    runner.setup_django(args.database_url, **environment)
    # First: with the production settings every page (the demo's invoice PDFs too) names its
    # static files by the manifest collectstatic writes.
    collect_static(static_root)
    built = prepare(args)

    from django.conf import settings

    port = args.port or runner.free_port()
    host = f"http://127.0.0.1:{port}"
    options, gunicorn_env = gunicorn_options(args, out)
    quiet = {} if args.smoke else runner.wait_for_quiet_machine()
    load_at_start = load_average()
    print(f"Load average at start: {load_at_start} (1, 5, 15 min; {os.cpu_count()} CPUs)")
    server_env = {
        **runner.django_environment(args.database_url, **environment),
        "BENCH_CONN_MAX_AGE": str(settings.DATABASES["default"]["CONN_MAX_AGE"]),
        # Production's log level: what it costs to log is part of the figures.
        "DJANGO_LOG_LEVEL": "INFO",
        **WORKER_QUEUE,
    }
    with (
        celery_worker(server_env, out / "worker.log") as worker,
        runner.gunicorn(
            # The project's application with the floors' URLs beside its own (the pages resolve
            # as in production), with production's persistent connections.
            "bench.minimal_wsgi:application",
            port=port,
            workers=args.workers,
            env={**server_env, **gunicorn_env},
            ready_path="/healthz",
            options=options,
        ) as server,
    ):
        started = time.perf_counter()
        started_at = time.time()
        locust_before = os.times()
        worker_before = cpu_seconds(worker.pid)
        locust_code = run_locust(args, host, out / "locust")
        locust_after = os.times()
        seconds = time.perf_counter() - started
        server_cpu = cpu_seconds(server.pid)
        worker_cpu = _spent(worker_before, cpu_seconds(worker.pid))
    load_at_end = load_average()
    if not (out / "locust_response_times.json").exists():
        sys.exit(f"locust ended (exit code {locust_code}) without writing its statistics.")
    locust_cpu = round(
        (locust_after.children_user - locust_before.children_user)
        + (locust_after.children_system - locust_before.children_system),
        1,
    )
    server_config = server_description(args)

    with open(out / "locust_response_times.json") as handle:
        recorded = json.load(handle)
    times = recorded["pages"]
    figures = page_figures(out / "locust", seconds)
    errors = server_errors(out / "gunicorn.log") + server_errors(out / "worker.log")
    failed = failure_lines(out / "locust")
    print(f"Load average at end: {load_at_end}")
    print(
        f"\n{args.users} users for {args.duration} (spawned at {args.spawn_rate:g}/s), "
        f"{server_config}; {settings.SETTINGS_MODULE}, session engine {settings.SESSION_ENGINE}; "
        f"{runner.describe_environment()}"
    )
    print(
        f"CPU during the run: gunicorn {server_cpu} s, the Celery worker {worker_cpu} s, "
        f"locust {locust_cpu} s over {seconds:.0f} s"
    )
    print()
    smoke_note = " (not enforced in smoke)" if args.smoke else ""
    rows = []
    for name, page in sorted(figures.items(), key=lambda item: (item[1]["kind"], item[0])):
        holds = page["p95_ms"] is not None and page["p95_ms"] <= TARGET_P95_MS
        mark = ("yes" if holds else "NO") if page["kind"] in TARGETED else "–"
        rows.append(
            (
                name,
                page["kind"],
                str(page["requests"]),
                str(page["failures"]),
                *(f"{page[f'p{p}_ms']:.0f}" for p in (50, 95, 99)),
                f"{page['max_ms']:.0f}",
                f"{page['rps']:.2f}",
                mark,
            )
        )
    runner.print_table(
        (
            "page",
            "kind",
            "requests",
            "failures",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms",
            "req/s",
            f"p95 ≤ {TARGET_P95_MS}",
        ),
        rows,
    )
    total = total_figures(times, figures, seconds)
    logged_in = total_figures(times, figures, seconds, kinds=TARGETED)
    # The last login ended: from then on every user browses, none logs in (the logins' PBKDF2
    # no longer shares the cores), as in the office once the day has started.
    all_in_at = recorded["phases"].get("last_login")
    all_in = all_in_at and total_figures(
        times, figures, started_at + seconds - all_in_at, kinds=TARGETED, since=all_in_at
    )
    floors = {name: page for name, page in figures.items() if page["kind"] == FLOOR}
    floor = next((page for name, page in floors.items() if name.startswith(FLOOR_PATH)), None)
    print(
        f"\n{total['requests']:,} requests, {total['failures']:,} failed; server log errors: "
        f"{len(errors)} ({out / 'gunicorn.log'}); pages once logged in: p50 {logged_in['p50_ms']} "
        f"ms, p95 {logged_in['p95_ms']} ms, p99 {logged_in['p99_ms']} ms"
    )
    if all_in:
        print(
            f"the same once every user had logged in ({all_in['requests']:,} requests): p50 "
            f"{all_in['p50_ms']} ms, p95 {all_in['p95_ms']} ms, p99 {all_in['p99_ms']} ms"
        )
    for name, page in sorted(floors.items()):
        print(
            f"{name}: p50 {page['p50_ms']} ms, p95 {page['p95_ms']} ms, p99 {page['p99_ms']} ms "
            f"({page['requests']} requests)"
        )
    print(f"locust's CSV statistics and the server's logs: {out}/")

    failures = list(failed)
    if locust_code:
        failures.append(f"locust exit code {locust_code}")
    if errors:
        failures.append(f"{len(errors)} errors in the server log, first: {errors[0]}")
    if total["failures"] and not failed:
        failures.append(f"{total['failures']} requests failed")
    if args.smoke and recorded["tours_finished"] != args.users + FLOOR_PROBES:
        failures.append(
            f"{recorded['tours_finished']} of {args.users + FLOOR_PROBES} users opened every page "
            f"of their role within {args.duration}"
        )
    p95_holds = {
        name: page["p95_ms"] is not None and page["p95_ms"] <= TARGET_P95_MS
        for name, page in figures.items()
        if page["kind"] in TARGETED
    }
    passed = []
    for name, holds in sorted(p95_holds.items()):
        line = f"p95 of {name} {figures[name]['p95_ms']} ms ≤ {TARGET_P95_MS} ms{smoke_note}"
        if holds:
            passed.append(line)
        else:
            print(f"TARGET MISSED: p95 of {name} is {figures[name]['p95_ms']} ms{smoke_note}")
    return runner.finish(
        BENCHMARK,
        sizes={
            "smoke": args.smoke,
            "users": args.users,
            "floor_probes": FLOOR_PROBES,
            "spawn_rate": args.spawn_rate,
            "duration": args.duration,
            "user_classes": args.user_classes or "all",
            "locations": args.locations,
            "requests": args.requests,
            "contracts": args.contracts,
        },
        figures={
            "total": total,
            "logged_in": logged_in,
            "logged_in_once_all_users_in": all_in or None,
            "floors_under_load": floors,
            "pages": figures,
            "server_log_errors": len(errors),
            "server": server_config,
            "settings": settings.SETTINGS_MODULE,
            "session_engine": settings.SESSION_ENGINE,
            "seconds": round(seconds, 1),
            "cpu_seconds": {"gunicorn": server_cpu, "worker": worker_cpu, "locust": locust_cpu},
            "load_average": {"start": load_at_start, "end": load_at_end},
            "waited_for_quiet_machine": quiet or None,
            "dataset_built_s": None if built is None else round(built, 1),
        },
        ratios={
            "failed_share": runner.ratio(total["failures"], total["requests"] or 1),
            # How far the pages' p95 lies above the floor's under the same load.
            "logged_in_p95_over_floor_p95": floor
            and runner.ratio(logged_in["p95_ms"], floor["p95_ms"]),
        },
        failures=failures,
        passed=passed,
        targets={
            "no_errors": not failures,
            "p95_le_100ms": p95_holds,
            **({"enforced": False} if args.smoke else {}),
        },
    )


def server_description(args) -> str:
    """gunicorn's worker class, processes and threads: the configuration file's (with the
    environment it reads), unless the command line said otherwise."""
    conf = runpy.run_path(str(GUNICORN_CONF))
    worker_class = args.worker_class or conf["worker_class"]
    workers = args.workers or conf["workers"]
    threads = f" × {args.threads or conf['threads']} threads" if worker_class == "gthread" else ""
    return f"gunicorn {worker_class}, {workers} processes{threads}"


if __name__ == "__main__":
    sys.exit(main())
