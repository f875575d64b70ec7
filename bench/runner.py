"""What every benchmark shares: Django set up for a PostgreSQL database of the benchmark's own,
the common arguments, the database (created, migrated, its data set built once and reused while
it matches, never one holding somebody else's users), timing, query counts, gunicorn, and the
report, whose last line is ``RESULT {json}`` with the figures and ratios.

A benchmark script calls, in this order: ``parser`` (and adds its sizes), ``setup_django``,
``prepare_database`` with a builder from ``bench.datasets``, its own workload and floor, and
``finish``. Each benchmark's users are named ``bench.<benchmark>.…`` (``user_prefix``; the
benchmark is the script's name); a data set is recognised by a marker user,
``bench.<benchmark>.dataset``, whose last name describes it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432"


# --- Arguments and Django --------------------------------------------------------------------


def parser(doc: str, *, database: str, repeat: int | None) -> argparse.ArgumentParser:
    """``--database-url`` (default ``<local server>/<database>``), ``--rebuild`` and, unless
    ``repeat`` is None, ``--repeat``; the script adds its sizes."""
    default = f"{SERVER}/{database}"
    result = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    result.add_argument(
        "--database-url",
        default=default,
        help=f"PostgreSQL database of the benchmark, its own (default {default})",
    )
    result.add_argument("--rebuild", action="store_true", help="drop and rebuild the data set")
    if repeat is not None:
        result.add_argument(
            "--repeat", type=int, default=repeat, help=f"timed runs (default {repeat})"
        )
    return result


def check_at_least(parser_: argparse.ArgumentParser, args, minimum: int, *names: str) -> None:
    for name in names:
        if getattr(args, name) < minimum:
            parser_.error(f"--{name.replace('_', '-')} must be at least {minimum}")


def django_environment(
    database_url: str, *, settings: str = "config.settings.test", **extra: str
) -> dict[str, str]:
    """What the benchmark (and a server or child process it starts) runs with: DEBUG off,
    Celery eager, warnings and errors logged only."""
    return {
        "DJANGO_SETTINGS_MODULE": settings,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "false",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "DJANGO_LOG_LEVEL": os.environ.get("DJANGO_LOG_LEVEL", "WARNING"),
        # WhiteNoise warns that collectstatic never ran; no benchmark asks for static files.
        "PYTHONWARNINGS": "ignore:No directory at",
        **extra,
    }


def setup_django(database_url: str, **kwargs: str) -> None:
    """Environment first, then ``django.setup()``: the settings read it once, at import."""
    os.environ.update(django_environment(database_url, **kwargs))
    warnings.filterwarnings("ignore", message="No directory at")

    import django

    django.setup()


# --- The benchmark's own database ------------------------------------------------------------


def user_prefix(benchmark: str) -> str:
    return f"bench.{benchmark}."


def _server_connection():
    """An autocommit connection to the ``postgres`` maintenance database of the server."""
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        sys.exit(f"The benchmark needs PostgreSQL; --database-url gave {db['ENGINE']}.")
    params = {
        key: db.get(name)
        for key, name in (("user", "USER"), ("password", "PASSWORD"), ("host", "HOST"))
        if db.get(name)
    }
    if db.get("PORT"):
        params["port"] = db["PORT"]
    return psycopg.connect(dbname="postgres", autocommit=True, **params)


def ensure_database(*, drop: bool = False, template: str | None = None) -> None:
    """CREATE DATABASE when it does not exist yet (a copy of ``template``, when given); DROP it
    first with ``drop``."""
    from django.db import connection, connections
    from psycopg import sql

    name = connection.settings_dict["NAME"]
    connections.close_all()
    with _server_connection() as conn:
        if drop:
            print(f"Dropping database {name} …")
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            if template:
                print(f"Creating database {name} from {template} …")
                statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            else:
                print(f"Creating database {name} …")
                statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            conn.execute(statement)


# Every benchmark's databases are copies of this one, migrated and without a data set:
# CREATE DATABASE … TEMPLATE copies files in a second or two, where migrating an empty database
# takes half a minute, so a run of all the benchmarks migrates once.
TEMPLATE_DATABASE = "hap_bench_template"
_template_ready = False


def ensure_template() -> None:
    """``TEMPLATE_DATABASE``, created when missing and migrated (nothing to do unless a
    migration was added), once a process; made again when it holds users (a data set was built
    into it by hand), refused when it holds somebody else's."""
    global _template_ready
    if _template_ready:
        return
    from django.db import connection

    from accounts.models import User

    with use_database(TEMPLATE_DATABASE):
        ensure_database()
        tables = connection.introspection.table_names()
        if tables and User._meta.db_table not in tables:
            sys.exit(f"Database {TEMPLATE_DATABASE} holds tables but not the project's users.")
        if tables:
            if User.objects.exclude(username__startswith="bench.").exists():
                sys.exit(f"Database {TEMPLATE_DATABASE} holds users no benchmark created.")
            if User.objects.exists():
                ensure_database(drop=True)
        migrate()
    _template_ready = True


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def refuse_foreign_database(benchmark: str, also_own: Callable[[], dict] | None = None) -> None:
    """Stop before touching a database that is not the benchmark's own: one with tables but no
    project users table, or with users other than ``bench.<benchmark>.…`` (and those the lookups
    ``also_own()`` return, called once the tables are known to exist)."""
    from django.db import connection
    from django.db.models import Q

    from accounts.models import User

    name = connection.settings_dict["NAME"]
    tables = connection.introspection.table_names()
    if not tables:
        return
    if User._meta.db_table not in tables:
        sys.exit(
            f"Database {name} holds tables but not the project's users; refusing to touch it. "
            "Give the benchmark a database of its own (--database-url)."
        )
    own = Q(username__startswith=user_prefix(benchmark))
    if also_own is not None:
        own |= Q(**also_own())
    usernames = list(User.objects.exclude(own).values_list("username", flat=True)[:3])
    if usernames:
        sys.exit(
            f"Database {name} holds users the benchmark did not create ({', '.join(usernames)}, "
            "…); refusing to touch it. Give the benchmark a database of its own (--database-url)."
        )


def _marker_username(benchmark: str) -> str:
    return f"{user_prefix(benchmark)}dataset"


def dataset_is_current(benchmark: str, description: str) -> bool:
    from django.db import connection

    from accounts.models import User

    if User._meta.db_table not in connection.introspection.table_names():
        return False
    marker = User.objects.filter(username=_marker_username(benchmark))
    return list(marker.values_list("last_name", flat=True)) == [description]


def _mark_dataset(benchmark: str, description: str) -> None:
    from accounts.models import User

    marker = User(
        username=_marker_username(benchmark),
        first_name="Benchmark data set",
        last_name=description,
        is_active=False,
    )
    marker.set_unusable_password()
    marker.save()


def prepare_database(
    benchmark: str,
    description: str,
    build: Callable[[], object],
    *,
    rebuild: bool = False,
    also_own: Callable[[], dict] | None = None,
) -> float | None:
    """Create and migrate the database; reuse its data set when the marker says it is the one
    ``description`` describes, or else make it again as a copy of the migrated template
    (``ensure_template``) and ``build()`` the data set (then VACUUM ANALYZE). Returns the build
    time, None when the data set was reused."""
    from django.db import connection

    name = connection.settings_dict["NAME"]
    ensure_database()
    refuse_foreign_database(benchmark, also_own)
    if not rebuild and dataset_is_current(benchmark, description):
        migrate()
        print(f"Data set ({description}) in {name} is current.")
        return None
    started = time.perf_counter()
    ensure_template()
    ensure_database(drop=True, template=TEMPLATE_DATABASE)
    migrate()
    print(f"Building the data set in {name}: {description} …")
    build()
    _mark_dataset(benchmark, description)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    elapsed = time.perf_counter() - started
    print(f"Migrated and built in {elapsed:.1f} s.")
    return elapsed


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


def environment() -> dict:
    """What the figures were measured on."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (version,) = cursor.fetchone()
    return {
        "database": connection.settings_dict["NAME"],
        "postgresql": version,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }


def describe_environment() -> str:
    env = environment()
    return (
        f"PostgreSQL {env['postgresql']} ({env['database']}), Python {env['python']}, "
        f"{env['cpus']} CPUs"
    )


# --- Measuring -------------------------------------------------------------------------------


@dataclass
class Timing:
    """Seconds of each timed run; ``median`` is the figure the benchmarks report."""

    runs: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def median_ms(self) -> float:
        return self.median * 1000

    def as_dict(self, unit: str = "ms") -> dict:
        scale = 1000 if unit == "ms" else 1
        return {
            f"median_{unit}": round(self.median * scale, 3),
            f"min_{unit}": round(min(self.runs) * scale, 3),
            f"max_{unit}": round(max(self.runs) * scale, 3),
            "runs": len(self.runs),
        }


def timed(func: Callable[[], object], repeat: int, *, warm_up: int = 0) -> Timing:
    """``warm_up`` untimed calls, then ``repeat`` timed ones."""
    for _ in range(warm_up):
        func()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        runs.append(time.perf_counter() - started)
    return Timing(runs)


def count_queries(func: Callable[[], object]) -> tuple[object, list[str]]:
    """``func()`` and the SQL of every statement it ran (savepoints included)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        result = func()
    return result, [query["sql"] for query in captured.captured_queries]


def is_savepoint(sql: str) -> bool:
    return sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO"))


@contextlib.contextmanager
def rolled_back():
    """A transaction that is rolled back: every run starts from the same state (the atomic
    blocks inside become savepoints)."""
    from django.db import transaction

    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def ratio(value: float, floor: float) -> float | None:
    return round(value / floor, 3) if floor else None


def machine_cpu_seconds() -> tuple[float, float, float] | None:
    """(busy, total, stolen) CPU seconds of all the machine's CPUs since boot, from
    /proc/stat; None where there is none. Busy is everything but idle and iowait (the CPU had
    nothing to run); stolen (included in busy) is the time the hypervisor gave the CPUs to
    other virtual machines, which no benchmark can do anything about."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(value) for value in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = sum(fields[:8])  # guest time is counted in user time already
    idle = fields[3] + fields[4]
    return (total - idle) / ticks, total / ticks, fields[7] / ticks


def wait_for_quiet_machine(
    *, busy_below: float = 0.15, quiet_seconds: int = 3, limit_s: float = 120
) -> dict:
    """Wait until the CPUs have been less than ``busy_below`` busy for ``quiet_seconds``
    seconds in a row, at most ``limit_s``: after a data set is built (or the benchmark before
    it ran, in ``make bench``) PostgreSQL may go on writing and vacuuming for a while, and a
    latency measured meanwhile measures that. Returns the seconds waited and the last second's
    busy share, for the report; where the CPUs cannot be read it returns at once."""
    started = time.perf_counter()
    before = machine_cpu_seconds()
    if before is None:
        return {"waited_s": 0.0, "busy_share": None}
    quiet, busy = 0, 1.0
    while quiet < quiet_seconds and time.perf_counter() - started < limit_s:
        time.sleep(1)
        after = machine_cpu_seconds()
        busy_s, total_s = after[0] - before[0], after[1] - before[1]
        busy = busy_s / total_s if total_s else 0.0
        quiet = quiet + 1 if busy < busy_below else 0
        before = after
    waited = round(time.perf_counter() - started, 1)
    if quiet < quiet_seconds:
        print(f"The machine was still {busy:.0%} busy after {waited:g} s; measuring anyway.")
    return {"waited_s": waited, "busy_share": round(busy, 3)}


# --- A server on loopback --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(
    application: str,
    *,
    port: int,
    workers: int | None,
    env: dict[str, str],
    ready_path: str,
    options: Sequence[str] = (),
    timeout: float = 60,
):
    """gunicorn serving ``application`` on 127.0.0.1:``port`` until the block ends, once
    ``ready_path`` answers 200; yields the server's process. ``workers`` None: as the
    configuration file in ``options`` (``-c``) says."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        application,
        "--chdir",
        str(REPO_ROOT),
        "--bind",
        f"127.0.0.1:{port}",
        *(("--workers", str(workers)) if workers is not None else ()),
        *options,
    ]
    print("$", " ".join(command[2:]))
    server = subprocess.Popen(
        command, cwd=REPO_ROOT, env={**os.environ, **env}, start_new_session=True
    )
    try:
        url = f"http://127.0.0.1:{port}{ready_path}"
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                sys.exit(f"gunicorn stopped with exit code {server.returncode}.")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                sys.exit(f"gunicorn did not answer {url} within {timeout:.0f} s.")
            time.sleep(0.2)
        yield server
    finally:
        stop(server)


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """Ask a server or worker to stop, and kill it when it has not within ``timeout``."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def celery_worker_command(queue: str) -> list[str]:
    """A Celery worker of the project (one process) on ``queue`` only, without the chatter
    between workers, for a benchmark or a test that needs the real one."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config.celery_app",
        "worker",
        "--pool=solo",
        "--queues",
        queue,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel=INFO",
    ]


# --- Report ----------------------------------------------------------------------------------


def print_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """The first column left-aligned, the others right-aligned."""
    rows = [tuple(map(str, row)) for row in rows]
    widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(len(headers))]
    print(" | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        print(" | ".join(cells))


def _plain(value):
    if isinstance(value, Timing):
        return value.as_dict()
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)


def _flat_targets(targets: dict, prefix: str = ""):
    """(name, held) of each target, nested ones (per page) named by their path."""
    for name, holds in targets.items():
        if isinstance(holds, dict):
            yield from _flat_targets(holds, f"{prefix}{name} / ")
        else:
            yield f"{prefix}{name}", bool(holds)


def finish(
    benchmark: str,
    *,
    sizes: dict,
    figures: dict,
    ratios: dict,
    failures: Sequence[str] = (),
    passed: Sequence[str] = (),
    targets: dict | None = None,
    extra: dict | None = None,
) -> int:
    """Print the checks, then the one last line ``RESULT {json}``; the exit code. ``targets``:
    whether each of the issue's targets held (reported, not part of the exit code); ``extra``:
    more keys of the result."""
    print()
    for line in passed:
        print(f"OK: {line}")
    for line in failures:
        print(f"FAIL: {line}")
    for name, holds in _flat_targets(targets or {}):
        print(f"target {name}: {'holds' if holds else 'MISSED'}")
    ok = not failures
    print("OK" if ok else "FAILED")
    result = {
        "benchmark": benchmark,
        "ok": ok,
        "sizes": sizes,
        "figures": figures,
        "ratios": ratios,
        **({"targets": targets} if targets is not None else {}),
        "environment": environment(),
        **(extra or {}),
    }
    sys.stdout.flush()
    print("RESULT " + json.dumps(result, default=_plain, ensure_ascii=False), flush=True)
    return 0 if ok else 1
