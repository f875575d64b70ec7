"""Benchmark of finance's invoice-line export (CSV) against PostgreSQL's own ``COPY``.

Run from the repository root::

    .venv/bin/python bench/invoice_export.py
    .venv/bin/python bench/invoice_export.py --lines 1000000 --xlsx-lines 100000 \\
        --database-url postgres://postgres@127.0.0.1:5432/hap_bench_export

The data set (``bench.datasets.invoice_lines``): a finance user, organisations with locations,
a million refused claims and as many invoice lines on monthly invoices, written with ``COPY``.
The script exports every line three ways, each written to ``/dev/null``:

1. ``COPY (SELECT … same columns, same joins …) TO STDOUT``: the floor;
2. the app's streamed CSV, as the download view ``billing:invoice_export_csv`` sends it
   (``core.spreadsheets.csv_bytes`` over ``rows_of`` of ``billing.selectors.export_lines``, with
   ``billing.exports.INVOICE_LINE_COLUMNS``): the figure that matters, as a ratio to 1;
3. the XLSX download's ``core.spreadsheets.xlsx_bytes`` (openpyxl's write-only workbook), on
   ``--xlsx-lines`` lines only, to show what the other format costs per line.

Each is timed ``--repeat`` times (the median is reported). Peak memory is the growth of the
process's maximum resident set size (``getrusage``) over the first run, and ``tracemalloc``'s
peak of Python allocations in a separate, untimed pass.

The database is dropped and built again when its data set differs from the one asked for (or
with ``--rebuild``): point ``--database-url`` at a database of its own. The script refuses one
holding users it did not create. The last line is ``RESULT {json}``.
"""

from __future__ import annotations

import io
import os
import resource
import sys
import tracemalloc
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench import datasets, runner  # noqa: E402

BENCHMARK = "invoice_export"
DATASET_VERSION = 2


def parse_args(argv=None):
    parser = runner.parser(__doc__, database="hap_bench_export", repeat=1)
    parser.add_argument("--lines", type=int, default=1_000_000, help="invoice lines")
    parser.add_argument(
        "--xlsx-lines", type=int, default=100_000, help="lines exported to XLSX (0: skip)"
    )
    args = parser.parse_args(argv)
    runner.check_at_least(parser, args, 1, "lines", "repeat")
    runner.check_at_least(parser, args, 0, "xlsx_lines")
    return args


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


def export_lines():
    from accounts.models import User
    from hap_contracting.billing.selectors import export_lines

    return export_lines(User.objects.get(username=f"{runner.user_prefix(BENCHMARK)}finance"))


def run_copy(sink: Sink) -> int:
    """The floor: the selector's own SELECT (same columns, joins and order) in COPY."""
    from django.db import connection

    from hap_contracting.billing.exports import INVOICE_LINE_COLUMNS

    queryset = export_lines().values_list(*(column.lookup for column in INVOICE_LINE_COLUMNS))
    sql, params = queryset.query.sql_with_params()
    rows = 0
    with connection.cursor() as cursor:
        copy_sql = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, DELIMITER ';', HEADER)"
        with cursor.cursor.copy(copy_sql, list(params)) as copy:
            for data in copy:
                sink.write(data)
                rows += bytes(data).count(b"\n")
    return rows - 1


def run_stream(sink: Sink) -> int:
    """What ``billing:invoice_export_csv`` streams."""
    from hap_contracting.billing.exports import INVOICE_LINE_COLUMNS as COLUMNS
    from hap_contracting.core.spreadsheets import csv_bytes, rows_of

    lines = 0
    for chunk in csv_bytes(COLUMNS, rows_of(export_lines(), COLUMNS)):
        sink.write(chunk)
        lines += chunk.count(b"\r\n")
    return lines - 1


def run_xlsx(sink: Sink, n: int) -> int:
    """What ``billing:invoice_export_xlsx`` sends, for the first ``n`` lines."""
    from hap_contracting.billing.exports import INVOICE_LINE_COLUMNS as COLUMNS
    from hap_contracting.core.spreadsheets import rows_of, xlsx_bytes

    count = 0

    def counted():
        nonlocal count
        for row in rows_of(export_lines()[:n], COLUMNS):
            count += 1
            yield row

    sink.write(xlsx_bytes(COLUMNS, counted(), title="Factuurregels"))
    return count


def measure(name: str, repeat: int, function, *args) -> dict:
    sinks, rows = [], []
    before = max_rss_mib()

    def run():
        sinks.append(Sink())
        rows.append(function(sinks[-1], *args))

    timing = runner.timed(run, repeat)
    rss_growth = max_rss_mib() - before
    tracemalloc.start()
    try:
        function(Sink(), *args)
        traced = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    return {
        "name": name,
        "rows": rows[0],
        "timing": timing,
        "mib_out": sinks[0].count / 2**20,
        "rss_growth_mib": rss_growth,
        "tracemalloc_peak_mib": traced,
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    runner.setup_django(args.database_url)
    runner.prepare_database(
        BENCHMARK,
        f"lines={args.lines} v{DATASET_VERSION}",
        lambda: datasets.invoice_lines(BENCHMARK, args.lines),
        rebuild=args.rebuild,
    )
    n_xlsx = min(args.xlsx_lines, args.lines)
    results = {
        "copy": measure("COPY (SELECT …) TO STDOUT", args.repeat, run_copy),
        "csv": measure("streamed CSV (spreadsheets.csv_bytes)", args.repeat, run_stream),
    }
    if n_xlsx:
        results["xlsx"] = measure("XLSX (spreadsheets.xlsx_bytes)", args.repeat, run_xlsx, n_xlsx)

    print()
    print(f"{runner.describe_environment()}; median of {args.repeat} run(s) each.")
    print()
    runner.print_table(
        ("export", "rows", "seconds", "MiB out", "RSS growth MiB", "tracemalloc peak MiB"),
        [
            (
                r["name"],
                f"{r['rows']:,}",
                f"{r['timing'].median:.2f}",
                f"{r['mib_out']:.1f}",
                f"{r['rss_growth_mib']:.1f}",
                f"{r['tracemalloc_peak_mib']:.1f}",
            )
            for r in results.values()
        ],
    )
    copy, stream = results["copy"], results["csv"]

    def per_line(r):
        return r["timing"].median / r["rows"]

    ratios = {"csv_over_copy": runner.ratio(stream["timing"].median, copy["timing"].median)}
    print()
    print(f"streamed CSV / COPY: {ratios['csv_over_copy']:.2f}×")
    print(f"streamed CSV: {1 / per_line(stream):,.0f} lines/s")
    if n_xlsx:
        xlsx = results["xlsx"]
        ratios["xlsx_over_csv_per_line"] = runner.ratio(per_line(xlsx), per_line(stream))
        print(
            f"XLSX: {1 / per_line(xlsx):,.0f} lines/s ({ratios['xlsx_over_csv_per_line']:.1f}× "
            f"the streamed CSV per line) for {xlsx['rows']:,} lines"
        )
    print(f"process max RSS: {max_rss_mib():.0f} MiB")
    failures = [
        f"{r['name']} wrote {r['rows']:,} lines, not {args.lines:,}"
        for key, r in results.items()
        if r["rows"] != (n_xlsx if key == "xlsx" else args.lines)
    ]
    return runner.finish(
        BENCHMARK,
        sizes={"lines": args.lines, "xlsx_lines": n_xlsx, "repeat": args.repeat},
        figures={
            key: {
                "rows": r["rows"],
                **r["timing"].as_dict("s"),
                "lines_per_s": round(1 / per_line(r)),
                "mib_out": round(r["mib_out"], 2),
                "rss_growth_mib": round(r["rss_growth_mib"], 1),
                "tracemalloc_peak_mib": round(r["tracemalloc_peak_mib"], 1),
            }
            for key, r in results.items()
        },
        ratios=ratios,
        failures=failures,
    )


if __name__ == "__main__":
    sys.exit(main())
