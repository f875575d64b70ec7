from django.core.exceptions import PermissionDenied

from .. import rules as billing_rules


def require_finance(user) -> None:
    """Billing's pages are finance's: finance without a region (``rules.can_bill``)."""
    if not billing_rules.can_bill.test(user):
        raise PermissionDenied
