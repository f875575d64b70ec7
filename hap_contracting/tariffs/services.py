"""Finance keeps the insurer tariffs the contracts' minimum rates and the invoices are based on."""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from hap_contracting.core.errors import DomainError
from hap_contracting.core.money import money
from hap_contracting.core.periods import period_check

from .models import Act, InsurerTariff


def insurer_tariff_save(
    *,
    act: Act,
    amount: Decimal,
    valid_from: datetime.date,
    valid_until: datetime.date | None,
    tariff: InsurerTariff | None = None,
    note: str = "",
) -> InsurerTariff:
    """Create or change a tariff period; periods of one act may not overlap."""
    if amount is None or amount <= 0:
        raise DomainError(_("The tariff must be more than zero."), field="amount")
    period_check(valid_from, valid_until)
    with transaction.atomic():
        # Locking the act serialises everyone saving a period of this act, so two overlapping
        # periods can't both pass the check below.
        Act.objects.select_for_update().get(pk=act.pk)
        clash = (
            InsurerTariff.objects.filter(act=act)
            .overlapping(valid_from, valid_until, own=tariff)
            .first()
        )
        if clash is not None:
            raise DomainError(
                _("This period overlaps the tariff of %(act)s valid from %(start)s.")
                % {"act": act.name, "start": clash.valid_from.strftime("%d-%m-%Y")},
                field="valid_from",
            )
        tariff = tariff or InsurerTariff(act=act)
        tariff.amount = money(amount)
        tariff.valid_from = valid_from
        tariff.valid_until = valid_until
        tariff.note = (note or "").strip()[:200]
        tariff.save()
    return tariff
