"""Administrators maintain the regions, posts, organisations and locations; the quality team
and the council read organisations and their region's locations. A location is saved through
the same service as the app's form, so its region and post follow from its postcode."""

from django.contrib import admin
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from hap_contracting.core.forms import SavedByServiceAdminMixin, SavedByServiceForm

from .forms import CareLocationForm
from .models import CareLocation, CareOrganisation, HapPost, PostcodeRange, Region, TargetGroup
from .selectors import classification_history, locations_visible_to
from .services import (
    LOCATION_FIELDS,
    ORGANISATION_FIELDS,
    care_location_change,
    care_location_register,
    care_organisation_save,
)


class PostcodeRangeInline(admin.TabularInline):
    model = PostcodeRange
    extra = 0


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(HapPost)
class HapPostAdmin(admin.ModelAdmin):
    list_display = ("name", "city", "region")
    list_filter = ("region",)
    list_select_related = ("region",)
    inlines = (PostcodeRangeInline,)


class CareOrganisationAdminForm(SavedByServiceForm):
    """Saved through ``care_organisation_save``: the invoice address is checked as a whole."""

    class Meta:
        model = CareOrganisation
        fields = ORGANISATION_FIELDS

    def save_through_service(self, cleaned: dict):
        fields = {name: cleaned.get(name) or "" for name in ORGANISATION_FIELDS}
        return care_organisation_save(
            organisation=self.instance if self.instance.pk else None, **fields
        )


@admin.register(CareOrganisation)
class CareOrganisationAdmin(SavedByServiceAdminMixin, admin.ModelAdmin):
    form = CareOrganisationAdminForm
    fieldsets = (
        (None, {"fields": ORGANISATION_FIELDS[:6]}),
        (_("Invoices"), {"fields": ORGANISATION_FIELDS[6:]}),
    )
    list_display = ("name", "kvk_number", "agb_code", "organisation_type")
    list_filter = ("organisation_type",)
    search_fields = ("name", "kvk_number", "agb_code")


class CareLocationAdminForm(SavedByServiceForm):
    # The admin sets the user of the request on the form class it makes for that request.
    user = None
    # The Wkkgz facts as in the app's form (a choice, "not yet known" when not posted).
    housing_and_care = CareLocationForm.base_fields["housing_and_care"]
    pgb_without_zorgkantoor_contract = CareLocationForm.base_fields[
        "pgb_without_zorgkantoor_contract"
    ]

    class Meta:
        model = CareLocation
        fields = (*LOCATION_FIELDS, "target_groups")

    def save_through_service(self, cleaned: dict):
        fields = {name: cleaned.get(name) for name in LOCATION_FIELDS}
        fields["house_number_addition"] = fields["house_number_addition"] or ""
        target_groups = cleaned.get("target_groups")
        if self.instance.pk:
            return care_location_change(
                location=self.instance, by=self.user, target_groups=target_groups, **fields
            )
        return care_location_register(by=self.user, target_groups=target_groups or (), **fields)


@admin.register(CareLocation)
class CareLocationAdmin(SavedByServiceAdminMixin, admin.ModelAdmin):
    form = CareLocationAdminForm
    list_display = (
        "name",
        "organisation",
        "postcode",
        "city",
        "region",
        "hap_post",
        "wlz_treatment_admission",
        "wkkgz_situation",
    )
    list_filter = (
        "region",
        "hap_post",
        "wlz_treatment_admission",
        "wkkgz_situation",
        "target_groups",
    )
    list_select_related = ("organisation", "region", "hap_post")
    search_fields = ("name", "postcode", "city", "street")
    readonly_fields = ("region", "hap_post", "wkkgz_situation", "history_of_classification")
    filter_horizontal = ("target_groups",)

    @admin.display(description=_("classification history"))
    def history_of_classification(self, obj):
        """Read-only (the service writes it); not an inline, so the form posts no formset."""
        if obj is None or obj.pk is None:
            return "—"
        rows = format_html_join(
            "",
            "<li>{}: {} → {} ({}; {})</li>",
            (
                (
                    date_format(localtime(change.at), "j F Y H:i"),
                    change.get_old_situation_display() or _("(registered)"),
                    change.get_new_situation_display(),
                    ", ".join(str(label) for label in change.changed_fact_labels),
                    change.by.get_full_name() if change.by else "—",
                )
                for change in classification_history(obj)
            ),
        )
        return format_html("<ul>{}</ul>", rows) if rows else "—"

    def get_queryset(self, request):
        return locations_visible_to(request.user)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})


@admin.register(TargetGroup)
class TargetGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "is_special")
