"""Finance keeps the administrative costs that each invoice adds once (seed 004, 7.2)."""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from hap_contracting.core.errors import DomainError
from hap_contracting.core.money import money
from hap_contracting.core.periods import period_check

from ..models import AdministrativeCost


def administrative_cost_save(
    *,
    amount: Decimal,
    valid_from: datetime.date,
    valid_until: datetime.date | None,
    cost: AdministrativeCost | None = None,
    note: str = "",
) -> AdministrativeCost:
    """Create or change a period of administrative costs; periods may not overlap, so every
    invoice month has one amount."""
    if amount is None or amount < 0:
        raise DomainError(_("The administrative costs cannot be negative."), field="amount")
    period_check(valid_from, valid_until)
    with transaction.atomic():
        # Locking the periods there are makes a second person saving at the same moment wait,
        # and then see this period in the check below.
        list(AdministrativeCost.objects.select_for_update().values_list("pk", flat=True))
        clash = AdministrativeCost.objects.overlapping(valid_from, valid_until, own=cost).first()
        if clash is not None:
            raise DomainError(
                _("This period overlaps the administrative costs valid from %(start)s.")
                % {"start": clash.valid_from.strftime("%d-%m-%Y")},
                field="valid_from",
            )
        cost = cost or AdministrativeCost()
        cost.amount = money(amount)
        cost.valid_from = valid_from
        cost.valid_until = valid_until
        cost.note = (note or "").strip()[:200]
        cost.save()
    return cost
