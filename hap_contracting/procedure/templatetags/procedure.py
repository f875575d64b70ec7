"""Template helpers of the procedure's pages."""

from django import template
from django.utils.html import format_html

from ..constants import RequestState

register = template.Library()

_ENDED = (RequestState.REJECTED, RequestState.WITHDRAWN)


@register.simple_tag
def state_badge(state: str, label) -> str:
    """A request's state as a badge: grey once it ended without a contract, green when
    contracted, blue while open. A tag, not an included template: the lists show one per row,
    and an include per row cost more than the rest of the row."""
    if state in _ENDED:
        colour = "text-bg-secondary"
    elif state == RequestState.CONTRACTED:
        colour = "text-bg-success"
    else:
        colour = "text-bg-info"
    return format_html('<span class="badge state-badge {}">{}</span>\n', colour, label)
