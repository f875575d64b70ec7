"""Finance keeps which insurer reason codes mean "Wlz indication with treatment": a refused claim
with one of these codes is billed, a claim with another code is imported but not billed."""

from django.db import transaction
from django.utils.translation import gettext as _

from hap_contracting.core.errors import DomainError

from ..models import BillableReasonCode


def billable_reason_code_save(
    *,
    code: str,
    description: str = "",
    is_example: bool = False,
    reason_code: BillableReasonCode | None = None,
) -> BillableReasonCode:
    """Create or change a code; codes are compared without case, so each is kept in capitals
    and once."""
    code = (code or "").strip().upper()
    if not code:
        raise DomainError(_("Give the insurer's reason code."), field="code")
    with transaction.atomic():
        clash = BillableReasonCode.objects.filter(code__iexact=code)
        if reason_code is not None:
            clash = clash.exclude(pk=reason_code.pk)
        if clash.exists():
            raise DomainError(_("This reason code is on the list already."), field="code")
        reason_code = reason_code or BillableReasonCode()
        reason_code.code = code
        reason_code.description = (description or "").strip()[:200]
        reason_code.is_example = bool(is_example)
        reason_code.save()
    return reason_code
