"""Load test: simulated users across the roles against gunicorn and PostgreSQL on loopback.

Run from the repository root (locust is an optional extra, ``pip install -e ".[load]"``)::

    .venv/bin/python bench/load/run.py                       # 50 users, 5 minutes
    .venv/bin/python bench/load/run.py --duration 30s --users 20

The script (1) creates the PostgreSQL database if needed, migrates it, loads the demo
(``seed_demo``) and adds volume with ``bulk_create`` (locations, requests over every state and
region, contracts); (2) starts gunicorn on a free loopback port; (3) runs locust headless with
``bench/load/locustfile.py``; (4) prints p50/p95/p99 per page from locust's CSV statistics and
(5) stops gunicorn. It exits non-zero when any request failed.

The data set is built once and reused while its size matches the one asked for; otherwise the
database is dropped and built again. The script refuses to touch a database holding users that
are not demo users: point ``--database-url`` at a database of its own.

Settings: ``config.settings.local`` with DEBUG off. Local settings switch two-factor
authentication off, so the simulated users log in with their password alone; production settings
make the session and CSRF cookies HTTPS-only, which locust over plain HTTP would not send back.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.support import ensure_database, migrate, refuse_foreign_database  # noqa: E402

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/hap_bench_load"
DEFAULT_PASSWORD = "anw-load-2026"
BATCH_SIZE = 2000
# Everything the volume adds carries this mark, so the script can tell its size.
MARK = "Belastingtest"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="simulated users (default 50)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started per second")
    parser.add_argument("--duration", default="5m", help="locust run time, e.g. 30s, 5m")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--port", type=int, default=0, help="gunicorn port (default: a free one)")
    parser.add_argument("--locations", type=int, default=2_000, help="extra care locations")
    parser.add_argument("--requests", type=int, default=10_000, help="extra admission requests")
    parser.add_argument("--contracts", type=int, default=3_000, help="extra contracts")
    parser.add_argument("--password", default=DEFAULT_PASSWORD, help="password of the demo logins")
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the data set")
    parser.add_argument(
        "--out", type=Path, default=None, help="directory for locust's CSVs and the server log"
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help=f"PostgreSQL database of the load test (default {DEFAULT_DATABASE_URL})",
    )
    args = parser.parse_args(argv)
    if args.users < 1:
        parser.error("--users must be at least 1")
    if args.locations < 1 or args.requests < args.locations:
        parser.error("--requests must be at least --locations (every location has a request)")
    if args.contracts > args.requests // 2:
        parser.error("--contracts may be at most half of --requests")
    return args


def server_environment(database_url: str) -> dict[str, str]:
    """What gunicorn (and the seeding, in this process) run with."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url,
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "DJANGO_EMAIL_URL": "dummy://",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }


def configure_django(database_url: str) -> None:
    os.environ.update(server_environment(database_url))

    import django

    django.setup()


# --- Database --------------------------------------------------------------------------------


def demo_usernames() -> set[str]:
    from hap_contracting.management.commands.seed_demo import ROLE_USERNAMES

    from hap_contracting.organisations.models import Region

    slugs = set(Region.objects.values_list("slug", flat=True)) or {
        "hardenberg",
        "zwolle",
        "flevoland",
    }
    names = {
        f"{prefix}.{slug}" for prefix, _first, _last in ROLE_USERNAMES.values() for slug in slugs
    }
    return names | {"financien", "beheerder"}


def dataset_is_current(n_locations: int, n_requests: int, n_contracts: int) -> bool:
    from django.db import connection

    from accounts.models import User
    from hap_contracting.contracts.models import Contract
    from hap_contracting.organisations.models import CareLocation
    from hap_contracting.procedure.models import AdmissionRequest

    if User._meta.db_table not in connection.introspection.table_names():
        return False
    return (
        User.objects.filter(username="beheerder").exists()
        and CareLocation.objects.filter(name__startswith=MARK).count() == n_locations
        and AdmissionRequest.objects.filter(requester_name__startswith=MARK).count() == n_requests
        and Contract.objects.filter(location__name__startswith=MARK).count() == n_contracts
    )


# --- Data set --------------------------------------------------------------------------------


def seed_demo(password: str) -> None:
    from django.core.management import call_command

    print("Loading the demo (seed_demo) …")
    call_command("seed_demo", password=password, stdout=io.StringIO())


def _postcode_letters() -> list[str]:
    letters = "ABCDEFGHJKLMNPRSTVWXZ"
    return [a + b for a in letters for b in letters if a + b not in {"SA", "SD", "SS"}]


# The latest request of a location: mostly just received, the rest spread over the procedure.
LATEST_STATE_WEIGHTS = {
    "received": 50,
    "pre_assessment": 14,
    "quality_review": 8,
    "council_review": 6,
    "contracting": 6,
    "contracted": 10,
    "rejected": 4,
    "withdrawn": 2,
}
# Earlier requests of a location are finished.
EARLIER_STATE_WEIGHTS = {"contracted": 6, "rejected": 3, "withdrawn": 1}


def build_volume(n_locations: int, n_requests: int, n_contracts: int, seed: int = 20260501):
    """Locations round-robin over the posts, requests over states and regions, contracts from
    contracted requests. Request k is for location k % n_locations in "round" k // n_locations;
    only a location's latest request may be unfinished, so ``request_one_open_per_location``
    holds, and every contract ends after it starts (``contract_ends_after_start``)."""
    from dateutil.relativedelta import relativedelta
    from django.db import connection, transaction
    from django.utils import timezone
    from hap_contracting.management.commands.seed_demo import ROLE_USERNAMES

    from accounts.models import User
    from hap_contracting.contracts.constants import ContractKind
    from hap_contracting.contracts.models import Contract, ContractRate
    from hap_contracting.core.roles import Role
    from hap_contracting.organisations.constants import OrganisationType
    from hap_contracting.organisations.models import (
        CareLocation,
        CareOrganisation,
        HapPost,
        TargetGroup,
    )
    from hap_contracting.procedure.constants import RequestKind
    from hap_contracting.procedure.models import AdmissionRequest
    from hap_contracting.tariffs.models import Act

    rng = random.Random(seed)
    started = time.perf_counter()
    print(
        f"Adding volume: {n_locations:,} locations, {n_requests:,} requests, "
        f"{n_contracts:,} contracts …"
    )
    now = timezone.now()
    today = timezone.localdate()

    with transaction.atomic():
        posts = list(HapPost.objects.prefetch_related("postcode_ranges").order_by("pk"))
        target_groups = list(TargetGroup.objects.order_by("pk"))
        # seed_demo's logins: one per role per region, named <prefix>.<region slug>.
        users = {
            (user.username.split(".")[0], user.region_id): user
            for user in User.objects.filter(region__isnull=False)
        }
        secretariat = {
            region: user
            for (prefix, region), user in users.items()
            if prefix == ROLE_USERNAMES[Role.SECRETARIAT][0]
        }
        managers = {
            region: user
            for (prefix, region), user in users.items()
            if prefix == ROLE_USERNAMES[Role.LOCATION_MANAGER][0]
        }

        organisation_types = list(OrganisationType.values)
        organisations = CareOrganisation.objects.bulk_create(
            [
                CareOrganisation(
                    name=f"{MARK} zorgorganisatie {i + 1:04d}",
                    kvk_number=f"{30_000_000 + i}",
                    agb_code=f"{74_000_000 + i}",
                    organisation_type=organisation_types[i % len(organisation_types)],
                    contact_email=f"info{i + 1}@zorg.invalid",
                )
                for i in range(max(1, n_locations // 25))
            ],
            batch_size=BATCH_SIZE,
        )

        # House numbers from 1,000 up: unique among these, and above the demo's.
        letters = _postcode_letters()
        streets = ("Hofstraat", "Kerkweg", "Molenweg", "Dorpsstraat", "Stationsplein", "Brink")
        locations = []
        for i in range(n_locations):
            post = posts[i % len(posts)]
            postcode_range = rng.choice(list(post.postcode_ranges.all()))
            treatment = rng.random() < 0.4
            locations.append(
                CareLocation(
                    organisation=organisations[i % len(organisations)],
                    name=f"{MARK} locatie {i + 1:05d}",
                    street=rng.choice(streets),
                    house_number=1_000 + i,
                    postcode=f"{rng.randint(postcode_range.first, postcode_range.last)} "
                    f"{rng.choice(letters)}",
                    city=post.city,
                    region_id=post.region_id,
                    hap_post=post,
                    wlz_treatment_admission=treatment,
                    treatment_delivered=treatment and rng.random() < 0.9,
                    highest_care_profile=rng.randint(4, 10),
                    financed_vpt=not treatment and rng.random() < 0.5,
                    financed_pgb=rng.random() < 0.3,
                    number_of_residents=rng.randint(6, 120),
                )
            )
        CareLocation.objects.bulk_create(locations, batch_size=BATCH_SIZE)
        through = CareLocation.target_groups.through
        through.objects.bulk_create(
            [
                through(carelocation_id=location.pk, targetgroup_id=group.pk)
                for location in locations
                for group in rng.sample(target_groups, rng.randint(1, 2))
            ],
            batch_size=BATCH_SIZE * 5,
        )

        kinds = list(RequestKind.values)
        rounds = -(-n_requests // n_locations)
        requests = []
        for k in range(n_requests):
            location = locations[k % n_locations]
            round_ = k // n_locations
            latest = k + n_locations >= n_requests
            weights = LATEST_STATE_WEIGHTS if latest else EARLIER_STATE_WEIGHTS
            state = rng.choices(list(weights), weights=list(weights.values()))[0]
            age = datetime.timedelta(
                days=(rounds - 1 - round_) * 365 + rng.randint(1, 90 if latest else 300),
                minutes=rng.randint(0, 24 * 60),
            )
            received_at = now - age
            entered = received_at
            if state != "received":
                entered += min(age, datetime.timedelta(days=120)) * rng.random()
            outcome_recorded_at = completed_on = None
            if state == "contracting" and rng.random() < 0.5:
                outcome_recorded_at = entered + (now - entered) * rng.random()
            elif state == "contracted":
                outcome_recorded_at = entered - datetime.timedelta(days=rng.randint(1, 30))
                completed_on = timezone.localdate(entered)
            requests.append(
                AdmissionRequest(
                    location=location,
                    kind=kinds[k % len(kinds)],
                    requester_name=f"{MARK} aanvrager {k + 1}",
                    requester_email=f"aanvrager{k + 1}@zorg.invalid",
                    requester_phone="038 123 45 67",
                    received_on=timezone.localdate(received_at),
                    # The FSM field is protected, but may be given to the constructor.
                    state=state,
                    state_entered_at=entered,
                    assigned_location_manager=None
                    if state == "received"
                    else managers[location.region_id],
                    outcome_recorded_at=outcome_recorded_at,
                    outcome_notes="Uitkomst verwerkt." if outcome_recorded_at else "",
                    completed_on=completed_on,
                    created_by=secretariat[location.region_id],
                )
            )
        AdmissionRequest.objects.bulk_create(requests, batch_size=BATCH_SIZE)

        # Contracts from contracted requests: first every location's newest (running or
        # recently ended), then the one before it two years earlier, and so on, so a location's
        # contracts follow each other instead of overlapping.
        per_location: dict[int, list[AdmissionRequest]] = {}
        for request in reversed(requests):
            if request.state == "contracted":
                per_location.setdefault(request.location_id, []).append(request)
        origins: list[tuple[AdmissionRequest, int]] = []
        depth = 0
        while len(origins) < n_contracts and any(len(r) > depth for r in per_location.values()):
            origins += [(r[depth], depth) for r in per_location.values() if len(r) > depth]
            depth += 1
        origins = origins[:n_contracts]
        if len(origins) < n_contracts:
            sys.exit(f"Only {len(origins)} contracted requests for {n_contracts} contracts.")
        contracts = []
        for i, (request, generation) in enumerate(origins):
            location = request.location
            start = today - relativedelta(
                months=rng.randint(0, 26) + 24 * generation, days=rng.randint(0, 27)
            )
            end = start + relativedelta(months=24) - datetime.timedelta(days=1)
            terminated_on = None
            if i % 53 == 52:
                terminated_on = min(end, start + datetime.timedelta(days=rng.randint(30, 400)))
            contracts.append(
                Contract(
                    organisation_id=location.organisation_id,
                    location=location,
                    region_id=location.region_id,
                    kind=ContractKind.WLZ_WITH_TREATMENT
                    if location.wlz_treatment_admission
                    else ContractKind.WLZ_WITHOUT_TREATMENT,
                    start_date=start,
                    end_date=end,
                    terminated_on=terminated_on,
                    termination_reason="Beëindigd (belastingtest)." if terminated_on else "",
                    admission_request=request,
                )
            )
        Contract.objects.bulk_create(contracts, batch_size=BATCH_SIZE)
        acts = list(Act.objects.order_by("code"))
        ContractRate.objects.bulk_create(
            [
                ContractRate(contract=contract, act=act, amount=rng.choice((130, 150, 200)))
                for contract in contracts
                if contract.kind == ContractKind.WLZ_WITH_TREATMENT
                for act in acts
            ],
            batch_size=BATCH_SIZE * 5,
        )

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"Volume added in {time.perf_counter() - started:.1f} s.")


def has_users() -> bool:
    from django.db import connection

    from accounts.models import User

    tables = connection.introspection.table_names()
    return User._meta.db_table in tables and User.objects.exists()


def prepare_database(args: argparse.Namespace) -> None:
    from django.db import connections

    ensure_database()
    refuse_foreign_database(lambda: {"username__in": demo_usernames()}, what="rebuild it")
    size = (args.locations, args.requests, args.contracts)
    if not args.rebuild and dataset_is_current(*size):
        print("Data set present; reusing it.")
        migrate()
        seed_demo(args.password)  # sets the password of the logins
    else:
        if has_users():
            ensure_database(drop=True)
        print("Migrating …")
        migrate()
        seed_demo(args.password)
        build_volume(*size)
    connections.close_all()


# --- Server and locust -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn stopped with exit code {server.returncode}; see its log.")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    sys.exit(f"gunicorn did not answer {url} within {timeout:.0f} s.")


def start_gunicorn(args, port: int, log_path: Path) -> subprocess.Popen:
    env = {**os.environ, **server_environment(args.database_url)}
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "config.wsgi",
        "-w",
        str(args.workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--error-logfile",
        str(log_path),
    ]
    print("$", " ".join(command))
    return subprocess.Popen(command, cwd=REPO_ROOT, env=env, start_new_session=True)


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def run_locust(args, host: str, csv_prefix: Path) -> int:
    locust = shutil.which("locust", path=str(Path(sys.executable).parent)) or "locust"
    command = [
        locust,
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "-u",
        str(args.users),
        "-r",
        str(args.spawn_rate),
        "-t",
        args.duration,
        "--host",
        host,
        "--csv",
        str(csv_prefix),
        "--only-summary",
    ]
    print("$", " ".join(command))
    env = {**os.environ, "HAP_LOAD_PASSWORD": args.password}
    return subprocess.run(command, cwd=REPO_ROOT, env=env, check=False).returncode


# --- Report ----------------------------------------------------------------------------------


def _ms(value: str) -> str:
    return "–" if value in ("", "N/A") else f"{float(value):.0f}"


def report(csv_prefix: Path) -> tuple[int, int]:
    """Print a table per page from locust's CSV statistics; return (requests, failures).

    Reads ``<prefix>_final_stats.csv``, written by the locustfile once the users stopped;
    ``<prefix>_stats.csv`` (rewritten every second during the run) only when that is missing.
    """
    final = Path(f"{csv_prefix}_final_stats.csv").exists()
    stats_file = Path(f"{csv_prefix}_{'final_' if final else ''}stats.csv")
    failures_file = Path(f"{csv_prefix}_{'final_' if final else ''}failures.csv")
    with open(stats_file, newline="") as handle:
        rows = list(csv.DictReader(handle))
    header = ("page", "requests", "failures", "p50 ms", "p95 ms", "p99 ms", "req/s")
    lines = [
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
    ]
    widths = [max(len(str(line[i])) for line in [header, *lines]) for i in range(len(header))]

    def fmt(cells):
        first = f"{cells[0]:<{widths[0]}}"
        rest = "  ".join(f"{cell:>{widths[i + 1]}}" for i, cell in enumerate(cells[1:]))
        return f"{first}  {rest}"

    print()
    print(fmt(header))
    print("  ".join("-" * w for w in widths))
    for line in lines[:-1]:
        print(fmt(line))
    print("  ".join("-" * w for w in widths))
    print(fmt(lines[-1]))
    total = rows[-1]
    if failures_file.exists():
        with open(failures_file, newline="") as handle:
            for row in csv.DictReader(handle):
                print(f"FAILED {row['Occurrences']}× {row['Method']} {row['Name']}: {row['Error']}")
    return int(total["Request Count"]), int(total["Failure Count"])


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
    configure_django(args.database_url)
    prepare_database(args)

    port = args.port or free_port()
    host = f"http://127.0.0.1:{port}"
    log_path = out / "gunicorn.log"
    print(f"Load average at start: {load_average()} ({os.cpu_count()} CPUs)")
    server = start_gunicorn(args, port, log_path)
    try:
        wait_until_serving(f"{host}/login/", server)
        locust_code = run_locust(args, host, out / "locust")
    finally:
        stop(server)
    print(f"Load average at end: {load_average()}")
    print(
        f"\n{args.users} users for {args.duration}, gunicorn with {args.workers} workers, "
        f"PostgreSQL {args.database_url}"
    )

    total, failures = report(out / "locust")
    errors = server_errors(log_path)
    print(f"\n{total:,} requests, {failures:,} failed; server log errors: {errors} ({log_path})")
    print(f"locust's CSV statistics: {out}/")
    if failures or errors or locust_code:
        print(f"FAIL: locust exit code {locust_code}.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
