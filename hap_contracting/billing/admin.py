from django.contrib import admin

from hap_contracting.core.forms import SavedByServiceAdminMixin, SavedByServiceForm

from .models import AdministrativeCost
from .services.costs import administrative_cost_save


class AdministrativeCostForm(SavedByServiceForm):
    """Periods of administrative costs may not overlap (``administrative_cost_save``)."""

    class Meta:
        model = AdministrativeCost
        fields = ("amount", "valid_from", "valid_until", "note")

    def save_through_service(self, cleaned: dict):
        return administrative_cost_save(
            amount=cleaned["amount"],
            valid_from=cleaned["valid_from"],
            valid_until=cleaned.get("valid_until"),
            cost=self.instance if self.instance.pk else None,
            note=cleaned.get("note", ""),
        )


@admin.register(AdministrativeCost)
class AdministrativeCostAdmin(SavedByServiceAdminMixin, admin.ModelAdmin):
    """Finance sets the administrative costs added once per invoice, per period."""

    form = AdministrativeCostForm

    list_display = ("amount", "valid_from", "valid_until", "note")
    date_hierarchy = "valid_from"

    def has_delete_permission(self, request, obj=None):
        return False
