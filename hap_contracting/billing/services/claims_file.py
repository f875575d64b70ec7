"""Reading a file of refused claims as finance's Excel writes it, one record at a time.

CSV: separated by ``;`` (Dutch Excel), ``,`` or a tab, detected from the header; UTF-8 with or
without a byte order mark, or Windows-1252. XLSX: the first sheet, read-only, after its zip
archive was checked for a declared size and a compression ratio that give it away as a zip bomb.
Each record comes with the *physical* line it starts on (a quoted field may hold a line break),
so that every message names the line a spreadsheet shows.

A problem with the file as a whole, or with a line that makes the rest unreadable, raises
``FileProblem`` with its line and column; a problem with one value is the line checker's.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Every field; longer ones are refused at their line (a column has its own, lower limit).
MAX_FIELD_LENGTH = 1000
# XLSX: a zip archive whose contents would unpack to more than this, or that packs them more
# tightly than this (a zip bomb), is refused before it is opened.
XLSX_MAX_UNCOMPRESSED_BYTES = 400 * 1024 * 1024
XLSX_MAX_COMPRESSION_RATIO = 100
XLSX_MAX_MEMBERS = 1000
DELIMITERS = (";", ",", "\t")
# A field the csv module reads past this is refused at its line (an unclosed quote swallows
# the rest of the file into one field).
csv.field_size_limit(MAX_FIELD_LENGTH * 4)
WHOLE_LINE = gettext_lazy("(whole line)")
WHOLE_FILE = gettext_lazy("(file)")


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the header of the template file
    aliases: tuple[str, ...]
    required: bool = True


# The expected columns; headers match case- and accent-insensitively, Dutch or English.
COLUMNS = (
    Column("care_at", "datum_tijd", ("datum tijd", "datum", "date time", "datetime", "date")),
    Column("post", "huisartsenpost", ("post", "hap", "hap post")),
    Column("act", "verrichting", ("verrichtingcode", "act", "act code", "code")),
    Column("patient_reference", "patientreferentie", ("patient", "patient reference")),
    Column("bsn", "bsn", ("burgerservicenummer",), required=False),
    Column("postcode", "postcode", ("zip", "postal code")),
    Column("house_number", "huisnummer", ("house number", "nummer")),
    Column("house_number_addition", "toevoeging", ("addition", "huisnummertoevoeging"), False),
    Column("reason_code", "redencode", ("reden", "reason", "reason code")),
)
HEADER_OF = {column.key: column.header for column in COLUMNS}


class FileProblem(Exception):
    """The file can't be read on from ``line``; nothing of it is stored."""

    def __init__(self, line: int, column: str, reason: str):
        super().__init__(reason)
        self.line, self.column, self.reason = line, str(column), str(reason)


def fold(text: str) -> str:
    """Lower case without accents and separators: 'Patiënt-referentie' → 'patientreferentie'."""
    decomposed = unicodedata.normalize("NFKD", str(text or ""))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]", "", plain)


@dataclass
class Header:
    positions: dict[str, int]  # column key → its index
    ignored: list[str]  # the headers of columns the file has beyond the expected ones


def read_header(cells: list[str]) -> Header:
    """Where each expected column is; a column named twice or missing is refused."""
    for index, cell in enumerate(cells):
        if "\x00" in cell:
            raise FileProblem(
                1,
                _("column %(number)s") % {"number": index + 1},
                _("the header holds a NUL character"),
            )
    folded = [fold(cell) for cell in cells]
    positions, missing, claimed = {}, [], {}
    for column in COLUMNS:
        names = {fold(column.header), *(fold(alias) for alias in column.aliases)}
        found = [index for index, cell in enumerate(folded) if cell in names]
        if len(found) > 1:
            raise FileProblem(
                1,
                column.header,
                _("the column %(column)s appears %(count)s times in the header")
                % {"column": column.header, "count": len(found)},
            )
        if found:
            positions[column.key] = found[0]
            claimed[found[0]] = column.key
        elif column.required:
            missing.append(column.header)
    if missing:
        raise FileProblem(
            1,
            ", ".join(missing),
            _("these columns are missing: %(columns)s; download the template file")
            % {"columns": ", ".join(missing)},
        )
    ignored = [
        cell.strip() or _("column %(number)s") % {"number": index + 1}
        for index, cell in enumerate(cells)
        if index not in claimed and (cell.strip() or index < len(cells) - 1)
    ]
    return Header(positions=positions, ignored=ignored)


# --- CSV ------------------------------------------------------------------------------------


def _encoding(head: bytes) -> str:
    """UTF-8 (with or without a byte order mark) when the start of the file is UTF-8, else
    Windows-1252, which Excel in a Dutch locale writes."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        if error.start < len(head) - 3:
            return "cp1252"
    return "utf-8-sig"


KNOWN_HEADERS = {fold(name) for column in COLUMNS for name in (column.header, *column.aliases)}


def _delimiter(first_line: str) -> str:
    """The separator under which the header holds the most expected columns."""
    scores = {
        delimiter: sum(
            fold(cell) in KNOWN_HEADERS
            for cell in next(csv.reader([first_line], delimiter=delimiter), [])
        )
        for delimiter in DELIMITERS
    }
    best = max(DELIMITERS, key=lambda delimiter: scores[delimiter])
    if scores[best] >= 2:
        return best
    counts = {
        character: first_line.count(character)
        for character in "|:^~"
        if first_line.count(character) >= 2
    }
    if counts:
        used = max(counts, key=counts.get)
        raise FileProblem(
            1,
            WHOLE_LINE,
            _(
                "the columns are separated by %(used)s; save the file with semicolons (;) "
                "between the columns, as Excel does"
            )
            % {"used": repr(used)},
        )
    return ";"  # the header check names the missing columns


def _undecodable(line: int) -> FileProblem:
    return FileProblem(
        line,
        WHOLE_LINE,
        _("a character that is neither UTF-8 nor Windows-1252; save the file as CSV UTF-8"),
    )


def csv_records(binary) -> Iterator[tuple[int, list[str]]]:
    """(physical line, cells) of every record, the header first. The csv module counts the
    physical lines it reads (``line_num``), so a record's line is where it starts even when a
    quoted field holds a line break."""
    head = binary.read(1 << 16)
    binary.seek(0)
    text = io.TextIOWrapper(binary, encoding=_encoding(head), newline="")
    try:
        first = text.readline()
    except UnicodeDecodeError:
        raise _undecodable(1) from None
    if not first:
        raise FileProblem(1, WHOLE_FILE, _("the file is empty"))
    delimiter = _delimiter(first)
    yield 1, next(csv.reader([first], delimiter=delimiter))
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    while True:
        start = reader.line_num + 2  # the header is line 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise _undecodable(reader.line_num + 2) from None
        except csv.Error:
            raise FileProblem(
                start,
                WHOLE_LINE,
                _(
                    "the line can't be read (a field longer than %(max)s characters, or a "
                    "quote that is not closed)"
                )
                % {"max": MAX_FIELD_LENGTH},
            ) from None
        yield start, cells


# --- XLSX -----------------------------------------------------------------------------------


def check_xlsx_archive(binary) -> None:
    """Refuse what is not an XLSX, or looks like a zip bomb, before openpyxl unpacks it."""
    try:
        archive = zipfile.ZipFile(binary)
    except zipfile.BadZipFile:
        raise FileProblem(
            1, WHOLE_FILE, _("this is not an XLSX file; save it again from Excel")
        ) from None
    with archive:
        members = archive.infolist()
        declared = sum(member.file_size for member in members)
        packed = sum(member.compress_size for member in members)
        if (
            len(members) > XLSX_MAX_MEMBERS
            or declared > XLSX_MAX_UNCOMPRESSED_BYTES
            or declared > XLSX_MAX_COMPRESSION_RATIO * max(packed, 1)
        ):
            raise FileProblem(
                1,
                WHOLE_FILE,
                _(
                    "the file would unpack to %(megabytes)s MB: too large, or not a real "
                    "spreadsheet; save the claims as CSV"
                )
                % {"megabytes": declared // (1024 * 1024)},
            )
    binary.seek(0)


def xlsx_cell(value) -> str:
    """A cell as text; a date and time as ISO, a number without a needless ``.0``. An Excel
    date that came through as a plain number (a serial) stays a number: the line checker
    reads it as one."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def xlsx_records(binary) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    check_xlsx_archive(binary)
    try:
        workbook = load_workbook(binary, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001  (whatever openpyxl finds wrong, the answer is the same)
        raise FileProblem(
            1, WHOLE_FILE, _("this XLSX file can't be read; save it again from Excel")
        ) from None
    try:
        for number, row in enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1):
            yield number, [xlsx_cell(value) for value in row]
    finally:
        workbook.close()


def records(binary, *, xlsx: bool) -> Iterator[tuple[int, list[str]]]:
    return xlsx_records(binary) if xlsx else csv_records(binary)


# --- Values -----------------------------------------------------------------------------------

# Excel counts days from 30 December 1899; the serial has no time zone (wall-clock time).
EXCEL_EPOCH = datetime.datetime(1899, 12, 30)  # noqa: DTZ001
_SERIAL_RE = re.compile(r"^\d{5}(?:[.,]\d+)?$")
_DUTCH_RE = re.compile(
    r"^(?P<day>\d{1,2})-(?P<month>\d{1,2})-(?P<year>\d{4})[ T]+"
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?$"
)


def parse_moment(text: str, zone) -> datetime.datetime | None:
    """A date and time as the file may write it: ISO (2026-11-01 23:15), Dutch (01-11-2026
    23:15 or 1-11-2026 23:15) or an Excel serial number (46327.96875); Amsterdam time unless
    the value has an offset. None when it is none of these, or a date without a time (the hour
    decides the date of care)."""
    raw = text.strip()
    moment = None
    if raw[4:5] == "-" and raw[:4].isdigit():
        # Four digits and a dash: neither a serial nor a Dutch date, so ISO or nothing (the
        # import asks this of every line: the two patterns need not be tried).
        if len(raw) > 10:
            try:
                moment = datetime.datetime.fromisoformat(raw)
            except ValueError:
                return None
    elif _SERIAL_RE.match(raw):
        days = float(raw.replace(",", "."))
        moment = EXCEL_EPOCH + datetime.timedelta(days=days)
        moment = moment.replace(microsecond=0)
    elif match := _DUTCH_RE.match(raw):
        parts = {key: int(value) for key, value in match.groupdict(default="0").items()}
        try:
            moment = datetime.datetime(  # noqa: DTZ001 (wall-clock time, zoned below)
                parts["year"],
                parts["month"],
                parts["day"],
                parts["hour"],
                parts["minute"],
                parts["second"],
            )
        except ValueError:
            return None
    elif len(raw) > 10:
        try:
            moment = datetime.datetime.fromisoformat(raw)
        except ValueError:
            return None
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    return moment.astimezone(zone)
