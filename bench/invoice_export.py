"""Benchmark of finance's invoice-line export (the CSV download) against PostgreSQL's own ``COPY``.

Run from the repository root::

    .venv/bin/python bench/invoice_export.py             # 1,000,000 lines
    .venv/bin/python bench/invoice_export.py --smoke     # 20,000 lines: the checks, quickly
    .venv/bin/python bench/invoice_export.py --lines 200000 --xlsx-lines 0 \\
        --database-url postgres://postgres@127.0.0.1:5432/hap_bench_export

The data set (``bench.datasets.invoice_lines``): a finance user, organisations (1,000; 100 in
smoke) with two locations each, ``--lines`` refused claims and as many invoice lines on the
monthly invoices of the last twelve months (the newest month in draft), written with ``COPY``.

The export is measured at two sizes in the same run: the lines of one month (the list page's
month filter: about a twelfth of them) and all lines. At each size, written to ``/dev/null``,
the two alternate ``--repeat`` times (the median is reported):

1. the floor: ``COPY (SELECT …) TO STDOUT (FORMAT csv, DELIMITER ';')`` of the export's raw
   columns, nothing formatted: the selector's own SELECT (``billing.selectors.export_lines`` with
   the same filters, so the same scope, joins and order) as ``values_list`` of the columns'
   lookups, its parameters bound by psycopg; dates and amounts as PostgreSQL writes them, choice
   values instead of labels, no formula escaping, no header, ``\\n`` line ends. psycopg's
   ``cursor.copy``, each row written to ``/dev/null`` (the file's own ``write``) as it arrives;
2. the download: ``core.spreadsheets.csv_stream`` of ``export_lines`` with
   ``billing.exports.INVOICE_LINE_COLUMNS``, which is what the view ``billing:invoice_export_csv``
   streams after writing the access log (on PostgreSQL one ``COPY`` whose SELECT formats every
   column, its rows joined into chunks of CRLF lines): the figure that matters, as a ratio to 1.

Also at each size, once:

- the download's queries (one ``COPY``; the same number at both sizes), and its memory: the
  growth of the process's maximum resident set size (``getrusage``) over its timed runs, and
  ``tracemalloc``'s peak of Python allocations in a separate, untimed pass that also takes the
  SHA-256 of the bytes;
- the Python writer (``csv_bytes`` over ``rows_of``: the download before, and still on SQLite),
  timed: its bytes must be the download's, byte for byte;
- the whole view (``RequestFactory``, the user set, in a transaction rolled back), timed: the
  access log entry with a row for every patient (a million rows for a million lines), then the
  download. It writes, so it is reported beside the ratio, not in it.

And the XLSX download's ``core.spreadsheets.xlsx_bytes`` (openpyxl's write-only workbook) on
``--xlsx-lines`` lines, to show what the other format costs per line.

Targets, on all lines (``targets`` in the RESULT; reported, never a reason to fail):
``ratio_le_1_5``, the download at most 1.5 × the floor; ``memory_flat``, the download's
``tracemalloc`` peak on all lines at most 1.25 × (plus 1 MiB) its peak on one month, and the
maximum RSS grown by less than 8 MiB on all lines.

The run fails (exit code 1) when the workload breaks: a line count is not the selector's, the
download's bytes are not the Python writer's, or the download's query count differs between
the two sizes. ``--smoke`` takes 20,000 lines of 100 organisations, 2,000 XLSX lines and one
repeat, in a database of its own (``hap_bench_export_smoke`` unless ``--database-url`` names
one); its ratios are noise and only reported.

The database is dropped and built again when its data set differs from the one asked for (or
with ``--rebuild``): point ``--database-url`` at a database of its own. The script refuses one
holding users it did not create. The last line is ``RESULT {json}``.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench import datasets, runner  # noqa: E402

BENCHMARK = "invoice_export"
DATASET_VERSION = 2
DATABASE = "hap_bench_export"
SMOKE = {"lines": 20_000, "organisations": 100, "xlsx_lines": 2_000, "repeat": 1}
RATIO_TARGET = 1.5
# Memory is flat when all lines take no more than this over one month's lines.
PEAK_FACTOR, PEAK_SLACK_MIB, RSS_GROWTH_MIB = 1.25, 1.0, 8.0


def parse_args(argv=None):
    parser = runner.parser(__doc__, database=DATABASE, repeat=3)
    parser.set_defaults(database_url=None)
    parser.add_argument("--lines", type=int, default=1_000_000, help="invoice lines")
    parser.add_argument(
        "--organisations",
        type=int,
        default=datasets.EXPORT_ORGANISATIONS,
        help="care organisations the lines are billed to",
    )
    parser.add_argument(
        "--xlsx-lines", type=int, default=100_000, help="lines exported to XLSX (0: skip)"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help=f"small sizes ({SMOKE['lines']:,} lines), its own database; fail on broken work",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        for name, value in SMOKE.items():
            setattr(args, name, value)
    if args.database_url is None:
        args.database_url = f"{runner.SERVER}/{DATABASE}{'_smoke' if args.smoke else ''}"
    runner.check_at_least(parser, args, 1, "lines", "organisations", "repeat")
    runner.check_at_least(parser, args, 0, "xlsx_lines")
    return args


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


class Sink(io.RawIOBase):
    """/dev/null that counts bytes, and hashes them when asked to."""

    def __init__(self, *, digest: bool = False):
        self.count = 0
        self.devnull = open(os.devnull, "wb")  # noqa: SIM115
        self.sha256 = hashlib.sha256() if digest else None

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.count += len(data)
        if self.sha256 is not None:
            self.sha256.update(data)
        return self.devnull.write(data)


@functools.cache
def finance_user():
    """Loaded once, as the login loads it once per request."""
    from accounts.models import User

    return User.objects.get(username=f"{runner.user_prefix(BENCHMARK)}finance")


def export_lines(filters):
    from hap_contracting.billing.selectors import export_lines

    return export_lines(finance_user(), filters)


def run_copy(sink: Sink, filters) -> int:
    """The floor: the selector's SELECT of the raw columns in COPY, rows written as they come."""
    from django.db import connection

    from hap_contracting.billing.exports import INVOICE_LINE_COLUMNS

    raw = export_lines(filters).values_list(*(column.lookup for column in INVOICE_LINE_COLUMNS))
    sql, params = raw.query.sql_with_params()
    statement = (
        f"COPY ({connection.ops.compose_sql(sql, params)}) TO STDOUT (FORMAT csv, DELIMITER ';')"
    )
    rows = size = 0
    write = sink.devnull.write  # the file's own write, nothing around it
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in copy:
            write(row)
            rows += 1
            size += len(row)
    sink.count = size
    return rows


def run_download(sink: Sink, filters) -> int:
    """What ``billing:invoice_export_csv`` streams; the lines written, header not counted (the
    data set's values hold no line breaks of their own)."""
    from hap_contracting.billing.exports import INVOICE_LINE_COLUMNS
    from hap_contracting.core.spreadsheets import csv_stream

    lines = 0
    for chunk in csv_stream(export_lines(filters), INVOICE_LINE_COLUMNS):
        sink.write(chunk)
        lines += chunk.count(b"\r\n")
    return lines - 1


def run_python(sink: Sink, filters) -> int:
    """The Python writer: ``csv_bytes`` over ``rows_of`` (a server-side cursor)."""
    from hap_contracting.billing.exports import INVOICE_LINE_COLUMNS as COLUMNS
    from hap_contracting.core.spreadsheets import csv_bytes, rows_of

    lines = 0
    for chunk in csv_bytes(COLUMNS, rows_of(export_lines(filters), COLUMNS)):
        sink.write(chunk)
        lines += chunk.count(b"\r\n")
    return lines - 1


def run_view(sink: Sink, filters) -> int:
    """The view as a request reaches it, the user logged in; what it writes is rolled back."""
    from django.test import RequestFactory

    from hap_contracting.billing.views.invoices import invoice_export_csv

    query = {"month": f"{filters.month:%Y-%m}"} if filters.month else {}
    request = RequestFactory().get("/facturatie/facturen/export.csv", query)
    request.user = finance_user()
    lines = 0
    with runner.rolled_back():
        response = invoice_export_csv(request)
        try:
            for chunk in response.streaming_content:
                sink.write(chunk)
                lines += chunk.count(b"\r\n")
        finally:
            response.close()
    return lines - 1


def run_xlsx(sink: Sink, filters, n: int) -> int:
    """What ``billing:invoice_export_xlsx`` sends, for the first ``n`` lines."""
    from hap_contracting.billing.exports import INVOICE_LINE_COLUMNS as COLUMNS
    from hap_contracting.core.spreadsheets import rows_of, xlsx_bytes

    count = 0

    def counted():
        nonlocal count
        for row in rows_of(export_lines(filters)[:n], COLUMNS):
            count += 1
            yield row

    sink.write(xlsx_bytes(COLUMNS, counted(), title="Factuurregels"))
    return count


def timed_once(function, *args) -> dict:
    sink = Sink(digest=True)
    started = time.perf_counter()
    rows = function(sink, *args)
    return {
        "rows": rows,
        "seconds": time.perf_counter() - started,
        "mib_out": sink.count / 2**20,
        "sha256": sink.sha256.hexdigest(),
    }


def measure_size(label: str, filters, repeat: int) -> dict:
    """The floor and the download alternately, then the download's queries and memory, the
    Python writer and the whole view."""
    expected = export_lines(filters).count()
    print(f"{label}: {expected:,} lines …", flush=True)
    runs = {"copy": [], "csv": []}
    rows = {"copy": set(), "csv": set()}
    out = {}
    rss_growth = 0.0
    for _ in range(repeat):
        for key, function in (("copy", run_copy), ("csv", run_download)):
            sink = Sink()
            before = max_rss_mib()
            started = time.perf_counter()
            rows[key].add(function(sink, filters))
            runs[key].append(time.perf_counter() - started)
            out[key] = sink.count / 2**20
            if key == "csv":
                rss_growth += max_rss_mib() - before
    _result, queries = runner.count_queries(lambda: run_download(Sink(), filters))
    tracemalloc.start()
    try:
        traced_sink = Sink(digest=True)
        run_download(traced_sink, filters)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    python = timed_once(run_python, filters)
    view = timed_once(run_view, filters)
    return {
        "label": label,
        "expected": expected,
        "copy": runner.Timing(runs["copy"]),
        "csv": runner.Timing(runs["csv"]),
        "rows": rows,
        "mib_out": out,
        "rss_growth_mib": rss_growth,
        "tracemalloc_peak_mib": peak,
        "queries": queries,
        "sha256": traced_sink.sha256.hexdigest(),
        "python": python,
        "view": view,
    }


def checks(size: dict) -> tuple[list[str], list[str]]:
    """(passed, failures) of one size: line counts and bytes."""
    label, expected = size["label"], size["expected"]
    passed, failures = [], []
    counts = {
        "COPY floor": size["rows"]["copy"],
        "download": size["rows"]["csv"],
        "Python writer": {size["python"]["rows"]},
        "view": {size["view"]["rows"]},
    }
    for name, found in counts.items():
        if found == {expected}:
            passed.append(f"{label}: {name} wrote {expected:,} lines")
        else:
            failures.append(f"{label}: {name} wrote {sorted(found)} lines, not {expected:,}")
    if size["sha256"] == size["python"]["sha256"] == size["view"]["sha256"]:
        passed.append(f"{label}: download, Python writer and view byte for byte the same")
    else:
        failures.append(f"{label}: the download's bytes differ from the Python writer's or view's")
    copies = [sql for sql in size["queries"] if sql.lstrip().upper().startswith("COPY")]
    if len(copies) != 1:
        failures.append(f"{label}: the download ran {len(copies)} COPY statements, not 1")
    return passed, failures


def main(argv=None) -> int:
    args = parse_args(argv)
    runner.setup_django(args.database_url)
    description = f"lines={args.lines} v{DATASET_VERSION}"
    if args.organisations != datasets.EXPORT_ORGANISATIONS:
        description += f" organisations={args.organisations}"
    runner.prepare_database(
        BENCHMARK,
        description,
        lambda: datasets.invoice_lines(BENCHMARK, args.lines, args.organisations),
        rebuild=args.rebuild,
    )
    from django.utils import translation

    from hap_contracting.billing.models import Invoice
    from hap_contracting.billing.selectors import InvoiceFilters

    translation.activate("nl")
    # A month of sent invoices (the newest is in draft).
    months = sorted(set(Invoice.objects.values_list("period", flat=True)), reverse=True)
    one_month = InvoiceFilters(month=months[1] if len(months) > 1 else months[0])
    sizes = {
        "month": measure_size(f"one month ({one_month.month:%Y-%m})", one_month, args.repeat),
        "all": measure_size("all months", InvoiceFilters(), args.repeat),
    }
    n_xlsx = min(args.xlsx_lines, args.lines)
    xlsx = timed_once(run_xlsx, InvoiceFilters(), n_xlsx) if n_xlsx else None

    print()
    print(f"{runner.describe_environment()}; median of {args.repeat} run(s) each.")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print()
    table = []
    for size in sizes.values():
        lines = size["expected"]
        table += [
            (f"{size['label']}: COPY floor", lines, size["copy"].median, size["mib_out"]["copy"]),
            (f"{size['label']}: download", lines, size["csv"].median, size["mib_out"]["csv"]),
            (
                f"{size['label']}: Python writer",
                lines,
                size["python"]["seconds"],
                size["python"]["mib_out"],
            ),
            (f"{size['label']}: whole view", lines, size["view"]["seconds"], None),
        ]
    if xlsx:
        table.append(("XLSX (first lines)", xlsx["rows"], xlsx["seconds"], xlsx["mib_out"]))
    runner.print_table(
        ("export", "lines", "seconds", "MiB out"),
        [
            (name, f"{lines:,}", f"{seconds:.2f}", "" if mib is None else f"{mib:.1f}")
            for name, lines, seconds, mib in table
        ],
    )
    print()
    ratios = {}
    for key, size in sizes.items():
        suffix = "" if key == "all" else f"_{key}"
        floor = size["copy"].median
        ratios[f"csv_over_copy{suffix}"] = runner.ratio(size["csv"].median, floor)
        ratios[f"python_csv_over_copy{suffix}"] = runner.ratio(size["python"]["seconds"], floor)
        ratios[f"view_over_copy{suffix}"] = runner.ratio(size["view"]["seconds"], floor)
        print(
            f"{size['label']}: download / COPY {ratios[f'csv_over_copy{suffix}']:.2f}×, "
            f"Python writer / COPY {ratios[f'python_csv_over_copy{suffix}']:.2f}×, "
            f"whole view / COPY {ratios[f'view_over_copy{suffix}']:.2f}×; download "
            f"{size['expected'] / size['csv'].median:,.0f} lines/s, RSS growth "
            f"{size['rss_growth_mib']:.1f} MiB, tracemalloc peak "
            f"{size['tracemalloc_peak_mib']:.2f} MiB, {len(size['queries'])} queries"
        )
    if xlsx:
        all_lines = sizes["all"]
        per_line_csv = all_lines["csv"].median / all_lines["expected"]
        ratios["xlsx_over_csv_per_line"] = runner.ratio(
            xlsx["seconds"] / xlsx["rows"], per_line_csv
        )
        print(
            f"XLSX: {xlsx['rows'] / xlsx['seconds']:,.0f} lines/s "
            f"({ratios['xlsx_over_csv_per_line']:.1f}× the download per line)"
        )
    print(f"process max RSS: {max_rss_mib():.0f} MiB")

    passed, failures = [], []
    for size in sizes.values():
        size_passed, size_failures = checks(size)
        passed += size_passed
        failures += size_failures
    month_queries, all_queries = len(sizes["month"]["queries"]), len(sizes["all"]["queries"])
    if month_queries == all_queries:
        passed.append(f"the download runs {all_queries} queries at both sizes")
    else:
        failures.append(
            f"the download runs {month_queries} queries on a month, {all_queries} on all"
        )
    if xlsx and xlsx["rows"] != n_xlsx:
        failures.append(f"XLSX wrote {xlsx['rows']:,} lines, not {n_xlsx:,}")
    month, everything = sizes["month"], sizes["all"]
    targets = {
        "ratio_le_1_5": ratios["csv_over_copy"] <= RATIO_TARGET,
        "memory_flat": everything["tracemalloc_peak_mib"]
        <= PEAK_FACTOR * month["tracemalloc_peak_mib"] + PEAK_SLACK_MIB
        and everything["rss_growth_mib"] < RSS_GROWTH_MIB,
    }

    def figures_of(size: dict) -> dict:
        return {
            "lines": size["expected"],
            "copy": {**size["copy"].as_dict("s"), "mib_out": round(size["mib_out"]["copy"], 2)},
            "csv": {
                **size["csv"].as_dict("s"),
                "mib_out": round(size["mib_out"]["csv"], 2),
                "lines_per_s": round(size["expected"] / size["csv"].median),
                "rss_growth_mib": round(size["rss_growth_mib"], 1),
                "tracemalloc_peak_mib": round(size["tracemalloc_peak_mib"], 2),
                "queries": len(size["queries"]),
            },
            "python_csv_s": round(size["python"]["seconds"], 3),
            "view_s": round(size["view"]["seconds"], 3),
        }

    figures = {key: figures_of(size) for key, size in sizes.items()}
    if xlsx:
        figures["xlsx"] = {
            "rows": xlsx["rows"],
            "seconds": round(xlsx["seconds"], 3),
            "mib_out": round(xlsx["mib_out"], 2),
        }
    figures["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return runner.finish(
        BENCHMARK,
        sizes={
            "lines": args.lines,
            "organisations": args.organisations,
            "month_lines": month["expected"],
            "xlsx_lines": n_xlsx,
            "repeat": args.repeat,
            "smoke": args.smoke,
        },
        figures=figures,
        ratios=ratios,
        failures=failures,
        passed=passed,
        targets=targets,
    )


if __name__ == "__main__":
    sys.exit(main())
