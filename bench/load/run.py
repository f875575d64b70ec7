"""Load test: simulated users across the roles against gunicorn and PostgreSQL on loopback.

Run from the repository root (locust is an optional extra,
``.venv/bin/pip install -c constraints.txt -e ".[load]"``)::

    .venv/bin/python bench/load/run.py                       # 50 users, 5 minutes
    .venv/bin/python bench/load/run.py --duration 30s --users 20

The script (1) creates the PostgreSQL database if needed, migrates it, loads the demo
(``seed_demo`` of ``hap_contracting.operations``) and adds volume
(``bench.datasets.load_volume``: locations, requests over every state and region, contracts);
(2) starts gunicorn (``config.wsgi``) on a free loopback port; (3) runs locust headless with
``bench/load/locustfile.py``; (4) prints p50/p95/p99 per page from locust's CSV statistics and
(5) stops gunicorn. It exits non-zero when any request failed or the server logged an error.
The last line is ``RESULT {json}``.

The data set is built once and reused while its size matches the one asked for; otherwise (or
with ``--rebuild``) the database is dropped and built again. The script refuses to touch a
database holding users other than the demo logins: point ``--database-url`` at a database of
its own.

Settings: ``config.settings.local`` with DEBUG off. Local settings switch two-factor
authentication off, so the simulated users log in with their password alone; production settings
make the session and CSRF cookies HTTPS-only, which locust over plain HTTP would not send back.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench import datasets, runner  # noqa: E402

BENCHMARK = "load"
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
DEFAULT_PASSWORD = "anw-load-2026"
DATASET_VERSION = 2


def parse_args(argv=None):
    parser = runner.parser(__doc__, database="hap_bench_load", repeat=None)
    parser.add_argument("--users", type=int, default=50, help="simulated users (default 50)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started per second")
    parser.add_argument("--duration", default="5m", help="locust run time, e.g. 30s, 5m")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--port", type=int, default=0, help="gunicorn port (default: a free one)")
    parser.add_argument("--locations", type=int, default=2_000, help="extra care locations")
    parser.add_argument("--requests", type=int, default=10_000, help="extra admission requests")
    parser.add_argument("--contracts", type=int, default=3_000, help="extra contracts")
    parser.add_argument("--password", default=DEFAULT_PASSWORD, help="password of the demo logins")
    parser.add_argument(
        "--out", type=Path, default=None, help="directory for locust's CSVs and the server log"
    )
    args = parser.parse_args(argv)
    runner.check_at_least(parser, args, 1, "users", "locations")
    if args.requests < args.locations:
        parser.error("--requests must be at least --locations (every location has a request)")
    if args.contracts > args.requests // 2:
        parser.error("--contracts may be at most half of --requests")
    return args


# What gunicorn (and the seeding, in this process) run with, on top of runner's environment.
SETTINGS = {
    "settings": "config.settings.local",
    "DJANGO_EMAIL_URL": "dummy://",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
}


def demo_usernames() -> dict:
    """The lookups of seed_demo's logins: one per role per region, finance and the admin."""
    from hap_contracting.operations.management.commands.seed_demo import ROLE_USERNAMES
    from hap_contracting.organisations.models import Region

    slugs = set(Region.objects.values_list("slug", flat=True)) or {
        "hardenberg",
        "zwolle",
        "flevoland",
    }
    names = {
        f"{prefix}.{slug}" for prefix, _first, _last in ROLE_USERNAMES.values() for slug in slugs
    }
    return {"username__in": names | {"financien", "beheerder"}}


def seed_demo(password: str) -> None:
    from django.core.management import call_command

    print("Loading the demo (seed_demo) …")
    call_command("seed_demo", password=password, stdout=io.StringIO())


def prepare(args) -> None:
    from django.db import connections

    def build():
        seed_demo(args.password)
        datasets.load_volume(args.locations, args.requests, args.contracts)

    built = runner.prepare_database(
        BENCHMARK,
        f"locations={args.locations} requests={args.requests} contracts={args.contracts} "
        f"v{DATASET_VERSION}",
        build,
        rebuild=args.rebuild,
        also_own=demo_usernames,
    )
    if built is None:
        seed_demo(args.password)  # sets the password of the logins
    connections.close_all()


def run_locust(args, host: str, csv_prefix: Path) -> int:
    locust = shutil.which("locust", path=str(Path(sys.executable).parent)) or "locust"
    command = [locust, "-f", str(LOCUSTFILE), "--headless", "-u", str(args.users)]
    command += ["-r", str(args.spawn_rate), "-t", args.duration, "--host", host]
    command += ["--csv", str(csv_prefix), "--only-summary"]
    print("$", " ".join(command))
    env = {**os.environ, "HAP_LOAD_PASSWORD": args.password}
    return subprocess.run(command, cwd=REPO_ROOT, env=env, check=False).returncode


def _ms(value: str) -> str:
    return "–" if value in ("", "N/A") else f"{float(value):.0f}"


def report(csv_prefix: Path) -> tuple[list[dict], list[str]]:
    """Print a table per page from locust's CSV statistics; return the rows (the last is the
    total) and the failures.

    Reads ``<prefix>_final_stats.csv``, written by the locustfile once the users stopped;
    ``<prefix>_stats.csv`` (rewritten every second during the run) only when that is missing.
    """
    final = "final_" if Path(f"{csv_prefix}_final_stats.csv").exists() else ""
    with open(f"{csv_prefix}_{final}stats.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    print()
    runner.print_table(
        ("page", "requests", "failures", "p50 ms", "p95 ms", "p99 ms", "req/s"),
        [
            (
                row["Name"],
                row["Request Count"],
                row["Failure Count"],
                _ms(row["50%"]),
                _ms(row["95%"]),
                _ms(row["99%"]),
                f"{float(row['Requests/s']):.2f}",
            )
            for row in rows
        ],
    )
    failures = []
    failures_file = Path(f"{csv_prefix}_{final}failures.csv")
    if failures_file.exists():
        with open(failures_file, newline="") as handle:
            failures = [
                f"{row['Occurrences']}× {row['Method']} {row['Name']}: {row['Error']}"
                for row in csv.DictReader(handle)
            ]
    return rows, failures


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg()) + " (1, 5, 15 min)"


def server_errors(log_path: Path) -> int:
    if not log_path.exists():
        return 0
    text = log_path.read_text(errors="replace")
    return text.count("Traceback") + text.count(" ERROR ")


def main(argv=None) -> int:
    args = parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="hap-load-"))
    out.mkdir(parents=True, exist_ok=True)
    runner.setup_django(args.database_url, **SETTINGS)
    prepare(args)

    port = args.port or runner.free_port()
    host = f"http://127.0.0.1:{port}"
    log_path = out / "gunicorn.log"
    print(f"Load average at start: {load_average()} ({os.cpu_count()} CPUs)")
    with runner.gunicorn(
        "config.wsgi",
        port=port,
        workers=args.workers,
        env=runner.django_environment(args.database_url, **SETTINGS),
        ready_path="/login/",
        options=("--error-logfile", str(log_path)),
    ):
        locust_code = run_locust(args, host, out / "locust")
    print(f"Load average at end: {load_average()}")
    print(
        f"\n{args.users} users for {args.duration}, gunicorn with {args.workers} workers, "
        f"{runner.describe_environment()}"
    )
    rows, failed = report(out / "locust")
    total = rows[-1]
    errors = server_errors(log_path)
    print(
        f"\n{int(total['Request Count']):,} requests, {int(total['Failure Count']):,} failed; "
        f"server log errors: {errors} ({log_path})"
    )
    print(f"locust's CSV statistics: {out}/")

    def percentiles(row):
        return {
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            **{
                f"p{p}_ms": None if row[f"{p}%"] in ("", "N/A") else float(row[f"{p}%"])
                for p in (50, 95, 99)
            },
            "rps": round(float(row["Requests/s"]), 3),
        }

    failures = list(failed)
    if locust_code:
        failures.append(f"locust exit code {locust_code}")
    if errors:
        failures.append(f"{errors} errors in the server log {log_path}")
    if int(total["Failure Count"]) and not failed:
        failures.append(f"{total['Failure Count']} requests failed")
    return runner.finish(
        BENCHMARK,
        sizes={
            "users": args.users,
            "duration": args.duration,
            "workers": args.workers,
            "locations": args.locations,
            "requests": args.requests,
            "contracts": args.contracts,
        },
        figures={
            "total": percentiles(total),
            "pages": {row["Name"]: percentiles(row) for row in rows[:-1]},
            "server_log_errors": errors,
        },
        ratios={
            "failed_share": runner.ratio(
                int(total["Failure Count"]), int(total["Request Count"]) or 1
            )
        },
        failures=failures,
    )


if __name__ == "__main__":
    sys.exit(main())
