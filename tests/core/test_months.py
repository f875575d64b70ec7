import datetime

import pytest

from hap_contracting.core.months import month_bounds, months_from, parse_month


def test_a_month_is_read_as_its_first_day():
    assert parse_month("2026-11") == datetime.date(2026, 11, 1)
    assert parse_month(" 2027-01 ") == datetime.date(2027, 1, 1)


@pytest.mark.parametrize("text", ["", "2026-13", "2026-00", "2026-1", "11-2026", "2026/11", None])
def test_anything_but_yyyy_mm_is_not_a_month(text):
    with pytest.raises(ValueError):
        parse_month(text)


def test_a_month_runs_from_its_first_to_its_last_day_leap_years_included():
    assert month_bounds(datetime.date(2028, 2, 14)) == (
        datetime.date(2028, 2, 1),
        datetime.date(2028, 2, 29),
    )
    assert month_bounds(datetime.date(2026, 12, 31)) == (
        datetime.date(2026, 12, 1),
        datetime.date(2026, 12, 31),
    )


def test_months_from_counts_on_across_the_year():
    assert months_from(datetime.date(2026, 11, 20), 3) == [
        datetime.date(2026, 11, 1),
        datetime.date(2026, 12, 1),
        datetime.date(2027, 1, 1),
    ]
