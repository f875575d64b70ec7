"""The work lists' sorting and export helper (``core.listing``): only whitelisted keys reach
``order_by``, ties break by primary key, the header links keep the filters."""

import pytest
from django.db.models import F
from django.http import Http404, QueryDict

from hap_contracting.core import listing

SORTS = listing.Sorts({"name": ("name", "-city"), "end": ("end_date",)}, default="-end")


def test_a_key_orders_by_its_lookups_and_then_by_primary_key():
    assert SORTS.order_by("name") == [F("name").asc(nulls_first=True), "-city", "pk"]
    assert SORTS.order_by("-name") == [F("name").desc(nulls_last=True), "-city", "-pk"]


@pytest.mark.parametrize(
    "value", [None, "", "nonsense", "-", "--name", "city", "pk", "name; DROP TABLE", "end_date"]
)
def test_an_unknown_sort_key_falls_back_to_the_default(value):
    assert SORTS.chosen(value) == listing.Sort("end", descending=True)
    assert SORTS.order_by(value) == [F("end_date").desc(nulls_last=True), "-pk"]


def test_a_default_that_is_not_a_key_is_refused():
    with pytest.raises(ValueError):
        listing.Sorts({"name": ("name",)}, default="city")


def test_the_headers_keep_the_filters_drop_the_page_and_turn_the_sorted_column_round():
    headers = listing.sort_headers(SORTS, QueryDict("state=open&page=3&sort=name"))

    assert headers["name"].url == "?state=open&sort=-name"
    assert headers["name"].aria_sort == "ascending"
    assert headers["end"].url == "?state=open&sort=end"
    assert headers["end"].aria_sort == ""
    assert {header.arrow for header in headers.values()} == {"▲", "↕"}


def test_without_a_sort_the_default_column_is_marked_sorted():
    headers = listing.sort_headers(SORTS, QueryDict(""))

    assert headers["end"].aria_sort == "descending"
    assert headers["end"].arrow == "▼"
    assert headers["end"].url == "?sort=end"


def test_the_export_links_carry_filters_and_sort_but_not_the_page():
    assert listing.query_without_page(QueryDict("q=a+b&page=2&sort=-end")) == "q=a+b&sort=-end"


def test_an_export_in_another_format_is_not_found():
    with pytest.raises(Http404):
        listing.export_response("pdf", queryset=None, columns=(), filename="x", title="x")


def test_a_column_that_cannot_be_empty_is_sorted_in_an_indexs_order():
    """``received_on DESC NULLS LAST`` is not read from an index on ``received_on DESC``: with
    the list's model known, a NOT NULL column gets no NULLS clause."""
    from hap_contracting.procedure.models import AdmissionRequest

    sorts = listing.Sorts(
        {"received": ("received_on",), "grace": ("grace_ends_on",)},
        default="-received",
        model=AdmissionRequest,
    )

    assert sorts.order_by("")[0] == F("received_on").desc()
    assert sorts.order_by("received")[0] == F("received_on").asc()
    assert sorts.order_by("-grace")[0] == F("grace_ends_on").desc(nulls_last=True)


def test_what_can_be_empty_in_a_row():
    from hap_contracting.billing.models import Invoice
    from hap_contracting.contracts.models import Contract

    assert not listing._nullable(Invoice, "organisation__name")
    assert not listing._nullable(Invoice, "pk")
    assert listing._nullable(Invoice, "due_date")
    assert listing._nullable(Invoice, "corrects__number")  # a nullable relation: a LEFT JOIN
    assert listing._nullable(Contract, "renewal_request__state")  # the reverse of a one-to-one
    assert listing._nullable(Invoice, "line_count")  # an annotation
