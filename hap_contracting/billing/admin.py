from django.contrib import admin
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from hap_contracting.core.forms import SavedByServiceAdminMixin, SavedByServiceForm

from .models import INVOICE_SENDER_PK, AdministrativeCost, BillableReasonCode, InvoiceSender
from .services.costs import administrative_cost_save
from .services.reason_codes import billable_reason_code_save
from .services.sender import SENDER_FIELDS, invoice_sender_save


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


class InvoiceSenderForm(SavedByServiceForm):
    """The IBAN, BIC, VAT number and postcodes are checked by ``invoice_sender_save``."""

    user = None  # set per request by the admin

    class Meta:
        model = InvoiceSender
        fields = SENDER_FIELDS

    def save_through_service(self, cleaned: dict):
        fields = {name: cleaned.get(name) for name in SENDER_FIELDS}
        fields = {
            name: "" if value is None and name != "logo" else value
            for name, value in fields.items()
        }
        if "logo" not in self.changed_data:
            fields["logo"] = None  # keep the logo there is
        return invoice_sender_save(by=self.user, **fields)


@admin.register(InvoiceSender)
class InvoiceSenderAdmin(SavedByServiceAdminMixin, admin.ModelAdmin):
    """One row: the list opens it (or the form to enter it the first time)."""

    form = InvoiceSenderForm
    fieldsets = (
        (None, {"fields": ("legal_name", "kvk_number", "vat_number", "vat_exemption_text")}),
        (
            _("Visiting address"),
            {"fields": ("visiting_address", "visiting_postcode", "visiting_city")},
        ),
        (_("Postal address"), {"fields": ("postal_address", "postal_postcode", "postal_city")}),
        (_("Payment"), {"fields": ("iban", "bic")}),
        (_("Questions"), {"fields": ("contact_name", "contact_email", "contact_phone")}),
        (None, {"fields": ("logo",)}),
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def changelist_view(self, request, extra_context=None):
        if InvoiceSender.objects.filter(pk=INVOICE_SENDER_PK).exists():
            return redirect("admin:billing_invoicesender_change", INVOICE_SENDER_PK)
        return redirect("admin:billing_invoicesender_add")

    def has_add_permission(self, request):
        exists = InvoiceSender.objects.filter(pk=INVOICE_SENDER_PK).exists()
        return not exists and super().has_add_permission(request)

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
