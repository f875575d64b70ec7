"""Exports that a Dutch spreadsheet opens: one column table per export, written as CSV (streamed,
constant memory) or as XLSX (openpyxl's write-only workbook).

CSV conventions for Dutch spreadsheets: ``;`` between fields, a decimal comma, ISO dates, UTF-8
with a byte order mark; the work lists' exports (``core.listing``) write dates the Dutch way
(``31-12-2026``, ``dutch_dates=True``) for office users, while the exports other systems read
(the triage list, finance's invoice lines) keep ISO dates. In XLSX, amounts and dates stay numbers
and dates.

Spreadsheet formula injection: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return gets a leading apostrophe (OWASP, "CSV injection"), so a spreadsheet shows it
as text. Numbers and dates are never escaped (a credit note's negative amount stays a number).
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice

from django.utils import timezone

from .money import money

FORMULA_FIRST_CHARACTERS = frozenset("=+-@\t\r")
CSV_DELIMITER = ";"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BYTE_ORDER_MARK = "\ufeff"

TEXT, LABEL, MONEY, DATE, DAY_OF, MONTH, NUMBER = (
    "text",
    "label",
    "money",
    "date",
    "day_of",
    "month",
    "number",
)


def escape_formula(value):
    """Text that a spreadsheet would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in FORMULA_FIRST_CHARACTERS:
        return "'" + value
    return value


@dataclass(frozen=True)
class Column:
    """One column of an export: the lookup its values come from (``values_list``), its header,
    and how a value is written. ``LABEL`` columns show ``labels[value]`` (a choice's label);
    ``DAY_OF`` writes a moment as its Amsterdam date."""

    lookup: str
    header: str
    kind: str = TEXT
    labels: Mapping = field(default_factory=dict)


def headers(columns: Iterable[Column]) -> list[str]:
    return [str(column.header) for column in columns]


def _local_day(moment: datetime.datetime | None) -> datetime.date | None:
    return None if moment is None else timezone.localdate(moment)


DUTCH_DATE = "%d-%m-%Y"


def _csv_writer_of(column: Column, *, dutch_dates: bool = False) -> Callable:
    if dutch_dates and column.kind == DATE:
        return lambda value: "" if value is None else value.strftime(DUTCH_DATE)
    if dutch_dates and column.kind == DAY_OF:
        return lambda value: "" if value is None else _local_day(value).strftime(DUTCH_DATE)
    if column.kind == LABEL:
        labels = {key: str(label) for key, label in column.labels.items()}
        return lambda value: labels.get(value, value)
    if column.kind == MONEY:
        # In cents, also for an amount computed in SQL (SQLite returns it without its scale).
        return lambda value: "" if value is None else str(money(Decimal(value))).replace(".", ",")
    if column.kind == NUMBER:
        return lambda value: "" if value is None else str(value).replace(".", ",")
    if column.kind == DATE:
        return lambda value: "" if value is None else value.isoformat()
    if column.kind == DAY_OF:
        return lambda value: "" if value is None else _local_day(value).isoformat()
    if column.kind == MONTH:
        return lambda value: "" if value is None else f"{value.year:04d}-{value.month:02d}"
    return lambda value: escape_formula("" if value is None else str(value))


def _xlsx_writer_of(column: Column) -> Callable:
    if column.kind == LABEL:
        labels = {key: str(label) for key, label in column.labels.items()}
        return lambda value: labels.get(value, value)
    if column.kind == DAY_OF:
        return _local_day
    if column.kind == MONTH:
        return lambda value: "" if value is None else f"{value.year:04d}-{value.month:02d}"
    if column.kind in (MONEY, DATE, NUMBER):
        return lambda value: value
    return lambda value: escape_formula(value)


def rows_of(queryset, columns: Iterable[Column], *, chunk_size: int = 5000) -> Iterator[tuple]:
    """The export's raw values, straight from a server-side cursor on PostgreSQL."""
    return queryset.values_list(*(column.lookup for column in columns)).iterator(
        chunk_size=chunk_size
    )


def csv_chunks(
    columns: list[Column] | tuple[Column, ...],
    rows: Iterable[tuple],
    *,
    rows_per_chunk: int = 2000,
    dutch_dates: bool = False,
) -> Iterator[str]:
    """The CSV text in chunks of ``rows_per_chunk`` lines: a byte order mark and the header
    first, then the rows, converted and escaped."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow(headers(columns))
    yield BYTE_ORDER_MARK + out.getvalue()
    converters = [_csv_writer_of(column, dutch_dates=dutch_dates) for column in columns]

    def convert(row: tuple) -> list:
        return [write(value) for write, value in zip(converters, row, strict=True)]

    rows = iter(rows)
    while chunk := list(islice(rows, rows_per_chunk)):
        out.seek(0)
        out.truncate()
        writer.writerows(map(convert, chunk))
        yield out.getvalue()


def csv_bytes(columns, rows: Iterable[tuple], *, dutch_dates: bool = False) -> Iterator[bytes]:
    """What a streamed CSV download sends."""
    for chunk in csv_chunks(columns, rows, dutch_dates=dutch_dates):
        yield chunk.encode("utf-8")


def csv_text(columns, rows: Iterable[tuple]) -> str:
    return "".join(csv_chunks(columns, rows))


def xlsx_bytes(columns, rows: Iterable[tuple], *, title: str = "Export") -> bytes:
    """An XLSX workbook of one sheet, written row by row (openpyxl's write-only mode)."""
    out = io.BytesIO()
    xlsx_write(out, columns, rows, title=title)
    return out.getvalue()


def xlsx_write(file, columns, rows: Iterable[tuple], *, title: str = "Export") -> None:
    """The workbook of ``xlsx_bytes`` written to ``file`` (a temporary file for a download, so
    a long list is not held in memory)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(title)[:31])
    sheet.append(headers(columns))
    converters = [_xlsx_writer_of(column) for column in columns]
    for row in rows:
        sheet.append([write(value) for write, value in zip(converters, row, strict=True)])
    workbook.save(file)
