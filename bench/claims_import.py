"""Benchmark of the claims import: a million lines, against PostgreSQL ``COPY`` of the same file.

Run from the repository root::

    .venv/bin/python bench/claims_import.py
    .venv/bin/python bench/claims_import.py --lines 1000000 --repeat 2 \\
        --database-url postgres://postgres@127.0.0.1:5432/hap_bench_import

The data set (``bench.datasets.claims_reference``): the posts (fixture), the standard acts (a
migration), a finance user and care locations at a quarter of the file's addresses, so matching
finds some and opens investigations for the rest. The script writes a CSV of ``--lines`` valid
claim lines (``datasets.write_claims_file``: the import's template columns,
``billing.services.claims_import.COLUMNS``) to a temporary directory that also serves as
MEDIA_ROOT, and then:

(a) runs ``billing.services.claims_import.claim_import_run`` on a ClaimImport of that file, in a
    child process of its own, so its peak resident memory (``ru_maxrss``) is its own; the claims
    are emptied between the ``--repeat`` rounds;
(b) copies the same file with PostgreSQL ``COPY … FROM STDIN`` into a bare table of text
    columns (streamed from this process, as the import streams its batches): the floor;
(c) imports the file once more with one bad line near the end, to show that nothing is stored.

It prints both times, their ratio, lines per second and the import's peak memory. The import
must end ``imported`` with every line as a claim, and the bad file ``rejected`` with no claim
and no staged line, or the script exits non-zero. ``--profile`` prints the import's hottest
functions (cProfile) after the figures. The last line is ``RESULT {json}``.

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


def parse_args(argv=None):
    parser = runner.parser(__doc__, database="hap_bench_import", repeat=1)
    parser.add_argument("--lines", type=int, default=1_000_000, help="claim lines in the file")
    parser.add_argument("--profile", action="store_true", help="cProfile the first import")
    # Internal: the child process that runs one import.
    parser.add_argument("--child-import", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--media-root", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    runner.check_at_least(parser, args, 10, "lines")
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


def run_child_import(claim_import_id: int, profile: bool) -> None:
    """Runs in the child: one import, then its figures as JSON on the last line of stdout."""
    from hap_contracting.billing.services.claims_import import claim_import_run

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
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
        "rss_before_kib": before,
        "rss_peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    print(json.dumps(figures))


def import_in_child(args, media_root: Path, path: Path, profile: bool) -> dict:
    from django.db import connection

    claim_import_id = new_claim_import(media_root, path)
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
    if profile:
        result["profile"] = stderr_file.read_text()
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


def copy_baseline(path: Path) -> tuple[float, int]:
    """COPY of the same file into a bare table of text columns, streamed from this process."""
    from django.db import connection

    from hap_contracting.billing.services.claims_import import COLUMNS

    columns = ", ".join(f"{column.key} text" for column in COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {COPY_TABLE}")
        cursor.execute(f"CREATE TABLE {COPY_TABLE} ({columns})")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        sql = f"COPY {COPY_TABLE} FROM STDIN (FORMAT csv, HEADER true, DELIMITER ';')"
        with cursor.cursor.copy(sql) as copy, path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                copy.write(chunk)
        cursor.execute(f"SELECT count(*) FROM {COPY_TABLE}")
        copied = cursor.fetchone()[0]
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {COPY_TABLE}")
    return seconds, copied


def write_bad_copy(source: Path, target: Path, bad_line: int) -> None:
    """The same file with the postcode of line ``bad_line`` (1 = header) made invalid."""
    with (
        source.open(encoding="utf-8", newline="") as inp,
        target.open("w", encoding="utf-8", newline="") as out,
    ):
        for number, line in enumerate(inp, start=1):
            if number == bad_line:
                cells = line.split(";")
                cells[5] = "1234 XYZ"
                line = ";".join(cells)
            out.write(line)


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
    from hap_contracting.billing.services import claims_import

    (media_root / "bench").mkdir()
    path = media_root / "bench" / "claims.csv"
    started = time.perf_counter()
    datasets.write_claims_file(path, args.lines, addresses)
    size_mib = path.stat().st_size / 2**20
    print(
        f"Wrote {args.lines:,} lines ({size_mib:.1f} MiB) in {time.perf_counter() - started:.1f} s."
    )

    failures = []
    imports, copies = [], []
    for round_ in range(args.repeat):
        empty_claims()
        # The import deletes its file when it finishes (patient data is not kept): each round
        # imports a copy, and the original stays for COPY and the bad-line file.
        upload = path.with_name(f"upload-{round_}-{path.name}")
        shutil.copyfile(path, upload)
        result = import_in_child(args, media_root, upload, args.profile and round_ == 0)
        if upload.exists():
            failures.append(f"the imported file {upload.name} was kept")
        stored = Claim.objects.count()
        if result["status"] != ClaimImportStatus.IMPORTED or stored != args.lines:
            failures.append(f"import ended {result['status']} with {stored:,} claims: {result}")
        imports.append(result)
        copies.append(copy_baseline(path))
    empty_claims()
    failures += [f"COPY stored {copied:,} rows" for _s, copied in copies if copied != args.lines]

    bad_path = media_root / "bench" / "claims-one-bad-line.csv"
    bad_line = args.lines - 5  # the file's line number (header = 1), near the end
    write_bad_copy(path, bad_path, bad_line)
    bad = import_in_child(args, media_root, bad_path, False)
    bad_claims, bad_staged = Claim.objects.count(), ClaimStagingLine.objects.count()
    if bad["status"] != ClaimImportStatus.REJECTED or bad_claims or bad_staged:
        failures.append(f"the bad file ended {bad['status']} with {bad_claims} claims: {bad}")
    empty_claims()

    def rss(result):
        return (
            f"{result['rss_peak_kib'] / 1024:.0f} "
            f"(+{(result['rss_peak_kib'] - result['rss_before_kib']) / 1024:.0f})"
        )

    print()
    print(
        f"{runner.describe_environment()}; file of {args.lines:,} lines, {size_mib:.1f} MiB "
        f"(CSV, ';'); claims_import.BATCH_SIZE {claims_import.BATCH_SIZE}."
    )
    print()
    rows = [
        (
            str(number),
            f"{result['seconds']:.1f}",
            f"{copy_seconds:.2f}",
            f"{result['seconds'] / copy_seconds:.1f}x",
            f"{result['processed'] / result['seconds']:,.0f}",
            rss(result),
        )
        for number, (result, (copy_seconds, _copied)) in enumerate(
            zip(imports, copies, strict=True), 1
        )
    ]
    rows.append(
        ("bad line", f"{bad['seconds']:.1f}", "", "", f"{bad['processed'] / bad['seconds']:,.0f}")
        + (rss(bad),)
    )
    runner.print_table(
        ("run", "import s", "COPY s", "ratio", "import lines/s", "peak RSS MiB (+growth)"), rows
    )
    print()
    print(
        f"Imports: {', '.join(r['status'] + ' ' + format(r['imported'], ',') for r in imports)} "
        f"claims. Bad file (line {bad_line:,} has an invalid postcode): {bad['status']}, "
        f"{bad['errors']} error, {bad_claims} claims and {bad_staged} staged lines stored."
    )
    print(
        "Peak RSS is the import process's own (ru_maxrss of a child that only runs the import); "
        "growth is over its RSS after Django started."
    )
    if args.profile and "profile" in imports[0]:
        print()
        print(imports[0]["profile"])
    import_timing = runner.Timing([r["seconds"] for r in imports])
    copy_timing = runner.Timing([seconds for seconds, _copied in copies])
    return runner.finish(
        BENCHMARK,
        sizes={"lines": args.lines, "repeat": args.repeat, "file_mib": round(size_mib, 2)},
        figures={
            "import": import_timing.as_dict("s"),
            "copy": copy_timing.as_dict("s"),
            "import_lines_per_s": round(args.lines / import_timing.median),
            "import_peak_rss_mib": round(max(r["rss_peak_kib"] for r in imports) / 1024, 1),
            "import_rss_growth_mib": round(
                max(r["rss_peak_kib"] - r["rss_before_kib"] for r in imports) / 1024, 1
            ),
            "bad_file": {
                "status": bad["status"],
                "seconds": round(bad["seconds"], 3),
                "errors": bad["errors"],
                "claims_stored": bad_claims,
                "staged_lines": bad_staged,
            },
        },
        ratios={"import_over_copy": runner.ratio(import_timing.median, copy_timing.median)},
        failures=failures,
    )


if __name__ == "__main__":
    sys.exit(main())
