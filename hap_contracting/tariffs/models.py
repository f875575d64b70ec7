"""The post's billable acts and the tariffs agreed with the insurer for them (seed 004, 7.2).

One rule lives here for contracts and billing alike: for Wlz with treatment, the HAP charges
at least twice the insurer tariff valid on the day (``twice_the_tariff``).
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hap_contracting.core.money import money
from hap_contracting.core.periods import PeriodQuerySet, period_not_reversed

# Seed 004, 7.2: "De ondergrens hiervoor is 2* afgesproken tarief van de verrichtingen"; F&C
# charges uncontracted care "2 × het tarief van de verrichting".
WITH_TREATMENT_FACTOR = Decimal(2)


def twice_the_tariff(amount: Decimal) -> Decimal:
    return money(amount * WITH_TREATMENT_FACTOR)


class Act(models.Model):
    """A billable act of the post (*verrichting*): consult, visit, telephone consult, …"""

    code = models.CharField(_("act code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = _("act")
        verbose_name_plural = _("acts")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class InsurerTariff(models.Model):
    """The tariff agreed with the insurer for an act, for a period. Finance maintains it; periods
    of one act never overlap (``services.insurer_tariff_save`` checks, under a lock)."""

    act = models.ForeignKey(Act, on_delete=models.PROTECT, related_name="tariffs")
    amount = models.DecimalField(_("tariff"), max_digits=9, decimal_places=2)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(
        _("valid until"), null=True, blank=True, help_text=_("Empty: valid until further notice.")
    )
    note = models.CharField(
        _("note"), max_length=200, blank=True, help_text=_("E.g. the source of the amount.")
    )

    objects = PeriodQuerySet.as_manager()

    class Meta:
        ordering = ["act__code", "-valid_from"]
        verbose_name = _("insurer tariff")
        verbose_name_plural = _("insurer tariffs")
        constraints = [
            period_not_reversed("insurer_tariff_period_not_reversed"),
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="insurer_tariff_amount_positive",
                violation_error_message=_("The tariff must be more than zero."),
            ),
        ]

    def __str__(self) -> str:
        until = self.valid_until.isoformat() if self.valid_until else "…"
        return f"{self.act.code} € {self.amount} ({self.valid_from.isoformat()} – {until})"
