"""The menu marks where the user is: ``aria-current="page"`` on the link to the page shown, and
``aria-current="true"`` on the link to the section a page belongs to (a request's page under
"Requests"), so screen readers announce it and the style sheet shows it."""

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def current_page(context, url: str, section: str = "") -> str:
    """The ``aria-current`` attribute for a menu link to ``url``, or nothing. A page below the
    link's URL (or below ``section``, when the section's pages share a shorter prefix) is part
    of its section; the start page "/" is only ever itself."""
    request = context.get("request")
    if request is None:
        return ""
    path = request.path
    if path == url:
        return mark_safe(' aria-current="page"')
    prefix = section or url
    if prefix != "/" and path.startswith(prefix):
        return mark_safe(' aria-current="true"')
    return ""
