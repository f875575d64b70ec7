"""The quality team and the council work here: their region's requests, read-only, with the
actions of their step. The actions call the same services as the app's own pages."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.contenttypes.admin import GenericTabularInline
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from checklist.selectors import assessment_views

from .actions import ACTIONS, available_actions
from .errors import DomainError
from .models import (
    AdmissionRequest,
    Advice,
    CareLocation,
    CareOrganisation,
    HapPost,
    PostcodeRange,
    Region,
    TargetGroup,
    TransitionLog,
    User,
)
from .selectors.admission import admission_requests_visible_to, waiting_for_user_filter


class ReadOnlyInlineMixin:
    """History and advices are shown, never edited or deleted (see also the PostgreSQL trigger)."""

    can_delete = False
    extra = 0
    max_num = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return True


class AdviceInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = Advice
    fields = ("step", "outcome", "motivation", "decided_on", "decided_by", "recorded_at")
    readonly_fields = fields


class TransitionLogInline(ReadOnlyInlineMixin, GenericTabularInline):
    model = TransitionLog
    fields = ("timestamp", "by", "source_state", "state", "transition", "description")
    readonly_fields = fields
    ordering = ("timestamp",)
    verbose_name = _("history entry")
    verbose_name_plural = _("history")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by", "content_type")


class WaitingForMeFilter(admin.SimpleListFilter):
    title = _("waiting")
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return [("me", _("Waiting for me"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(waiting_for_user_filter(request.user))
        return queryset


@admin.register(AdmissionRequest)
class AdmissionRequestAdmin(admin.ModelAdmin):
    list_display = (
        "reference",
        "location_name",
        "region",
        "kind",
        "state",
        "state_entered_at",
        "assigned_location_manager",
    )
    list_filter = (WaitingForMeFilter, "state", "kind", "location__region")
    search_fields = ("location__name", "location__city", "location__postcode", "requester_name")
    list_select_related = ("location__region", "assigned_location_manager")
    # The queryset is already scoped to the region: a second, unfiltered count adds nothing.
    show_full_result_count = False
    inlines = (AdviceInline, TransitionLogInline)
    change_form_template = "admin/hap_contracting/admissionrequest/change_form.html"
    fields = (
        "location",
        "kind",
        "state",
        "state_entered_at",
        "requester_name",
        "requester_email",
        "requester_phone",
        "received_on",
        "notes",
        "assigned_location_manager",
        "outcome_notes",
        "completed_on",
    )
    readonly_fields = fields

    @admin.display(description=_("request"), ordering="pk")
    def reference(self, obj):
        return obj.reference

    @admin.display(description=_("care location"), ordering="location__name")
    def location_name(self, obj):
        return obj.location.name

    @admin.display(description=_("region"), ordering="location__region__name")
    def region(self, obj):
        return obj.location.region

    def get_queryset(self, request):
        return (
            admission_requests_visible_to(request.user)
            .select_related(None)
            .select_related("location__region", "assigned_location_manager")
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<int:pk>/actie/<slug:action>/",
                self.admin_site.admin_view(self.action_view),
                name="hap_contracting_admissionrequest_action",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "procedure_actions": available_actions(obj, request.user) if obj else [],
            "assessment_views": assessment_views(obj) if obj else [],
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def action_view(self, request, pk: int, action: str):
        admission_request = self.get_queryset(request).filter(pk=pk).first()
        step = ACTIONS.get(action)
        if admission_request is None or step is None:
            raise Http404
        if not self.has_view_permission(request, admission_request):
            raise PermissionDenied
        form = step.build_form(admission_request, request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                step.perform(admission_request, request.user, form.service_arguments())
            except DomainError as error:
                form.add_domain_error(error)
            else:
                self.message_user(
                    request,
                    gettext("%(action)s: saved.") % {"action": step.label},
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:hap_contracting_admissionrequest_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            **step.context(admission_request),
            "opts": self.model._meta,
            "original": admission_request,
            "title": f"{step.label}: {admission_request}",
            "form": form,
            "action": step,
        }
        return TemplateResponse(
            request, "admin/hap_contracting/admissionrequest/action.html", context
        )


@admin.register(TransitionLog)
class TransitionLogAdmin(admin.ModelAdmin):
    """The audit trail, for administrators: read-only for everyone, superusers included."""

    list_display = ("timestamp", "content_object", "transition", "source_state", "state", "by")
    list_filter = ("state", "transition")
    list_select_related = ("by", "content_type")
    search_fields = ("description",)

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and (
            request.user.is_superuser or request.user.has_role("administrator")
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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


@admin.register(CareOrganisation)
class CareOrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kvk_number", "agb_code", "organisation_type")
    list_filter = ("organisation_type",)
    search_fields = ("name", "kvk_number", "agb_code")


@admin.register(CareLocation)
class CareLocationAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "organisation",
        "postcode",
        "city",
        "region",
        "hap_post",
        "wlz_treatment_admission",
    )
    list_filter = ("region", "hap_post", "wlz_treatment_admission", "target_groups")
    list_select_related = ("organisation", "region", "hap_post")
    search_fields = ("name", "postcode", "city", "street")
    readonly_fields = ("region", "hap_post")

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.sees_all_regions or request.user.is_superuser:
            return queryset
        return queryset.filter(region_id=request.user.region_id)


@admin.register(TargetGroup)
class TargetGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "is_special")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = (
        "username",
        "first_name",
        "last_name",
        "email",
        "region",
        "is_staff",
        "is_active",
    )
    list_filter = ("region", "groups", "is_staff", "is_active")
    list_select_related = ("region",)
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Region"), {"fields": ("region",)}),
    )
