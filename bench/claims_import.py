"""Benchmark of the claims import: a million lines, against two floors that ``COPY`` the same
rows, one into a bare table and one into the real claims table.

Run from the repository root::

    .venv/bin/python bench/claims_import.py --smoke
    .venv/bin/python bench/claims_import.py --lines 1000000 \\
        --database-url postgres://postgres@127.0.0.1:5432/hap_bench_import

The data set (``bench.datasets.claims_reference``): the posts (fixture), the standard acts (a
migration), a finance user and care locations at a quarter of the file's addresses, so matching
finds some and opens investigations for the rest. The script writes a CSV of ``--lines`` valid
claim lines (``datasets.write_claims_file``: the import's template columns,
``billing.services.claims_import.COLUMNS``, one line in ten with a BSN) to a temporary
directory that also serves as MEDIA_ROOT, and then, ``--repeat`` times:

(a) runs ``billing.services.claims_import.claim_import_run`` on a ClaimImport of that file, in a
    child process of its own, so that its peak resident memory (``VmHWM``: the child's own;
    its ``ru_maxrss`` would include the parent's, which Linux carries over across fork and
    exec) and its statements (Django's query log, which leaves out the COPYs, two for each of
    the import's eight batches: they go through psycopg's own cursor) are its own: the figure
    that matters;
(b) the schema's floor: the claims the import stored, exported beforehand (untimed) with
    ``COPY (SELECT … ORDER BY id) TO`` a file, are deleted and copied back with ``COPY
    billing_claim FROM STDIN``, streamed from this process, and committed: the same rows in
    the same order, with the same values, foreign keys and index upkeep, and the deferred
    foreign-key checks that the commit runs; nothing parsed, checked, matched or looked up;
(c) the bare floor: ``COPY … FROM STDIN`` of the CSV file itself into a table of text columns
    without indexes or keys, streamed from this process.

Then it imports a file a tenth the size (memory and statements at a second size) and the file
once more with its last line bad (an invalid postcode), which must end ``rejected`` with no
claim and no staged line. It prints the times, the ratios to both floors, lines per second, the
peak memory at both sizes and the bad file's time against the good import's.

The import must end ``imported`` with every line as a claim, the bad file ``rejected``, and the
import's statements must not grow with its lines, or the script exits non-zero. At full size
(not ``--smoke``) the RESULT json says whether each target holds: the import at most twice the
real-table floor, at least 30,000 lines a second, the bad file rejected no slower than the good
one is imported, peak memory at most 150 MiB at both sizes. ``--smoke`` imports 20,000 lines
once and reports the targets without enforcing them (small sizes are noisy). ``--profile``
prints the first import's hottest functions (cProfile). The last line is ``RESULT {json}``.

The script empties the claim tables of its database: point ``--database-url`` at a database of
its own. It refuses one holding users it did not create.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench import datasets, runner  # noqa: E402

BENCHMARK = "claims_import"
DATASET_VERSION = 2
ADDRESSES = 2000
COPY_TABLE = "bench_claims_copy"
SMOKE_LINES = 20_000
# The targets (issue 15), judged at full size.
MAX_RATIO_TO_REAL_TABLE = 2.0
MIN_LINES_PER_SECOND = 30_000
MAX_PEAK_RSS_MIB = 150
# The claim columns the import writes, as the floor copies them back.
CLAIM_COLUMNS = (
    "claim_import_id, line_number, care_at, care_on, post_id, act_id, patient_reference, "
    "bsn_hash, postcode, house_number, house_number_addition, reason_code, location_id, "
    "duplicate_of_id"
)


def parse_args(argv=None):
    parser = runner.parser(__doc__, database="hap_bench_import", repeat=1)
    parser.add_argument("--lines", type=int, default=1_000_000, help="claim lines in the file")
    parser.add_argument(
        "--smoke", action="store_true", help=f"{SMOKE_LINES:,} lines, once; targets not enforced"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the first import")
    # Internal: the child process that runs one import.
    parser.add_argument("--child-import", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--media-root", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.lines, args.repeat = SMOKE_LINES, 1
    runner.check_at_least(parser, args, 100, "lines")
    runner.check_at_least(parser, args, 1, "repeat")
    return args


# --- The import, in a process of its own ------------------------------------------------------


def new_claim_import(media_root: Path, path: Path) -> int:
    """A ClaimImport row for a file already in MEDIA_ROOT (``claim_import_create`` would read
    and copy the upload; the benchmark times the import itself)."""
    from accounts.models import User
    from hap_contracting.billing.models import ClaimImport

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return ClaimImport.objects.create(
        file=str(path.relative_to(media_root)),
        original_name=path.name,
        sha256=digest.hexdigest(),
        uploaded_by=User.objects.get(username=f"{runner.user_prefix(BENCHMARK)}finance"),
    ).pk


def peak_rss_kib() -> int:
    """The process's own peak resident memory since it started (``VmHWM``). Not ``ru_maxrss``:
    Linux carries that over from the parent across fork and exec, and the parent here holds
    Django and the data set."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # not Linux


def run_child_import(claim_import_id: int, profile: bool) -> None:
    """Runs in the child: one import, then its figures as JSON on the last line of stdout."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hap_contracting.billing.services.claims_import import claim_import_run

    before = peak_rss_kib()
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        if profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            claim_import = profiler.runcall(claim_import_run, claim_import_id)
            seconds = time.perf_counter() - started
            stats = pstats.Stats(profiler, stream=sys.stderr)
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(30)
        else:
            claim_import = claim_import_run(claim_import_id)
            seconds = time.perf_counter() - started
    figures = {
        "seconds": seconds,
        "status": claim_import.status,
        "processed": claim_import.processed_lines,
        "imported": claim_import.imported_count,
        "errors": claim_import.error_count,
        "queries": len(queries.captured_queries),
        "rss_before_kib": before,
        "rss_peak_kib": peak_rss_kib(),
        "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    print(json.dumps(figures))


def import_in_child(args, media_root: Path, path: Path, profile: bool) -> dict:
    from django.db import connection

    claim_import_id = new_claim_import(media_root, path)
    checkpoint()
    connection.close()  # the child gets the database to itself
    command = [sys.executable, str(Path(__file__).resolve()), "--database-url", args.database_url]
    command += ["--media-root", str(media_root), "--child-import", str(claim_import_id)]
    if profile:
        command.append("--profile")
    stderr_file = media_root / f"stderr-{claim_import_id}.txt"
    with stderr_file.open("w") as stderr:
        done = subprocess.run(
            command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    if done.returncode != 0:
        sys.stderr.write(stderr_file.read_text())
        sys.exit(f"The import process failed with exit code {done.returncode}.")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["claim_import_id"] = claim_import_id
    if profile:
        result["profile"] = stderr_file.read_text()
    return result


def import_copy_of(args, media_root: Path, path: Path, name: str, profile=False) -> dict:
    """The import deletes its file when it finishes (patient data is not kept): it imports a
    copy, and the original stays for the floors."""
    upload = path.with_name(name)
    shutil.copyfile(path, upload)
    result = import_in_child(args, media_root, upload, profile)
    result["file_kept"] = upload.exists()
    return result


def empty_claims() -> None:
    """Empty what an import writes (TRUNCATE: a million rows, no per-row protection to check)."""
    from django.db import connection

    from hap_contracting.billing import models

    tables = ", ".join(
        model._meta.db_table
        for model in (
            models.InvoiceLine,
            models.ClaimImportError,
            models.ClaimStagingLine,
            models.AddressInvestigation,
            models.Claim,
            models.ClaimImport,
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables}")


def checkpoint() -> None:
    """Before each timed run: the writes of the one before are not its to flush."""
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:  # not a superuser (nor pg_checkpoint): the figures are noisier
        pass


# --- The floors -------------------------------------------------------------------------------


def stream_into(copy_sql: str, path: Path) -> None:
    from django.db import connection

    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(copy_sql) as copy,
        path.open("rb") as handle,
    ):
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            copy.write(chunk)


def real_table_floor(claim_import_id: int, media_root: Path) -> tuple[float, int]:
    """COPY of the import's own claims back into the claims table, with its indexes and
    foreign keys, committed; the rows were exported before, untimed."""
    from django.db import connection, transaction

    from hap_contracting.billing.models import Claim, ClaimStagingLine, InvoiceLine

    table, staging = Claim._meta.db_table, ClaimStagingLine._meta.db_table
    prepared = media_root / "prepared-claims.copy"
    with connection.cursor() as cursor, prepared.open("wb") as out:
        sql = (
            f"COPY (SELECT {CLAIM_COLUMNS} FROM {table} "
            f"WHERE claim_import_id = {int(claim_import_id)} ORDER BY id) TO STDOUT"
        )
        with cursor.cursor.copy(sql) as copy:
            for data in copy:
                out.write(data)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {InvoiceLine._meta.db_table}, {staging}, {table}")
    checkpoint()
    started = time.perf_counter()
    with transaction.atomic():
        stream_into(f"COPY {table} ({CLAIM_COLUMNS}) FROM STDIN", prepared)
    seconds = time.perf_counter() - started
    copied = Claim.objects.count()
    prepared.unlink()
    return seconds, copied


def bare_copy_floor(path: Path) -> tuple[float, int]:
    """COPY of the CSV file into a bare table of text columns, streamed from this process."""
    from django.db import connection

    from hap_contracting.billing.services.claims_import import COLUMNS

    columns = ", ".join(f"{column.key} text" for column in COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {COPY_TABLE}")
        cursor.execute(f"CREATE TABLE {COPY_TABLE} ({columns})")
    checkpoint()
    started = time.perf_counter()
    stream_into(f"COPY {COPY_TABLE} FROM STDIN (FORMAT csv, HEADER true, DELIMITER ';')", path)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {COPY_TABLE}")
        copied = cursor.fetchone()[0]
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {COPY_TABLE}")
    return seconds, copied


def write_bad_copy(source: Path, target: Path) -> int:
    """The same file with the postcode of its last line made invalid; returns that line's
    number (the header is line 1)."""
    number, previous = 0, None
    with source.open("rb") as inp, target.open("wb") as out:
        for line in inp:
            if previous is not None:
                out.write(previous)
            previous, number = line, number + 1
        cells = previous.split(b";")
        cells[5] = b"1234 XYZ"
        out.write(b";".join(cells))
    return number


# --- The run ----------------------------------------------------------------------------------


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child_import:
        runner.setup_django(args.database_url, DJANGO_MEDIA_ROOT=args.media_root)
        run_child_import(args.child_import, args.profile)
        return 0
    media_root = Path(tempfile.mkdtemp(prefix="hap-bench-import-"))
    try:
        return run(args, media_root)
    finally:
        shutil.rmtree(media_root, ignore_errors=True)


def mib(kib: int) -> float:
    return round(kib / 1024, 1)


def run(args, media_root: Path) -> int:
    runner.setup_django(args.database_url, DJANGO_MEDIA_ROOT=str(media_root))
    addresses = datasets.claim_addresses(ADDRESSES)
    runner.prepare_database(
        BENCHMARK,
        f"addresses={ADDRESSES} locations={ADDRESSES // 4} v{DATASET_VERSION}",
        lambda: datasets.claims_reference(BENCHMARK, addresses[::4]),
        rebuild=args.rebuild,
    )
    empty_claims()

    from hap_contracting.billing.constants import ClaimImportStatus
    from hap_contracting.billing.models import Claim, ClaimStagingLine

    (media_root / "bench").mkdir()
    path = media_root / "bench" / "claims.csv"
    small_lines = max(args.lines // 10, 10)
    small_path = media_root / "bench" / "claims-small.csv"
    started = time.perf_counter()
    datasets.write_claims_file(path, args.lines, addresses)
    datasets.write_claims_file(small_path, small_lines, addresses, seed=7)
    size_mib = path.stat().st_size / 2**20
    print(
        f"Wrote {args.lines:,} lines ({size_mib:.1f} MiB) and {small_lines:,} lines in "
        f"{time.perf_counter() - started:.1f} s."
    )

    failures = []

    def check_imported(result, lines, what):
        stored = Claim.objects.filter(claim_import_id=result["claim_import_id"]).count()
        if result["status"] != ClaimImportStatus.IMPORTED or stored != lines:
            failures.append(f"{what} ended {result['status']} with {stored:,} claims: {result}")
        if result["file_kept"]:
            failures.append(f"{what}: the imported file was kept")

    imports, real_floors, bare_floors = [], [], []
    for round_ in range(args.repeat):
        empty_claims()
        result = import_copy_of(
            args, media_root, path, f"upload-{round_}.csv", args.profile and round_ == 0
        )
        check_imported(result, args.lines, f"import {round_ + 1}")
        imports.append(result)
        real_floors.append(real_table_floor(result["claim_import_id"], media_root))
        bare_floors.append(bare_copy_floor(path))
    failures += [
        f"the real-table floor stored {copied:,} rows"
        for _s, copied in real_floors
        if copied != args.lines
    ]
    failures += [
        f"the bare COPY stored {copied:,} rows"
        for _s, copied in bare_floors
        if copied != args.lines
    ]

    empty_claims()
    small = import_copy_of(args, media_root, small_path, "upload-small.csv")
    check_imported(small, small_lines, "the small import")
    if small["queries"] != imports[0]["queries"]:
        failures.append(
            f"the import ran {imports[0]['queries']} statements for {args.lines:,} lines and "
            f"{small['queries']} for {small_lines:,}: the count grows with the lines"
        )

    empty_claims()
    bad_path = media_root / "bench" / "claims-last-line-bad.csv"
    bad_line = write_bad_copy(path, bad_path)
    bad = import_in_child(args, media_root, bad_path, False)
    bad_claims, bad_staged = Claim.objects.count(), ClaimStagingLine.objects.count()
    if (
        bad["status"] != ClaimImportStatus.REJECTED
        or bad_claims
        or bad_staged
        or bad["errors"] != 1
    ):
        failures.append(f"the bad file ended {bad['status']} with {bad_claims} claims: {bad}")
    empty_claims()

    import_timing = runner.Timing([r["seconds"] for r in imports])
    real_timing = runner.Timing([seconds for seconds, _copied in real_floors])
    bare_timing = runner.Timing([seconds for seconds, _copied in bare_floors])
    lines_per_s = round(args.lines / import_timing.median)
    peak_mib = mib(max(r["rss_peak_kib"] for r in imports))
    small_peak_mib = mib(small["rss_peak_kib"])
    ratio_real = runner.ratio(import_timing.median, real_timing.median)
    bad_over_good = runner.ratio(bad["seconds"], import_timing.median)

    print()
    print(f"{runner.describe_environment()}; file of {args.lines:,} lines, {size_mib:.1f} MiB.")
    print()

    def rss(result):
        return (
            f"{result['rss_peak_kib'] / 1024:.0f} "
            f"(+{(result['rss_peak_kib'] - result['rss_before_kib']) / 1024:.0f})"
        )

    rows = [
        (
            f"import {number}",
            f"{result['seconds']:.2f}",
            f"{real:.2f}",
            f"{bare:.2f}",
            f"{result['seconds'] / real:.2f}x",
            f"{result['seconds'] / bare:.1f}x",
            f"{result['processed'] / result['seconds']:,.0f}",
            rss(result),
            str(result["queries"]),
        )
        for number, (result, (real, _r), (bare, _b)) in enumerate(
            zip(imports, real_floors, bare_floors, strict=True), 1
        )
    ]
    for label, result in ((f"{small_lines:,} lines", small), ("last line bad", bad)):
        rows.append(
            (
                label,
                f"{result['seconds']:.2f}",
                "",
                "",
                "",
                "",
                f"{result['processed'] / result['seconds']:,.0f}",
                rss(result),
                str(result["queries"]),
            )
        )
    runner.print_table(
        (
            "run",
            "import s",
            "real-table COPY s",
            "bare COPY s",
            "/ real",
            "/ bare",
            "lines/s",
            "peak RSS MiB (+growth)",
            "statements",
        ),
        rows,
    )
    print()
    print(
        f"Bad file (line {bad_line:,}, the last, has an invalid postcode): {bad['status']}, "
        f"{bad['errors']} error, {bad_claims} claims and {bad_staged} staged lines stored, in "
        f"{bad_over_good:.2f} of the good import's time."
    )
    print(
        "Peak RSS is the import process's own (VmHWM of a child that only runs the import); "
        "growth is over its peak after Django started."
    )
    if args.profile and "profile" in imports[0]:
        print()
        print(imports[0]["profile"])

    targets = {
        "ratio_to_real_table_le_2": ratio_real is not None
        and ratio_real <= MAX_RATIO_TO_REAL_TABLE,
        "lines_per_s_ge_30000": lines_per_s >= MIN_LINES_PER_SECOND,
        "bad_file_no_slower_than_good": bad["seconds"] <= import_timing.median,
        "peak_rss_le_150_mib": max(peak_mib, small_peak_mib, mib(bad["rss_peak_kib"]))
        <= MAX_PEAK_RSS_MIB,
    }
    return runner.finish(
        BENCHMARK,
        sizes={
            "lines": args.lines,
            "small_lines": small_lines,
            "repeat": args.repeat,
            "file_mib": round(size_mib, 2),
            "smoke": args.smoke,
        },
        figures={
            "import": import_timing.as_dict("s"),
            "real_table_copy": real_timing.as_dict("s"),
            "bare_copy": bare_timing.as_dict("s"),
            "import_lines_per_s": lines_per_s,
            "import_peak_rss_mib": peak_mib,
            "small_import_peak_rss_mib": small_peak_mib,
            "import_rss_growth_mib": mib(
                max(r["rss_peak_kib"] - r["rss_before_kib"] for r in imports)
            ),
            "statements": {"lines": imports[0]["queries"], "small_lines": small["queries"]},
            "bad_file": {
                "status": bad["status"],
                "seconds": round(bad["seconds"], 3),
                "over_good_import": bad_over_good,
                "errors": bad["errors"],
                "claims_stored": bad_claims,
                "staged_lines": bad_staged,
                "peak_rss_mib": mib(bad["rss_peak_kib"]),
            },
        },
        ratios={
            "import_over_real_table_copy": ratio_real,
            "import_over_bare_copy": runner.ratio(import_timing.median, bare_timing.median),
            "bad_file_over_good_import": bad_over_good,
        },
        failures=failures,
        # Judged at full size; at the smoke size (``sizes.smoke``) reported only.
        targets=targets,
    )


if __name__ == "__main__":
    sys.exit(main())
