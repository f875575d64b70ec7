"""Template helpers of the contract pages."""

from django import template

from ..constants import ContractStatus

register = template.Library()


@register.filter
def contract_status_label(status: str) -> str:
    """The label of a derived status (an annotation, so the model has no ``get_…_display``)."""
    return ContractStatus(status).label if status in ContractStatus.values else status
