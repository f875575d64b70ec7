"""Months: a month is its first day (``datetime.date``); in forms and URLs it is ``YYYY-MM``."""

import datetime
import re

from dateutil.relativedelta import relativedelta

_MONTH_RE = re.compile(r"^\s*(\d{4})-(0[1-9]|1[0-2])\s*$")


def parse_month(text: str) -> datetime.date:
    """``"2026-11"`` → 1 November 2026; ValueError for anything else."""
    match = _MONTH_RE.match(text or "")
    if match is None:
        raise ValueError(f"not a month like 2026-11: {text!r}")
    return datetime.date(int(match.group(1)), int(match.group(2)), 1)


def first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_bounds(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and the last day of the month of ``day``."""
    start = first_of_month(day)
    return start, start + relativedelta(months=1, days=-1)


def months_from(start: datetime.date, count: int) -> list[datetime.date]:
    """The first day of the month of ``start`` and of the ``count - 1`` months after it."""
    first = first_of_month(start)
    return [first + relativedelta(months=n) for n in range(count)]
