"""The quality team and the council work here: their region's requests, read-only, with the
actions of their step. The actions call the same services as the app's own pages."""

import datetime

from dateutil.relativedelta import relativedelta
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.contenttypes.admin import GenericTabularInline
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from checklist.selectors import assessment_views

from .actions import ACTIONS, available_actions
from .constants import AccessAction, ContractStatus, Role
from .errors import DomainError
from .models import (
    AccessLogEntry,
    Act,
    AdministrativeCost,
    AdmissionRequest,
    Advice,
    Breach,
    CareLocation,
    CareOrganisation,
    Contract,
    ContractDocument,
    ContractEvent,
    ContractRate,
    HapPost,
    InsurerTariff,
    PostcodeRange,
    Region,
    Reminder,
    TargetGroup,
    TransitionLog,
    TriageFilterEntry,
    User,
)
from .selectors.admission import admission_requests_visible_to, waiting_for_user_filter
from .selectors.contracts import contracts_visible_to, expiry_months
from .services.access_log import access_log_record
from .services.billing import administrative_cost_save
from .services.contracts import insurer_tariff_save


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
    """The quality team and the council open the list on the requests waiting for them; "all"
    shows the rest of their region's requests."""

    title = _("waiting")
    parameter_name = "waiting"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        takes_a_step = bool(request.user.role_names & {Role.QUALITY_TEAM, Role.REGIONAL_COUNCIL})
        self.default = "me" if takes_a_step else "all"

    def lookups(self, request, model_admin):
        return [("me", _("Waiting for me")), ("all", _("All requests"))]

    def choices(self, changelist):
        current = self.value() or self.default
        for value, title in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if (self.value() or self.default) == "me":
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
        "grace_ends_on",
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

    def has_delete_permission(self, request, obj=None):
        # Users are deactivated, never deleted: the history names who took each step (deleting
        # would blank it, and on PostgreSQL the history's trigger refuses that anyway).
        return False


# --- Contracts ----------------------------------------------------------------------------------


class ContractRateInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = ContractRate
    fields = ("act", "amount")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("act")


class ContractDocumentInline(ReadOnlyInlineMixin, admin.TabularInline):
    """The file is reached through the app's permission-checked view, never a media URL."""

    model = ContractDocument
    fields = ("version", "download", "note", "uploaded_by", "uploaded_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")

    @admin.display(description=_("file"))
    def download(self, obj):
        url = reverse("hap_contracting:contract_document", args=[obj.contract_id, obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.original_name)


class BreachInline(ReadOnlyInlineMixin, admin.StackedInline):
    model = Breach
    fields = (
        "observed_on",
        "agreement",
        "description",
        "escalation_step",
        "recorded_by",
        "action_list",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("recorded_by").prefetch_related("actions")
        )

    @admin.display(description=_("actions"))
    def action_list(self, obj):
        rows = [
            (
                action.get_kind_display(),
                action.description,
                action.deadline.strftime("%d-%m-%Y") if action.deadline else "—",
                action.completed_on.strftime("%d-%m-%Y") if action.completed_on else "—",
            )
            for action in obj.actions.all()
        ]
        if not rows:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>{}: {} ({} → {})</li>", rows),
        )


class ContractEventInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = ContractEvent
    fields = ("at", "kind", "by", "description")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


class ContractStatusFilter(admin.SimpleListFilter):
    """The status is derived from the dates (``ContractQuerySet.with_status``), not stored."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return ContractStatus.choices

    def queryset(self, request, queryset):
        if self.value() in ContractStatus.values:
            return queryset.filter(status=self.value())
        return queryset


class ExpiryMonthFilter(admin.SimpleListFilter):
    title = _("ends in")
    parameter_name = "ends"

    def lookups(self, request, model_admin):
        return [
            (month.strftime("%Y-%m"), date_format(month, "F Y"))
            for month in expiry_months(timezone.localdate())
        ]

    def queryset(self, request, queryset):
        try:
            year, number = (int(part) for part in (self.value() or "").split("-"))
            month = datetime.date(year, number, 1)
        except ValueError:
            return queryset
        return queryset.filter(end_date__gte=month, end_date__lt=month + relativedelta(months=1))


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    """The register for the quality team, the council and administrators: read-only, because
    every change of a contract goes through a service that writes its history (the app's
    contract page); scoped to the user's region like the requests."""

    list_display = (
        "reference",
        "organisation",
        "location",
        "region",
        "kind",
        "start_date",
        "end_date",
        "status_label",
    )
    list_filter = (ContractStatusFilter, ExpiryMonthFilter, "kind", "region")
    list_select_related = ("organisation", "location", "region")
    search_fields = ("organisation__name", "location__name", "location__city")
    show_full_result_count = False
    ordering = ("end_date", "pk")
    inlines = (ContractRateInline, ContractDocumentInline, BreachInline, ContractEventInline)
    fields = (
        "organisation",
        "location",
        "other_locations",
        "region",
        "kind",
        "start_date",
        "end_date",
        "status_label",
        "terminated_on",
        "termination_reason",
        "admission_request",
        "previous_contract",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=_("contract"), ordering="pk")
    def reference(self, obj):
        return obj.reference

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, obj):
        return ContractStatus(obj.status).label

    def get_queryset(self, request):
        scope = (
            Contract.objects.all()
            if request.user.is_superuser
            else contracts_visible_to(request.user)
        )
        return scope.with_status(timezone.localdate())

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SavedByServiceForm(forms.ModelForm):
    """Saves through a service while the form validates, so the service's check (under its
    lock) shows its message on the field it names. The admin's change view runs in one
    transaction, so nothing is kept when a later step fails; ``save_model`` then has nothing
    left to do."""

    def save_through_service(self, cleaned: dict):
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            saved = self.save_through_service(cleaned)
        except DomainError as error:
            field = error.field if error.field in self.fields else None
            self.add_error(field, error.message)
        else:
            self.instance = saved
        return cleaned


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
class InsurerTariffAdmin(admin.ModelAdmin):
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

    def save_model(self, request, obj, form, change):
        """Nothing left to do: the service saved the period in ``form.clean``."""

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


class AdministratorsReadOnlyAdmin(admin.ModelAdmin):
    """Written by the daily job only; administrators look (``rules.py``), nobody edits."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Reminder)
class ReminderAdmin(AdministratorsReadOnlyAdmin):
    list_display = ("kind", "due_on", "subject", "sent_at", "recipients", "last_error")
    list_filter = (
        "kind",
        ("sent_at", admin.EmptyFieldListFilter),
        ("last_error", admin.EmptyFieldListFilter),
    )
    list_select_related = (
        "contract__location",
        "admission_request__location",
        "breach_action__breach__contract",
    )
    show_full_result_count = False
    date_hierarchy = "due_on"

    @admin.display(description=_("about"))
    def subject(self, obj):
        if obj.contract_id:
            return f"{obj.contract.reference} {obj.contract.location.name}"
        if obj.admission_request_id:
            request = obj.admission_request
            return f"{request.reference} {request.location.name}"
        return f"{obj.breach_action.breach.contract.reference}: {obj.breach_action}"


@admin.register(TriageFilterEntry)
class TriageFilterEntryAdmin(AdministratorsReadOnlyAdmin):
    list_display = ("location", "reason", "listed_on", "delisted_on", "delisted_because")
    list_filter = ("reason", ("delisted_on", admin.EmptyFieldListFilter))
    list_select_related = ("location",)
    search_fields = ("location__name", "location__postcode", "location__street")
    show_full_result_count = False


# --- Billing (added with the billing pages) -------------------------------------------------


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(admin.ModelAdmin):
    """NEN 7513: administrators read who saw which claim data; nobody adds, changes or deletes
    (on PostgreSQL a trigger refuses UPDATE and DELETE as well)."""

    list_display = ("at", "user", "roles", "action", "what", "patient_references")
    list_filter = ("action",)
    list_select_related = ("user",)
    search_fields = (
        "user__username",
        "patient_references",
        "what",
        "references__patient_reference",
    )
    date_hierarchy = "at"
    show_full_result_count = False
    readonly_fields = ("at", "user", "roles", "action", "what", "patient_references")

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            # The log names patients too: reading or searching it is logged like any other read.
            access_log_record_list(request.user, changelist)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        original = getattr(response, "context_data", {}).get("original")
        if original is not None:
            access_log_record(
                user=request.user,
                action=AccessAction.VIEW,
                what=gettext("access log entry %(pk)s") % {"pk": original.pk},
            )
        return response

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def access_log_record_list(user, changelist) -> None:
    """The entries shown are named by number, not by the patients in them: entries never change,
    so the numbers determine what was seen, and a log read does not copy (and so multiply) the
    patient references of earlier log reads."""
    search = changelist.query.strip()
    shown = [entry.pk for entry in changelist.result_list]
    entries = (
        gettext("entries %(first)s–%(last)s") % {"first": min(shown), "last": max(shown)}
        if shown
        else gettext("no entries")
    )
    what = (
        gettext("access log, search %(search)s: %(entries)s")
        % {"search": search, "entries": entries}
        if search
        else gettext("access log: %(entries)s") % {"entries": entries}
    )
    access_log_record(
        user=user, action=AccessAction.SEARCH if search else AccessAction.VIEW, what=what
    )


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
class AdministrativeCostAdmin(admin.ModelAdmin):
    """Finance sets the administrative costs added once per invoice, per period."""

    form = AdministrativeCostForm

    list_display = ("amount", "valid_from", "valid_until", "note")
    date_hierarchy = "valid_from"

    def save_model(self, request, obj, form, change):
        """Nothing left to do: the service saved the period in ``form.clean``."""

    def has_delete_permission(self, request, obj=None):
        return False
