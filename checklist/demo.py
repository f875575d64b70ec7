"""Answers that meet each item: used by the demo seed and by the tests' factories."""

from .constants import ItemKind


def met_value(item):
    return {
        ItemKind.YES_NO: "yes",
        ItemKind.TEXT: "SO-dienst Zorggroep, dr. A. Jansen",
        ItemKind.PHONE: "038 123 4567",
        ItemKind.HOURS: {"from": "17:00", "to": "08:00", "weekends": True},
        ItemKind.CHOICE: (item.choices or [None])[0],
    }[item.kind]


def complete_answers(template, **values_by_code) -> dict[int, dict]:
    """Form data for ``assessment_save``/``assessment_submit``: every item met, except the
    items named (code with ``_`` for ``-``) which get the value given."""
    from .models import ChecklistItem

    return {
        item.pk: {
            "value": values_by_code.get(item.code.replace("-", "_"), met_value(item)),
            "explanation": "",
            "remark": "",
        }
        for item in ChecklistItem.objects.filter(section__template=template)
    }
