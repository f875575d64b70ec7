from decimal import Decimal

from hap_contracting.tariffs.models import Act, InsurerTariff

EXAMPLE_TARIFFS = {
    "CONSULT": Decimal("52.40"),
    "VISITE": Decimal("78.60"),
    "TELEFOON": Decimal("26.20"),
}


def insurer_tariffs(valid_from, valid_until=None, amounts=None) -> dict[str, InsurerTariff]:
    """Insurer tariffs of the standard acts for one period."""
    return {
        code: InsurerTariff.objects.create(
            act=Act.objects.get(code=code),
            amount=amount,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        for code, amount in (amounts or EXAMPLE_TARIFFS).items()
    }
