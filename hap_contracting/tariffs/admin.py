from django.contrib import admin

from hap_contracting.core.forms import SavedByServiceAdminMixin, SavedByServiceForm

from .models import Act, InsurerTariff
from .services import insurer_tariff_save


class InsurerTariffForm(SavedByServiceForm):
    """Tariff periods of one act may not overlap (``insurer_tariff_save``, under a lock on the
    act)."""

    class Meta:
        model = InsurerTariff
        fields = ("act", "amount", "valid_from", "valid_until", "note")

    def save_through_service(self, cleaned: dict):
        return insurer_tariff_save(
            act=cleaned["act"] if self.instance.pk is None else self.instance.act,
            amount=cleaned["amount"],
            valid_from=cleaned["valid_from"],
            valid_until=cleaned.get("valid_until"),
            tariff=self.instance if self.instance.pk else None,
            note=cleaned.get("note", ""),
        )


@admin.register(InsurerTariff)
class InsurerTariffAdmin(SavedByServiceAdminMixin, admin.ModelAdmin):
    """Finance maintains the tariffs the contracts' minimum rates are checked against."""

    form = InsurerTariffForm
    list_display = ("act", "amount", "valid_from", "valid_until", "note")
    list_filter = ("act",)
    list_select_related = ("act",)
    show_full_result_count = False
    date_hierarchy = "valid_from"

    def get_readonly_fields(self, request, obj=None):
        # A period belongs to its act; another act's tariff is a new row.
        return ("act",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Act)
class ActAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")

    def get_readonly_fields(self, request, obj=None):
        # Contracts and tariffs refer to the code.
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False
