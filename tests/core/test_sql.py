"""The set-based writes' SQL: computed in the database as Python computes it, on SQLite and on
PostgreSQL alike."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib.contenttypes.models import ContentType
from django.db.models import F, Value

from hap_contracting.contracts.models import Reminder
from hap_contracting.core.sql import (
    AddDays,
    AddMonths,
    DayMonthYear,
    insert_from,
    interpolate,
    padded_number,
)
from hap_contracting.procedure.models import AdmissionRequest

pytestmark = pytest.mark.django_db


def in_sql(expression):
    """The value of ``expression`` computed by the database."""
    return ContentType.objects.annotate(value=expression).values_list("value", flat=True)[0]


@pytest.mark.parametrize(
    ("day", "months"),
    [
        (datetime.date(2026, 1, 31), 1),  # into a shorter month: its last day
        (datetime.date(2028, 1, 31), 1),  # a leap year
        (datetime.date(2026, 8, 31), 6),
        (datetime.date(2026, 12, 15), 3),  # into the next year
        (datetime.date(2026, 3, 15), 0),
    ],
)
def test_months_are_added_as_relativedelta_adds_them(day, months):
    assert in_sql(AddMonths(Value(day), months)) == day + relativedelta(months=months)


@pytest.mark.parametrize("days", [1, -7, 0, 400])
def test_days_are_added(days):
    day = datetime.date(2026, 2, 27)
    assert in_sql(AddDays(Value(day), days)) == day + datetime.timedelta(days=days)


@pytest.mark.parametrize("pk", [7, 99999, 100000, 1234567])
def test_a_reference_is_written_as_the_models_reference(pk):
    assert in_sql(padded_number("A-", Value(pk))) == AdmissionRequest(pk=pk).reference


def test_a_translated_message_is_filled_in_as_python_fills_it():
    template = "Contract %(reference)s loopt af op %(end)s (100%%)."
    day = datetime.date(2027, 2, 3)

    filled = in_sql(interpolate(template, reference=Value("C-00042"), end=DayMonthYear(Value(day))))

    assert filled == template % {"reference": "C-00042", "end": day.strftime("%d-%m-%Y")}


def test_a_value_made_per_row_must_be_given():
    with pytest.raises(ValueError, match="created_at"):
        insert_from(
            Reminder,
            AdmissionRequest.objects.all(),
            {"admission_request_id": F("pk"), "kind": "step_due", "due_on": datetime.date.today()},
        )
