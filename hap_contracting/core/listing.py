"""Work lists: sorting by a column, the header links that sort, and the export of a list.

One list, one whitelist: ``Sorts`` maps the keys a header may put in the query string
(``?sort=end`` ascending, ``?sort=-end`` descending) to the lookups they order by. The raw value
from the query string is only ever looked up in that map, never handed to ``order_by``; an
unknown key falls back to the list's default. Every order ends with the primary key, so rows that
tie keep one order from page to page and in the export.

The page and its export run the same selector with the same filters and sort, so the export holds
exactly the rows the page lists (all pages of them), within the user's region.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.db.models import CharField, F, Model, Value
from django.db.models.functions import Cast, Concat, LPad
from django.http import FileResponse, Http404, HttpResponse, QueryDict, StreamingHttpResponse
from django.utils import timezone

from . import spreadsheets

SORT_PARAMETER = "sort"
PAGE_PARAMETER = "page"
PAGE_SIZE = 50
EXPORT_FORMATS = ("csv", "xlsx")

ASCENDING, DESCENDING = "ascending", "descending"
# The arrow shows the order without colour; screen readers hear ``aria-sort`` instead.
ARROWS = {ASCENDING: "▲", DESCENDING: "▼", "": "↕"}


@dataclass(frozen=True)
class Sort:
    """A chosen sort: a key of the whitelist and its direction."""

    key: str
    descending: bool = False

    def __str__(self) -> str:
        return f"-{self.key}" if self.descending else self.key


@dataclass(frozen=True)
class Sorts:
    """The sort keys of one list. ``keys[name]`` is a tuple of lookups: the first is the column
    and turns with the direction (empty values count as the smallest, on every database); the
    others break ties in their own fixed direction (``"-opened_on"``); the primary key last."""

    keys: Mapping[str, tuple[str, ...]]
    default: str
    # The list's model: a column that can't be empty is then sorted without NULLS FIRST/LAST,
    # so that PostgreSQL can read it in the order of an index (it does not match an index on
    # ``received_on DESC`` with ``received_on DESC NULLS LAST``, even for a NOT NULL column).
    model: type[Model] | None = None

    def __post_init__(self) -> None:
        if self.default.removeprefix("-") not in self.keys:
            raise ValueError(f"default sort {self.default!r} is not one of the keys")

    def chosen(self, value: str | None) -> Sort:
        """The sort that ``value`` (from the query string) asks for, or the default."""
        value = (value or "").strip()
        name = value.removeprefix("-")
        if name not in self.keys:
            value = self.default
            name = value.removeprefix("-")
        return Sort(name, descending=value.startswith("-"))

    def order_by(self, value: str | None) -> list:
        """What ``QuerySet.order_by`` gets: only lookups of the whitelist."""
        sort = self.chosen(value)
        first, *others = self.keys[sort.key]
        if self.model is not None and not _nullable(self.model, first):
            primary = F(first).desc() if sort.descending else F(first).asc()
        elif sort.descending:
            primary = F(first).desc(nulls_last=True)
        else:
            primary = F(first).asc(nulls_first=True)
        return [primary, *others, "-pk" if sort.descending else "pk"]


def _nullable(model: type[Model], lookup: str) -> bool:
    """Whether ``lookup`` (``"location__name"``) can be NULL in a row of ``model``: the column
    is, or a relation on the way is (a LEFT JOIN). An annotation counts as nullable."""
    options = model._meta
    *relations, name = lookup.split("__")
    try:
        for relation in relations:
            field = options.get_field(relation)
            if field.null or not (field.concrete and (field.many_to_one or field.one_to_one)):
                return True
            options = field.related_model._meta
        return name != "pk" and options.get_field(name).null
    except FieldDoesNotExist:
        return True


@dataclass(frozen=True)
class SortHeader:
    """What a sortable column header shows: the link that sorts by it (the other way round when
    it is sorted already), its ``aria-sort`` and its arrow."""

    url: str
    aria_sort: str
    arrow: str


def query_without_page(params: QueryDict) -> str:
    """The list's query string (filters and sort) without the page: for the export links."""
    query = params.copy()
    query.pop(PAGE_PARAMETER, None)
    return query.urlencode()


def sort_headers(sorts: Sorts, params: QueryDict) -> dict[str, SortHeader]:
    """A header per sort key; its link keeps the filters and starts again at page 1."""
    current = sorts.chosen(params.get(SORT_PARAMETER))
    headers = {}
    for key in sorts.keys:
        query = params.copy()
        query.pop(PAGE_PARAMETER, None)
        if key == current.key:
            aria_sort = DESCENDING if current.descending else ASCENDING
            query[SORT_PARAMETER] = key if current.descending else f"-{key}"
        else:
            aria_sort = ""
            query[SORT_PARAMETER] = key
        headers[key] = SortHeader(
            url=f"?{query.urlencode()}", aria_sort=aria_sort, arrow=ARROWS[aria_sort]
        )
    return headers


def list_context(request, sorts: Sorts, page) -> dict:
    """The context every work list's template needs besides its own: the page, the sortable
    headers and the query string the export links carry."""
    return {
        "page": page,
        "sort_headers": sort_headers(sorts, request.GET),
        "list_query": query_without_page(request.GET),
    }


def reference_expression(prefix: str, field: str = "pk", width: int = 5):
    """A model's ``reference`` property in SQL ('A-00042'), for exports that read values only."""
    return Concat(
        Value(prefix), LPad(Cast(field, CharField()), width, Value("0")), output_field=CharField()
    )


def export_response(
    fmt: str,
    *,
    queryset,
    columns: Sequence[spreadsheets.Column],
    filename: str,
    title: str,
    annotations: Mapping | None = None,
) -> HttpResponse:
    """The list as a download: CSV streamed from a server-side cursor (Dutch dates, decimal
    comma), XLSX written row by row to a temporary file that is sent in chunks. ``filename`` is
    the Dutch name without date and extension. Any other format is a 404. The caller writes the
    access log first when the rows are patient-linked. ``annotations`` adds the values the
    columns read that the list's selector does not (a reference in SQL)."""
    if fmt not in EXPORT_FORMATS:
        raise Http404
    if annotations:
        queryset = queryset.annotate(**annotations)
    rows = spreadsheets.rows_of(queryset, columns)
    if fmt == "csv":
        response = StreamingHttpResponse(
            spreadsheets.csv_bytes(columns, rows, dutch_dates=True),
            content_type=spreadsheets.CSV_CONTENT_TYPE,
        )
    else:
        file = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
        spreadsheets.xlsx_write(file, columns, rows, title=title)
        file.seek(0)
        response = FileResponse(file, content_type=spreadsheets.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = (
        f'attachment; filename="{filename}-{timezone.localdate():%Y%m%d}.{fmt}"'
    )
    return response
