"""How a checklist answer reads in the read-only tables (app, admin, dossiers)."""

from types import SimpleNamespace

import pytest
from django.template import Context, Template
from django.utils import translation

from checklist.constants import ItemKind


def shown(kind: str, value, *, answered: bool = True) -> str:
    row = SimpleNamespace(
        item=SimpleNamespace(kind=kind),
        answer=SimpleNamespace(value=value) if answered else None,
    )
    with translation.override("nl"):
        return Template("{% load checklist %}{% checklist_answer row %}").render(
            Context({"row": row})
        )


@pytest.mark.parametrize(("value", "text"), [("yes", "Ja"), ("no", "Nee")])
def test_a_yes_no_answer_reads_yes_or_no(value, text):
    assert shown(ItemKind.YES_NO, value) == text


def test_hours_read_from_to_and_whether_the_weekend_is_covered():
    assert shown(ItemKind.HOURS, {"from": "17:00", "to": "08:00", "weekends": True}) == (
        "17:00–08:00, hele weekend"
    )
    assert shown(ItemKind.HOURS, {"from": "17:00", "to": "23:00", "weekends": False}) == (
        "17:00–23:00, niet in het weekend"
    )


@pytest.mark.parametrize("answered", [True, False])
def test_no_answer_reads_as_a_dash(answered):
    assert shown(ItemKind.YES_NO, None, answered=answered) == '<span class="text-muted">—</span>'


def test_a_text_answer_is_shown_escaped():
    assert shown(ItemKind.TEXT, "<b>Bel 0900</b>") == "&lt;b&gt;Bel 0900&lt;/b&gt;"
