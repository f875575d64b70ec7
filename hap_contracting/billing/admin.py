from django.contrib import admin

from hap_contracting.core.forms import SavedByServiceAdminMixin, SavedByServiceForm

from .models import AdministrativeCost, BillableReasonCode
from .services.costs import administrative_cost_save
from .services.reason_codes import billable_reason_code_save


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


class BillableReasonCodeForm(SavedByServiceForm):
    class Meta:
        model = BillableReasonCode
        fields = ("code", "description", "is_example")

    def save_through_service(self, cleaned: dict):
        return billable_reason_code_save(
            code=cleaned["code"],
            description=cleaned.get("description", ""),
            is_example=cleaned.get("is_example", False),
            reason_code=self.instance if self.instance.pk else None,
        )


@admin.register(BillableReasonCode)
class BillableReasonCodeAdmin(SavedByServiceAdminMixin, admin.ModelAdmin):
    """Finance keeps the insurer's reason codes that mean "Wlz indication with treatment": a
    claim with another code is imported but not billed (the import's summary says so)."""

    form = BillableReasonCodeForm

    list_display = ("code", "description", "is_example")
    list_filter = ("is_example",)
    search_fields = ("code", "description")
