"""Template helpers of the checklist's read-only views (the app, the admin, the PDFs)."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from ..constants import ItemKind

register = template.Library()


@register.simple_tag
def checklist_answer(row) -> str:
    """How a checklist row's answer reads: yes or no, the hours covered and the weekend, the
    text given, or a dash when there is none. A tag rather than an included template: a
    checklist shows 23 of them, and an include each cost as much as the rest of the table."""
    answer = row.answer
    value = answer.value if answer else None
    if value is None:
        return mark_safe('<span class="text-muted">—</span>')
    if row.item.kind == ItemKind.YES_NO:
        return _("Yes") if value == "yes" else _("No")
    if row.item.kind == ItemKind.HOURS:
        hours = value if isinstance(value, dict) else {}
        weekend = _("whole weekend") if hours.get("weekends") else _("not in the weekend")
        return format_html("{}–{}, {}", hours.get("from", ""), hours.get("to", ""), weekend)
    return format_html("{}", value)
