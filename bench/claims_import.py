"""Benchmark of the claims import: a million lines, against PostgreSQL ``COPY`` of the same file.

Run from the repository root::

    .venv/bin/python bench/claims_import.py
    .venv/bin/python bench/claims_import.py --lines 1000000 --repeat 2 \\
        --database-url postgres://postgres@127.0.0.1:5432/hap_bench_import

The script creates the database if needed, migrates it, loads the regions fixture (posts) and
makes a finance user and some care locations. It writes a CSV of ``--lines`` valid claim lines
(the import's template columns; known posts and the standard acts; care in the past; every
(post, act, time, patient reference) unique; one line in ten with a valid BSN) to a temporary
directory that also serves as MEDIA_ROOT, and then, in the same run:

(a) runs ``claim_import_run`` on a ClaimImport of that file, in a child process of its own, so
    its peak resident memory (``ru_maxrss``) is its own; the claims are deleted between repeats;
(b) copies the same file with PostgreSQL ``COPY … FROM STDIN`` into a bare table of text
    columns (streamed from this process, as the import streams its batches);
(c) imports the file once more with one bad line near the end, to show that nothing is stored.

It prints both times, their ratio, lines per second and the import's peak memory. The import
must end ``imported`` with every line as a claim, and the bad file ``rejected`` with no claim
and no staged line, or the script exits non-zero. ``--profile`` prints the import's hottest
functions (cProfile) after the figures.

The script empties the claim tables of its database: point ``--database-url`` at a database of
its own. It refuses a database holding users it did not create.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import hashlib
import json
import os
import random
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

from bench.procedure_pages import _postcode_letters  # noqa: E402
from bench.support import ensure_database, migrate, refuse_foreign_database  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/hap_bench_import"
USERNAME = "bench.finance"
ADDRESSES = 2000
MATCHED_LOCATIONS = 500
COPY_TABLE = "bench_claims_copy"
FILE_NAME = "claims.csv"
BAD_FILE_NAME = "claims-one-bad-line.csv"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="claim lines in the file")
    parser.add_argument("--repeat", type=int, default=1, help="timed imports (and COPYs)")
    parser.add_argument("--profile", action="store_true", help="cProfile the first import")
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help=f"PostgreSQL database of the benchmark (default {DEFAULT_DATABASE_URL})",
    )
    # Internal: the child process that runs one import.
    parser.add_argument("--child-import", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--media-root", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.lines < 10 or args.repeat < 1:
        parser.error("--lines must be at least 10 and --repeat at least 1")
    return args


def configure_django(database_url: str, media_root: str) -> None:
    """Environment first, then django.setup(): the settings read it once, at import."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["DJANGO_MEDIA_ROOT"] = media_root
    # claim_import_create would enqueue the task; the benchmark calls claim_import_run itself.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")

    import django

    django.setup()


# --- Reference data and the file -------------------------------------------------------------


def addresses(seed: int = 11) -> list[tuple[str, int, str]]:
    rng = random.Random(seed)
    letters = _postcode_letters()
    found: set[tuple[str, int, str]] = set()
    while len(found) < ADDRESSES:
        found.add(
            (
                f"{rng.randint(1000, 9999)} {rng.choice(letters)}",
                rng.randint(1, 300),
                rng.choice(("", "", "", "A", "B")),
            )
        )
    return sorted(found)


def prepare_reference_data() -> None:
    """Posts (fixture), the standard acts (a migration), a finance user and locations for a
    quarter of the file's addresses, so matching finds some and opens investigations for the
    rest."""
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from accounts.models import User
    from hap_contracting.core.roles import Role
    from hap_contracting.organisations.models import CareLocation, CareOrganisation, HapPost

    call_command("loaddata", "regions", verbosity=0)
    user, _ = User.objects.get_or_create(username=USERNAME, defaults={"region": None})
    user.groups.add(Group.objects.get_or_create(name=Role.FINANCE)[0])
    if CareLocation.objects.count() != MATCHED_LOCATIONS:
        CareLocation.objects.all().delete()
        organisation, _ = CareOrganisation.objects.get_or_create(
            kvk_number="20999999",
            defaults={
                "name": "Zorgorganisatie Benchmark",
                "agb_code": "73999999",
                "organisation_type": "wlz_institution",
                "contact_email": "info@zorg.invalid",
            },
        )
        post = HapPost.objects.order_by("pk").first()
        CareLocation.objects.bulk_create(
            CareLocation(
                organisation=organisation,
                name=f"Woonzorglocatie {i + 1:04d}",
                street="Hofstraat",
                house_number=number,
                house_number_addition=addition,
                postcode=postcode,
                city=post.city,
                region_id=post.region_id,
                hap_post=post,
                wlz_treatment_admission=True,
                treatment_delivered=True,
                highest_care_profile=7,
            )
            for i, (postcode, number, addition) in enumerate(addresses()[::4])
        )


def _valid_bsns(rng: random.Random, count: int) -> list[str]:
    from hap_contracting.services.claims_import import bsn_is_valid

    found = []
    while len(found) < count:
        digits = [rng.randint(0, 9) for _ in range(8)]
        check = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True)) % 11
        bsn = "".join(map(str, digits)) + str(check)
        if check < 10 and bsn_is_valid(bsn):
            found.append(bsn)
    return found


def write_claims_file(path: Path, lines: int, seed: int = 20260401) -> None:
    """Valid lines: known post names, standard acts, care in the past, unique references."""
    from hap_contracting.services.claims_import import COLUMNS

    from hap_contracting.organisations.models import HapPost
    from hap_contracting.tariffs.models import Act

    rng = random.Random(seed)
    posts = list(HapPost.objects.values_list("name", flat=True))
    acts = list(
        Act.objects.filter(code__in=("CONSULT", "VISITE", "TELEFOON")).values_list(
            "code", flat=True
        )
    )
    if len(acts) != 3 or not posts:
        sys.exit("The standard acts or the posts are missing (migrations, loaddata regions).")
    pool = addresses()
    bsns = _valid_bsns(rng, 1000)
    start = datetime.datetime(2024, 1, 1)
    minutes = 2 * 365 * 24 * 60
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow([column.header for column in COLUMNS])
        for i in range(lines):
            postcode, number, addition = rng.choice(pool)
            care_at = start + datetime.timedelta(minutes=rng.randrange(minutes))
            writer.writerow(
                [
                    care_at.strftime("%Y-%m-%d %H:%M"),
                    rng.choice(posts),
                    rng.choice(acts),
                    f"ZK-{i:07d}",
                    rng.choice(bsns) if i % 10 == 0 else "",
                    postcode,
                    number,
                    addition,
                    "WLZ-BEH",
                ]
            )


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


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- The import, in a process of its own ------------------------------------------------------


def new_claim_import(media_root: Path, path: Path) -> int:
    """A ClaimImport row for a file already in MEDIA_ROOT (claim_import_create would read and
    copy the upload; the benchmark times the import itself)."""
    from accounts.models import User
    from hap_contracting.billing.models import ClaimImport

    relative = path.relative_to(media_root)
    return ClaimImport.objects.create(
        file=str(relative),
        original_name=path.name,
        sha256=sha256_of(path),
        uploaded_by=User.objects.get(username=USERNAME),
    ).pk


def run_child_import(claim_import_id: int, profile: bool) -> None:
    """Runs in the child: one import, then its figures as JSON on the last line of stdout."""
    from hap_contracting.services.claims_import import claim_import_run

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
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "status": claim_import.status,
                "processed": claim_import.processed_lines,
                "imported": claim_import.imported_count,
                "errors": claim_import.error_count,
                "rss_before_kib": before,
                "rss_peak_kib": after,
            }
        )
    )


def import_in_child(args, media_root: Path, claim_import_id: int, profile: bool) -> dict:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--database-url",
        args.database_url,
        "--media-root",
        str(media_root),
        "--child-import",
        str(claim_import_id),
    ]
    if profile:
        command.append("--profile")
    stderr_file = media_root / f"profile-{claim_import_id}.txt"
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


def delete_claims() -> None:
    """Empty what an import writes (TRUNCATE: a million rows, no per-row protection to check)."""
    from django.db import connection
    from hap_contracting.models.billing import ClaimStagingLine

    from hap_contracting.billing.models import (
        AddressInvestigation,
        Claim,
        ClaimImport,
        ClaimImportError,
        InvoiceLine,
    )

    tables = [
        model._meta.db_table
        for model in (
            InvoiceLine,
            ClaimImportError,
            ClaimStagingLine,
            AddressInvestigation,
            Claim,
            ClaimImport,
        )
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)}")


def copy_baseline(path: Path) -> float:
    """COPY of the same file into a bare table of text columns, streamed from this process."""
    from django.db import connection
    from hap_contracting.services.claims_import import COLUMNS

    columns = ", ".join(f"{column.key} text" for column in COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {COPY_TABLE}")
        cursor.execute(f"CREATE TABLE {COPY_TABLE} ({columns})")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with (
            raw.copy(
                f"COPY {COPY_TABLE} FROM STDIN (FORMAT csv, HEADER true, DELIMITER ';')"
            ) as copy,
            path.open("rb") as handle,
        ):
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                copy.write(chunk)
        cursor.execute(f"SELECT count(*) FROM {COPY_TABLE}")
        copied = cursor.fetchone()[0]
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {COPY_TABLE}")
    return seconds, copied


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child_import:
        configure_django(args.database_url, args.media_root)
        run_child_import(args.child_import, args.profile)
        return 0

    media_root = Path(tempfile.mkdtemp(prefix="hap-bench-import-"))
    try:
        return run(args, media_root)
    finally:
        shutil.rmtree(media_root, ignore_errors=True)


def run(args, media_root: Path) -> int:
    configure_django(args.database_url, str(media_root))
    ensure_database()
    refuse_foreign_database({"username": USERNAME}, what="empty its claims")
    migrate()
    prepare_reference_data()
    delete_claims()

    from django.conf import settings
    from django.db import connection
    from hap_contracting.models.billing import ClaimStagingLine
    from hap_contracting.services import claims_import as claims_import_service

    from hap_contracting.billing.constants import ClaimImportStatus
    from hap_contracting.billing.models import Claim

    (media_root / "bench").mkdir()
    path = media_root / "bench" / FILE_NAME
    started = time.perf_counter()
    write_claims_file(path, args.lines)
    size_mib = path.stat().st_size / 2**20
    print(
        f"Wrote {args.lines:,} lines ({size_mib:.0f} MiB) in {time.perf_counter() - started:.0f} s."
    )

    ok = True
    imports, copies = [], []
    for round_ in range(args.repeat):
        delete_claims()
        connection.close()  # the child gets the database to itself
        # The import deletes its file when it finishes (patient data is not kept): each round
        # imports a copy, and the original stays for COPY and the bad-line file.
        upload = path.with_name(f"upload-{round_}-{path.name}")
        shutil.copyfile(path, upload)
        result = import_in_child(
            args, media_root, new_claim_import(media_root, upload), args.profile and round_ == 0
        )
        if upload.exists():
            print(f"FAIL: the imported file {upload.name} was kept")
            ok = False
        stored = Claim.objects.count()
        if result["status"] != ClaimImportStatus.IMPORTED or stored != args.lines:
            print(f"FAIL: import ended {result['status']} with {stored:,} claims: {result}")
            ok = False
        imports.append(result)
        copies.append(copy_baseline(path))
    delete_claims()

    bad_path = media_root / "bench" / BAD_FILE_NAME
    bad_line = args.lines - 5  # the file's line number (header = 1), near the end
    write_bad_copy(path, bad_path, bad_line)
    connection.close()
    bad = import_in_child(args, media_root, new_claim_import(media_root, bad_path), False)
    bad_claims, bad_staged = Claim.objects.count(), ClaimStagingLine.objects.count()
    if bad["status"] != ClaimImportStatus.REJECTED or bad_claims or bad_staged:
        print(f"FAIL: the bad file ended {bad['status']} with {bad_claims} claims stored: {bad}")
        ok = False
    delete_claims()

    db = settings.DATABASES["default"]
    print()
    print(
        f"PostgreSQL {connection.pg_version // 10000} ({db['NAME']}), {os.cpu_count()} CPUs; "
        f"file of {args.lines:,} lines, {size_mib:.0f} MiB (CSV, ';'); "
        f"claims_import.BATCH_SIZE {claims_import_service.BATCH_SIZE}."
    )
    print()
    headers = ("run", "import s", "COPY s", "ratio", "import lines/s", "peak RSS MiB (+growth)")
    rows = []
    for number, (result, (copy_seconds, copied)) in enumerate(zip(imports, copies, strict=True), 1):
        if copied != args.lines:
            print(f"FAIL: COPY stored {copied:,} rows")
            ok = False
        rows.append(
            (
                str(number),
                f"{result['seconds']:.1f}",
                f"{copy_seconds:.1f}",
                f"{result['seconds'] / copy_seconds:.1f}x",
                f"{result['processed'] / result['seconds']:,.0f}",
                f"{result['rss_peak_kib'] / 1024:.0f} "
                f"(+{(result['rss_peak_kib'] - result['rss_before_kib']) / 1024:.0f})",
            )
        )
    rows.append(
        (
            "bad line",
            f"{bad['seconds']:.1f}",
            "",
            "",
            f"{bad['processed'] / bad['seconds']:,.0f}",
            f"{bad['rss_peak_kib'] / 1024:.0f} "
            f"(+{(bad['rss_peak_kib'] - bad['rss_before_kib']) / 1024:.0f})",
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
    if args.profile and imports and "profile" in imports[0]:
        print()
        print(imports[0]["profile"])
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
