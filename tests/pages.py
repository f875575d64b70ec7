"""What the tests of the pages' query counts share (the page benchmark's rule,
``bench/procedure_pages.py``): at most ``MAX_PAGE_QUERIES`` queries, login and session included,
and as many with many rows as with few."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

MAX_PAGE_QUERIES = 8


def queries_of_page(client, url: str) -> list[str]:
    """The queries of one request of ``url``, as a user who moves from page to page makes it:
    after a first request, which leaves the menu's count (and a dashboard's figures) kept."""
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def assert_constant_queries(client, url: str, add_rows, django_assert_max_num_queries) -> None:
    """``url`` runs at most ``MAX_PAGE_QUERIES`` queries, and no more after ``add_rows()``."""
    few = queries_of_page(client, url)
    assert len(few) <= MAX_PAGE_QUERIES, "\n".join(few)
    add_rows()
    assert client.get(url).status_code == 200
    with django_assert_max_num_queries(len(few)):
        assert client.get(url).status_code == 200
