import datetime

from .models import Act, InsurerTariff


def insurer_tariffs_on(day: datetime.date) -> dict[int, InsurerTariff]:
    """The tariff of every act valid on ``day``, by act id (one query)."""
    return {
        tariff.act_id: tariff
        for tariff in InsurerTariff.objects.valid_on(day).select_related("act")
    }


def insurer_tariff_amount_on(act, day):
    """Subquery: the amount of the insurer tariff of ``act`` valid on ``day`` (expressions,
    e.g. ``OuterRef("act_id")`` and ``OuterRef("care_on")``)."""
    return InsurerTariff.objects.filter(act=act).valid_on(day).values("amount")[:1]


def acts():
    return Act.objects.order_by("code")


def acts_without_tariff_on(day: datetime.date):
    """The acts that have no insurer tariff valid on ``day`` (billing care on that day would
    find none)."""
    return Act.objects.exclude(pk__in=InsurerTariff.objects.valid_on(day).values("act_id"))
