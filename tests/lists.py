"""What the tests of the work lists share: reading an export back, and checking that a sort key
orders the page (``core.listing``)."""

import csv
import io
import re

from openpyxl import load_workbook


def export_rows(response) -> list[list]:
    """The rows of a CSV or XLSX download, its header first (XLSX empty cells as '')."""
    content = b"".join(response.streaming_content)
    if response["Content-Type"].startswith("text/csv"):
        return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    sheet = load_workbook(io.BytesIO(content)).active
    return [
        ["" if cell is None else cell for cell in row] for row in sheet.iter_rows(values_only=True)
    ]


def column(rows: list[list], header: str) -> list:
    """The values of the column named ``header`` (without the header)."""
    index = rows[0].index(header)
    return [row[index] for row in rows[1:]]


def listed(client, url: str, **params) -> list:
    response = client.get(url, params)
    assert response.status_code == 200
    return list(response.context["page"].object_list)


def smallest_first(value):
    """A sort value where empty counts as the smallest, as ``core.listing`` sorts."""
    return (value is not None, value)


def assert_sorts_by(client, url: str, key: str, value_of, **params) -> None:
    """``?sort=key`` lists the rows by ``value_of`` ascending, ``?sort=-key`` descending, the two
    orders differ, and the header says which order the column is in."""
    ascending = listed(client, url, sort=key, **params)
    descending = listed(client, url, sort=f"-{key}", **params)
    up = [smallest_first(value_of(item)) for item in ascending]
    down = [smallest_first(value_of(item)) for item in descending]
    assert up == sorted(up)
    assert down == sorted(down, reverse=True)
    assert [item.pk for item in ascending] != [item.pk for item in descending]
    page = client.get(url, {"sort": f"-{key}", **params}).content.decode()
    assert page.count('aria-sort="descending"') == 1
    # The sorted column's link turns the order round, and keeps the other parameters.
    assert re.search(rf'aria-sort="descending"[^>]*><a href="\?[^"]*\bsort={key}(&amp;|")', page)
