"""Benchmark of finance's invoice-line export (CSV) against PostgreSQL's own ``COPY``.

Run from the repository root::

    .venv/bin/python bench/invoice_export.py
    .venv/bin/python bench/invoice_export.py --lines 1000000 --resource-lines 100000 \\
        --database-url postgres://postgres@127.0.0.1:5432/hap_bench_export

The script creates the database if needed, migrates it and (re)builds the data set whenever its
size differs from the one asked for: one region and post, organisations with locations, a
million refused claims and as many invoice lines on monthly invoices, written with ``COPY``.
It then exports every line to CSV three ways, each written to ``/dev/null``:

1. ``COPY (SELECT … same columns, same joins …) TO STDOUT``: the floor;
2. the app's streamed CSV (``hap_contracting.exports.invoice_lines_csv`` over the selector the
   download view uses): the figure that matters, as a ratio to 1;
3. django-import-export's ``InvoiceLineResource`` to CSV, on ``--resource-lines`` lines only
   (it holds the whole data set in memory), to show why the CSV download streams instead.

Peak memory is the growth of the process's maximum resident set size (``getrusage``) over
each step, and ``tracemalloc``'s peak of Python allocations in a separate, untimed pass.

The database is emptied (``flush``) before a rebuild: point ``--database-url`` at a database of
its own. The script refuses to empty a database holding users it did not create.
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import resource
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.support import ensure_database, migrate, refuse_foreign_database  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/hap_bench_export"
USERNAME = "bench.finance"
ORGANISATIONS = 1000
LOCATIONS_PER_ORGANISATION = 2
MONTHS = 12
TARIFFS = {"CONSULT": Decimal("52.40"), "VISITE": Decimal("78.60"), "TELEFOON": Decimal("26.20")}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="invoice lines")
    parser.add_argument(
        "--resource-lines",
        type=int,
        default=100_000,
        help="lines exported through django-import-export (0: skip)",
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help=f"PostgreSQL database of the benchmark (default {DEFAULT_DATABASE_URL})",
    )
    args = parser.parse_args(argv)
    if args.lines < 1 or args.resource_lines < 0:
        parser.error("--lines must be at least 1 and --resource-lines at least 0")
    return args


def configure_django(database_url: str) -> None:
    """Environment first, then django.setup(): the settings read it once, at import."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")

    import django

    django.setup()


# --- Database --------------------------------------------------------------------------------


def dataset_is_current(n_lines: int) -> bool:
    from accounts.models import User
    from hap_contracting.billing.models import InvoiceLine

    return (
        User.objects.filter(username=USERNAME).exists() and InvoiceLine.objects.count() == n_lines
    )


# --- Data set --------------------------------------------------------------------------------


def _copy(cursor, table: str, columns: tuple[str, ...], rows) -> None:
    """COPY ``rows`` (tuples) into ``table`` through psycopg 3's own cursor."""
    raw = cursor.cursor
    with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _reset_sequence(cursor, model) -> None:
    table = model._meta.db_table
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
        f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
    )


def build_dataset(n_lines: int) -> None:
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import User
    from hap_contracting.billing.constants import InvoiceState
    from hap_contracting.billing.models import Claim, ClaimImport, Invoice, InvoiceLine
    from hap_contracting.core.roles import Role
    from hap_contracting.organisations.constants import OrganisationType
    from hap_contracting.organisations.models import CareLocation, CareOrganisation, HapPost, Region
    from hap_contracting.tariffs.models import Act

    started = time.perf_counter()
    call_command("flush", interactive=False, verbosity=0)
    # flush also empties what data migrations shipped: put the standard acts back.
    from importlib import import_module

    from django.apps import apps

    import_module("hap_contracting.migrations.0005_standard_acts").add_acts(apps, None)
    user = User.objects.create_user(USERNAME, password="bench", region=None)
    user.groups.add(Group.objects.get_or_create(name=Role.FINANCE)[0])
    region = Region.objects.create(name="Zwolle", slug="zwolle")
    post = HapPost.objects.create(region=region, name="HAP Zwolle", city="Zwolle")
    acts = list(Act.objects.order_by("code"))
    tariffs = [TARIFFS.get(act.code, Decimal("50.00")) for act in acts]
    letters = "ABCDEFGHJKLMNPRTVWXZ"
    organisations = CareOrganisation.objects.bulk_create(
        CareOrganisation(
            # every 50th name would be a formula in a spreadsheet: the export escapes it
            name=f"Zorggroep {n:04d}" if n % 50 else f"=Zorggroep {n:04d}",
            kvk_number=f"{20000000 + n}",
            organisation_type=OrganisationType.WLZ_INSTITUTION,
        )
        for n in range(ORGANISATIONS)
    )
    locations = CareLocation.objects.bulk_create(
        CareLocation(
            organisation=organisation,
            name=f"Woonzorglocatie {n}-{k}",
            street="Hofstraat",
            house_number=k + 1,
            postcode=f"{8000 + n % 200} {letters[n // 200 % 20]}{letters[n // 4000 % 20]}",
            city="Zwolle",
            region=region,
            hap_post=post,
            wlz_treatment_admission=True,
        )
        for n, organisation in enumerate(organisations)
        for k in range(LOCATIONS_PER_ORGANISATION)
    )
    claim_import = ClaimImport.objects.create(
        file="claim-imports/bench.csv",
        original_name="bench.csv",
        sha256="0" * 64,
        uploaded_by=user,
        status="imported",
        imported_count=n_lines,
        finished_at=timezone.now(),
    )
    newest = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    months = []
    for m in range(MONTHS):
        year, month = divmod(newest.year * 12 + newest.month - 1 - m, 12)
        months.append(datetime.date(year, month + 1, 1))
    n_invoices = MONTHS * ORGANISATIONS

    def line(i: int):
        """Line i: its invoice's index (months outer, organisations inner), location, act."""
        j = i % n_invoices
        location = locations[j % ORGANISATIONS * LOCATIONS_PER_ORGANISATION + i % 2]
        return (
            j,
            location,
            i % len(acts),
            months[j // ORGANISATIONS] + datetime.timedelta(days=i % 28),
        )

    # Totals first: a sent invoice can't be updated afterwards (its trigger refuses).
    totals = [Decimal("0.00")] * n_invoices
    for i in range(n_lines):
        j, _location, a, _care_on = line(i)
        totals[j] += tariffs[a] * 2
    invoices, sequence = [], 0
    for j in range(n_invoices):
        period = months[j // ORGANISATIONS]
        sent = period != months[0]  # the newest month is still in draft
        sequence += sent
        invoices.append(
            Invoice(
                organisation=organisations[j % ORGANISATIONS],
                period=period,
                state=InvoiceState.SENT if sent else InvoiceState.DRAFT,
                year=period.year if sent else None,
                sequence=sequence if sent else None,
                number=f"{period.year}-{sequence:05d}" if sent else "",
                lines_total=totals[j],
                total=totals[j],
                reason="bench",
            )
        )
    invoices = Invoice.objects.bulk_create(invoices, batch_size=2000)
    with transaction.atomic(), connection.cursor() as cursor:
        zone = timezone.get_current_timezone()
        claim_columns = (
            "id",
            "claim_import_id",
            "line_number",
            "care_at",
            "care_on",
            "post_id",
            "act_id",
            "patient_reference",
            "bsn_hash",
            "postcode",
            "house_number",
            "house_number_addition",
            "reason_code",
            "location_id",
        )
        line_columns = (
            "invoice_id",
            "claim_id",
            "location_id",
            "act_id",
            "care_on",
            "tariff",
            "amount",
            "is_credit",
            "billing_round",
        )

        def claims():
            for i in range(n_lines):
                _j, location, a, care_on = line(i)
                care_at = datetime.datetime.combine(care_on, datetime.time(23, 15), tzinfo=zone)
                yield (
                    i + 1,
                    claim_import.pk,
                    i + 2,
                    care_at,
                    care_on,
                    post.pk,
                    acts[a].pk,
                    f"ZK-{i:08d}",
                    "",
                    location.postcode,
                    location.house_number,
                    "",
                    "WLZ-BEH",
                    location.pk,
                )

        def lines():
            for i in range(n_lines):
                j, location, a, care_on = line(i)
                yield (
                    invoices[j].pk,
                    i + 1,
                    location.pk,
                    acts[a].pk,
                    care_on,
                    tariffs[a],
                    tariffs[a] * 2,
                    False,
                    0,
                )

        _copy(cursor, Claim._meta.db_table, claim_columns, claims())
        _reset_sequence(cursor, Claim)
        _copy(cursor, InvoiceLine._meta.db_table, line_columns, lines())
        cursor.execute("ANALYZE")
    print(f"Built {n_lines:,} invoice lines in {time.perf_counter() - started:.1f} s")


# --- Measuring -------------------------------------------------------------------------------


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


class Sink(io.RawIOBase):
    """/dev/null that counts bytes."""

    def __init__(self):
        self.count = 0
        self.devnull = open(os.devnull, "wb")  # noqa: SIM115

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.count += len(data)
        return self.devnull.write(data)


def export_queryset():
    from hap_contracting.selectors.billing import export_lines

    from accounts.models import User

    return export_lines(User.objects.get(username=USERNAME))


def copy_sql() -> tuple[str, list]:
    """The selector's own SELECT (same columns, same joins, same order) for COPY."""
    from hap_contracting import exports

    queryset = export_queryset().values_list(*(column.attribute for column in exports.COLUMNS))
    sql, params = queryset.query.sql_with_params()
    return sql, list(params)


def run_copy(sink: Sink) -> int:
    from django.db import connection

    sql, params = copy_sql()
    rows = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(
            f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, DELIMITER ';', HEADER)", params
        ) as copy:
            for data in copy:
                sink.write(data)
                rows += bytes(data).count(b"\n")
    return rows - 1


def run_stream(sink: Sink) -> int:
    from hap_contracting import exports

    lines = 0
    for chunk in exports.invoice_lines_csv(export_queryset()):
        sink.write(chunk)
        lines += chunk.count(b"\r\n")
    return lines - 1


def run_resource(sink: Sink, n: int) -> int:
    from hap_contracting.exports import InvoiceLineResource
    from import_export.formats.base_formats import CSV

    dataset = InvoiceLineResource().export(export_queryset()[:n])
    sink.write(CSV().export_data(dataset).encode("utf-8"))
    return len(dataset)


def timed(name: str, function, *args) -> dict:
    sink = Sink()
    before = max_rss_mib()
    started = time.perf_counter()
    rows = function(sink, *args)
    seconds = time.perf_counter() - started
    return {
        "name": name,
        "rows": rows,
        "seconds": seconds,
        "mib": sink.count / 2**20,
        "rss_growth": max_rss_mib() - before,
    }


def traced_peak(function, *args) -> float:
    tracemalloc.start()
    try:
        function(Sink(), *args)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def run_benchmark(n_resource: int) -> None:
    from django.db import connection

    print(
        f"PostgreSQL {connection.cursor().connection.info.server_version}, Python {sys.version.split()[0]}"
    )
    results = [timed("COPY (SELECT …) TO STDOUT", run_copy)]
    results.append(timed("streamed CSV (exports.invoice_lines_csv)", run_stream))
    stream_peak = traced_peak(run_stream)
    if n_resource:
        results.append(timed("import-export Resource → CSV", run_resource, n_resource))
        resource_peak = traced_peak(run_resource, n_resource)
    print()
    print(f"{'export':<44} {'rows':>10} {'seconds':>9} {'MiB out':>8} {'RSS growth MiB':>15}")
    for r in results:
        print(
            f"{r['name']:<44} {r['rows']:>10,} {r['seconds']:>9.2f} {r['mib']:>8.1f} "
            f"{r['rss_growth']:>15.1f}"
        )
    copy, stream = results[0], results[1]
    print()
    print(f"streamed CSV / COPY: {stream['seconds'] / copy['seconds']:.2f}×")
    print(
        f"streamed CSV: {stream['rows'] / stream['seconds']:,.0f} lines/s; "
        f"tracemalloc peak {stream_peak:.1f} MiB"
    )
    if n_resource:
        res = results[2]
        per_line = res["seconds"] / res["rows"]
        print(
            f"import-export Resource: {res['rows'] / res['seconds']:,.0f} lines/s "
            f"({per_line / (stream['seconds'] / stream['rows']):.1f}× the streamed CSV per line); "
            f"tracemalloc peak {resource_peak:.1f} MiB for {res['rows']:,} lines "
            f"(≈ {resource_peak * stream['rows'] / res['rows'] / 1024:.1f} GiB at {stream['rows']:,})"
        )
    print(f"process max RSS: {max_rss_mib():.0f} MiB")


def main(argv=None) -> int:
    args = parse_args(argv)
    configure_django(args.database_url)
    ensure_database()
    refuse_foreign_database({"username": USERNAME})
    migrate()
    if not dataset_is_current(args.lines):
        build_dataset(args.lines)
    run_benchmark(min(args.resource_lines, args.lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
