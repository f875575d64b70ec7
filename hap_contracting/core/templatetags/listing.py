"""Template helpers of the work lists (``core.listing``)."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def sort_th(header, label, **attributes) -> str:
    """A sortable column header: ``header`` from ``core.listing.sort_headers``
    (``sort_headers.<key>``), ``label`` its text, ``class`` optional. The link sorts by the
    column (the other way round when it is sorted already) and keeps the filters;
    ``aria-sort`` says the order to screen readers, the arrow shows it without colour. A tag
    rather than an included template: a list has one per column, on every page."""
    aria_sort = format_html(' aria-sort="{}"', header.aria_sort) if header.aria_sort else ""
    css_class = attributes.get("class")
    css = format_html(' class="{}"', css_class) if css_class else ""
    return format_html(
        '<th scope="col"{}{}><a href="{}" class="text-nowrap" data-sort-link>{}'
        '<span aria-hidden="true" class="ms-1">{}</span></a></th>\n',
        aria_sort,
        css,
        header.url,
        label,
        header.arrow,
    )
