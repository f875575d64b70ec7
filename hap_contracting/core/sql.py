"""Set-based writes: ``insert_select`` writes the rows a queryset describes with one
``INSERT … SELECT``, so a job's step costs the same few statements for ten rows or ten thousand
and no row passes through Python. With the functions below the values are computed in the
database the same way on PostgreSQL and on SQLite (the demo, the tests).

The queryset is the source (``rows``), wrapped as a derived table named ``row``; each column of
the new rows is an expression over the source's columns (``Row("name")``) or a constant. So an
expression the rule needs several times (a deadline computed from subqueries) is computed once
per row, in the source, and the rule over it stays readable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    DateField,
    Expression,
    Func,
    IntegerField,
    Model,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat, LPad
from django.db.models.sql import Query

ROW = "row"


class Row(Expression):
    """The column ``name`` of the source rows of ``insert_select``."""

    def __init__(self, name: str, output_field=None):
        super().__init__(output_field=output_field)
        self.name = name

    def __repr__(self) -> str:
        return f"Row({self.name!r})"

    def as_sql(self, compiler, connection):
        quote = connection.ops.quote_name
        return f"{quote(ROW)}.{quote(self.name)}", []


class AddDays(Func):
    """A date plus a number of days (an integer or an integer expression; negative: earlier)."""

    output_field = DateField()

    def __init__(self, date, days, **extra):
        if not hasattr(days, "resolve_expression"):
            days = Value(int(days), output_field=IntegerField())
        super().__init__(date, days, **extra)

    def as_sql(self, compiler, connection, **extra):
        date_sql, date_params = compiler.compile(self.source_expressions[0])
        days_sql, days_params = compiler.compile(self.source_expressions[1])
        params = [*date_params, *days_params]
        if connection.vendor == "postgresql":
            return f"(({date_sql}) + ({days_sql})::integer)", params
        return f"date({date_sql}, printf('%%+d days', {days_sql}))", params


class AddMonths(Func):
    """A date plus a number of months (an integer or an integer expression), the day clamped
    to the month's last (31 January + 1 month = 28 February), as ``relativedelta(months=…)``
    does."""

    output_field = DateField()

    def __init__(self, date, months, **extra):
        if not hasattr(months, "resolve_expression"):
            months = Value(int(months), output_field=IntegerField())
        super().__init__(date, months, **extra)

    def as_sql(self, compiler, connection, **extra):
        date_sql, date_params = compiler.compile(self.source_expressions[0])
        months_sql, months_params = compiler.compile(self.source_expressions[1])
        if connection.vendor == "postgresql":
            return (
                f"(({date_sql}) + make_interval(months => ({months_sql})::integer))::date",
                [*date_params, *months_params],
            )
        # SQLite's "+N months" rolls an overflowing day into the next month (31 January + 1
        # month is 3 March): the last day of the month it lands in caps it.
        return (
            f"min(date({date_sql}, printf('%%+d months', {months_sql})), "
            f"date({date_sql}, 'start of month', printf('%%+d months', {months_sql} + 1), "
            "'-1 day'))",
            [*date_params, *months_params, *date_params, *months_params],
        )


class RandomUUID(Func):
    """A new random UUID for every row (a UUID field's ``default=uuid.uuid4``)."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        return "gen_random_uuid()", []

    def as_sql(self, compiler, connection, **extra):
        # SQLite: Django keeps a UUID as 32 hexadecimal digits.
        return "lower(hex(randomblob(16)))", []


class DayMonthYear(Func):
    """A date as ``strftime("%d-%m-%Y")`` writes it."""

    output_field = CharField()

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            return f"to_char({sql}, 'DD-MM-YYYY')", params
        return f"strftime('%%d-%%m-%%Y', {sql})", params


def padded_number(prefix: str, number, digits: int = 5):
    """``f"{prefix}{number:0{digits}d}"`` for a non-negative integer expression (a reference
    such as ``A-00042``); a longer number is written whole, not cut."""
    text = Cast(number, CharField())
    return Concat(
        Value(prefix),
        Case(
            When(_greater_or_equal(number, 10**digits), then=text),
            default=LPad(text, digits, Value("0")),
            output_field=CharField(),
        ),
        output_field=CharField(),
    )


def _greater_or_equal(expression, value):
    from django.db.models.lookups import GreaterThanOrEqual

    return GreaterThanOrEqual(expression, Value(value, output_field=IntegerField()))


_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


def interpolate(template: str, **values) -> Concat | Value:
    """The SQL text of ``template % values`` (a translated message with ``%(name)s``
    placeholders), each value an expression giving text."""
    parts, position = [], 0
    for match in _PLACEHOLDER.finditer(template):
        if match.start() > position:
            parts.append(Value(template[position : match.start()]))
        if match.group(0) == "%%":
            parts.append(Value("%"))
        else:
            parts.append(values[match.group(1)])
        position = match.end()
    if position < len(template):
        parts.append(Value(template[position:]))
    if len(parts) == 1:
        return parts[0]
    return Concat(*parts, output_field=TextField())


def _value(field, value):
    if hasattr(value, "resolve_expression"):
        return value
    return Value(value, output_field=field)


def _defaults(model: type[Model], given: Mapping) -> dict:
    """The value of every concrete field ``given`` leaves out: its constant default, empty
    text, or NULL. A field whose value is made per row (a callable default, ``auto_now_add``)
    must be given."""
    values = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.name in given or field.attname in given:
            continue
        if getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False):
            raise ValueError(f"insert_select: give {model.__name__}.{field.name} (set on save)")
        if field.has_default() and callable(field.default) and field.default not in (dict, list):
            raise ValueError(f"insert_select: give {model.__name__}.{field.name} (per-row default)")
        default = field.get_default()
        if default is None and not field.null:
            raise ValueError(f"insert_select: give {model.__name__}.{field.name} (no default)")
        values[field.attname] = Value(default, output_field=field)
    return values


def insert_select(
    model: type[Model],
    rows: QuerySet,
    values: Mapping[str, object],
    *,
    where=None,
    ignore_conflicts: bool = False,
) -> int:
    """``INSERT INTO`` the model's table one row for each row of ``rows`` (a ``values()``
    queryset, named ``row`` in the statement), its fields ``values`` (expressions over
    ``Row(name)`` or constants; the fields left out get their defaults), the source rows kept
    where the condition ``where`` (over ``Row``) holds. With ``ignore_conflicts`` a row that a
    unique constraint refuses is left out (``ON CONFLICT DO NOTHING``: the row that was there
    first, or that a concurrent transaction committed first, stays). Returns the rows written.
    One statement."""
    fields = {model._meta.get_field(name): value for name, value in values.items()}
    columns = {field.attname: _value(field, value) for field, value in fields.items()}
    columns |= _defaults(model, values)
    query = Query(model)
    compiler = query.get_compiler(connection=connection)

    def compile_(expression):
        resolved = expression.resolve_expression(query, allow_joins=False)
        return compiler.compile(resolved)

    source_sql, source_params = rows.query.sql_with_params()
    select, params = [], []
    for expression in columns.values():
        sql, expression_params = compile_(expression)
        select.append(sql)
        params += expression_params
    params += source_params
    where_sql = "1 = 1"  # SQLite reads ON CONFLICT after a SELECT only behind a WHERE
    if where is not None:
        where_sql, where_params = compile_(where)
        params += where_params
    quote = connection.ops.quote_name
    statement = (
        f"INSERT INTO {quote(model._meta.db_table)} "
        f"({', '.join(quote(model._meta.get_field(name).column) for name in columns)}) "
        f"SELECT {', '.join(select)} FROM ({source_sql}) {quote(ROW)} WHERE {where_sql}"
    )
    if ignore_conflicts:
        statement += " ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def insert_from(
    model: type[Model],
    queryset: QuerySet,
    values: Mapping[str, object],
    *,
    ignore_conflicts: bool = False,
) -> int:
    """``insert_select`` of one new row per row of ``queryset``, each field's value an
    expression over the queryset's rows (``F("end_date")``, its annotations) or a constant."""
    computed = [name for name, value in values.items() if hasattr(value, "resolve_expression")]
    alias = {name: f"insert_{index}" for index, name in enumerate(computed)}
    rows = queryset.values(**{alias[name]: values[name] for name in computed})
    return insert_select(
        model,
        rows,
        {name: Row(alias[name]) if name in alias else value for name, value in values.items()},
        ignore_conflicts=ignore_conflicts,
    )
