"""The register for the quality team, the council and administrators, read-only: every change
of a contract goes through a service that writes its history (the app's contract page). The
reminders the daily job wrote, for administrators."""

from dateutil.relativedelta import relativedelta
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from hap_contracting.core.admin import ReadOnlyAdmin, ReadOnlyInlineMixin
from hap_contracting.core.months import parse_month

from .constants import ContractStatus
from .models import Breach, Contract, ContractDocument, ContractEvent, ContractRate, Reminder
from .selectors import contracts_visible_to, expiry_months


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
        url = reverse("contracts:contract_document", args=[obj.contract_id, obj.pk])
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
            month = parse_month(self.value() or "")
        except ValueError:
            return queryset
        return queryset.filter(end_date__gte=month, end_date__lt=month + relativedelta(months=1))


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdmin):
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
        return contracts_visible_to(request.user).with_status(timezone.localdate())


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ("kind", "step", "due_on", "subject", "sent_at", "recipients", "last_error")
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
