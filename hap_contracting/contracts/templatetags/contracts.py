"""Template helpers of the contract pages."""

from django import template
from django.utils.html import format_html

from ..constants import ContractStatus

register = template.Library()

_STATUS_COLOURS = {
    ContractStatus.ACTIVE: "text-bg-success",
    ContractStatus.EXPIRING: "text-bg-warning",
    ContractStatus.EXPIRED: "text-bg-danger",
    ContractStatus.TERMINATED: "text-bg-secondary",
}


@register.filter
def contract_status_label(status: str) -> str:
    """The label of a derived status (an annotation, so the model has no ``get_…_display``)."""
    return ContractStatus(status).label if status in ContractStatus.values else status


@register.simple_tag
def contract_status_badge(status: str, label) -> str:
    """A contract's status as a badge (a tag rather than an included template: the register
    shows one per row)."""
    return format_html(
        '<span class="badge state-badge {}" data-status="{}">{}</span>\n',
        _STATUS_COLOURS.get(status, "text-bg-info"),
        status,
        label,
    )
