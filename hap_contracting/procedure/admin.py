"""The quality team and the council work here: their region's requests, read-only, with the
actions of their step. The actions call the same services as the app's own pages."""

from django.contrib import admin, messages
from django.contrib.contenttypes.admin import GenericTabularInline
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from checklist.selectors import assessment_views
from hap_contracting.core import listing
from hap_contracting.core.admin import ReadOnlyAdmin, ReadOnlyInlineMixin
from hap_contracting.core.forms import SavedByServiceAdminMixin, SavedByServiceForm
from hap_contracting.core.roles import Role
from hap_contracting.core.scoping import scoped_to_region

from .actions import ACTIONS, available_actions
from .constants import LETTER_PLACEHOLDERS
from .models import (
    AdmissionRequest,
    Advice,
    ClockEvent,
    DecisionLetter,
    DecisionLetterTemplate,
    StepNorm,
    TransitionLog,
)
from .selectors.admission import (
    admission_requests_visible_to,
    advice_dossier,
    waiting_for_user_filter,
    who_acts_next,
)
from .selectors.letters import (
    council_has_decided,
    is_current_version,
    letter_templates_visible_to,
)
from .services.letters import decision_letter_template_save


class AdviceInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = Advice
    fields = (
        "step",
        "outcome",
        "motivation",
        "decided_on",
        "decided_by",
        "recorded_at",
        "checklist_version",
        "checklist_revision",
        "norm_days",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("decided_by")


class ClockEventInline(ReadOnlyInlineMixin, admin.TabularInline):
    """The request's deadline changes: suspensions, resumptions and extensions, with reasons."""

    model = ClockEvent
    fields = ("at", "by", "step", "kind", "days", "reason")
    readonly_fields = fields
    ordering = ("at", "pk")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


def _step_labels() -> dict[str, str]:
    """Transition name → the step's name as the pages call it (the action that takes it)."""
    labels = {name: action.label for action in ACTIONS.values() for name in action.transitions}
    labels["withdraw_by_requester"] = _("Withdrawn by the requester")
    return labels


class TransitionLogInline(ReadOnlyInlineMixin, GenericTabularInline):
    """The request's history in the office's words: Dutch headers and states, who by their full
    name, the time in Amsterdam to the minute."""

    model = TransitionLog
    fields = ("when", "who", "step", "from_state", "to_state", "motivation")
    readonly_fields = fields
    ordering = ("timestamp", "pk")
    verbose_name = _("history entry")
    verbose_name_plural = _("history")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by", "content_type")

    @admin.display(description=_("When"))
    def when(self, entry):
        return date_format(timezone.localtime(entry.timestamp), "j F Y H:i")

    @admin.display(description=_("Who"))
    def who(self, entry):
        if entry.by is None:
            return gettext("Requester")
        return entry.by.get_full_name() or entry.by.username

    @admin.display(description=_("Step"))
    def step(self, entry):
        return _step_labels().get(entry.transition, entry.transition)

    @admin.display(description=_("From"))
    def from_state(self, entry):
        return entry.get_source_state_display()

    @admin.display(description=_("To"))
    def to_state(self, entry):
        return entry.get_state_display()

    @admin.display(description=_("Motivation"))
    def motivation(self, entry):
        return entry.description


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
class AdmissionRequestAdmin(ReadOnlyAdmin):
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
    # As many rows as the app's own lists (``core.listing.PAGE_SIZE``): drawing the admin's
    # rows was half of the page's time at Django's default of 100.
    list_per_page = listing.PAGE_SIZE
    inlines = (AdviceInline, TransitionLogInline, ClockEventInline)
    change_form_template = "admin/procedure/admissionrequest/change_form.html"
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

    def get_urls(self):
        return [
            path(
                "<int:pk>/actie/<slug:action>/",
                self.admin_site.admin_view(self.action_view),
                name="procedure_admissionrequest_action",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # Here rather than in change_view: Django hands over the request it fetched, so it is
        # read once.
        context = {
            **context,
            "procedure_actions": available_actions(obj, request.user) if obj else [],
            "assessment_views": assessment_views(obj) if obj else [],
            "decision_letter_available": council_has_decided(obj) if obj else False,
        }
        return super().render_change_form(request, context, add, change, form_url, obj)

    def action_view(self, request, pk: int, action: str):
        admission_request = self.get_queryset(request).filter(pk=pk).first()
        step = ACTIONS.get(action)
        if admission_request is None or step is None or step.form_class is None:
            raise Http404
        if not self.has_view_permission(request, admission_request):
            raise PermissionDenied
        data = request.POST if request.method == "POST" else None
        result = step.take(admission_request, request.user, data)
        if result.taken:
            self.message_user(
                request,
                gettext("%(action)s: done. %(next)s")
                % {"action": step.label, "next": who_acts_next(admission_request)},
                messages.SUCCESS,
            )
            return redirect(reverse("admin:procedure_admissionrequest_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            **step.context(admission_request),
            "opts": self.model._meta,
            "original": admission_request,
            "title": f"{step.label}: {admission_request}",
            "form": result.form,
            "confirmation": result.confirmation,
            "action": step,
            "dossier": advice_dossier(admission_request),
        }
        return TemplateResponse(request, "admin/procedure/admissionrequest/action.html", context)


@admin.register(TransitionLog)
class TransitionLogAdmin(ReadOnlyAdmin):
    """The audit trail, for administrators: read-only for everyone, superusers included."""

    list_display = ("timestamp", "content_object", "transition", "source_state", "state", "by")
    list_filter = ("state", "transition")
    list_select_related = ("by", "content_type")
    search_fields = ("description",)

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and (
            request.user.is_superuser or request.user.has_role("administrator")
        )


class DecisionLetterTemplateForm(SavedByServiceForm):
    """Saving makes a new version (``decision_letter_template_save``), which checks the
    placeholders: an unknown one is named in the error and nothing is saved."""

    # The admin sets the user of the request on the form class it makes for that request.
    user = None

    class Meta:
        model = DecisionLetterTemplate
        fields = ("region", "outcome", "subject", "body")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = "; ".join(
            f"{{{{ {name} }}}}: {meaning}" for name, meaning in LETTER_PLACEHOLDERS.items()
        )
        for name in ("subject", "body"):
            if name in self.fields:
                self.fields[name].help_text = gettext(
                    "Only these placeholders are replaced: %(allowed)s."
                ) % {"allowed": allowed}
        if "region" in self.fields and self.user is not None and not self.user.sees_all_regions:
            self.fields["region"].queryset = scoped_to_region(
                self.fields["region"].queryset, self.user, "pk"
            )
            self.fields["region"].required = True

    def save_through_service(self, cleaned: dict):
        existing = self.instance if self.instance.pk else None
        return decision_letter_template_save(
            by=self.user,
            region=existing.region if existing else cleaned.get("region"),
            outcome=existing.outcome if existing else cleaned.get("outcome"),
            subject=cleaned.get("subject", ""),
            body=cleaned.get("body", ""),
        )


@admin.register(DecisionLetterTemplate)
class DecisionLetterTemplateAdmin(SavedByServiceAdminMixin, admin.ModelAdmin):
    """Administrators maintain the decision letters: a national default per outcome and, where a
    region wants its own, the region's. Saving the newest version makes the next one; earlier
    versions are shown, never changed or deleted (letters were made with them)."""

    form = DecisionLetterTemplateForm
    list_display = ("subject", "where", "outcome", "version", "in_force", "created_at")
    list_filter = ("outcome", "region")
    show_full_result_count = False

    @admin.display(description=_("region"), ordering="region__name")
    def where(self, obj):
        return obj.region.name if obj.region_id else gettext("national (default)")

    @admin.display(description=_("newest version"), boolean=True)
    def in_force(self, obj):
        return is_current_version(obj)

    def get_queryset(self, request):
        return letter_templates_visible_to(request.user)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def get_readonly_fields(self, request, obj=None):
        # A version belongs to its region and outcome; the next version keeps them.
        base = ("version", "created_by", "created_at")
        return ("region", "outcome", *base) if obj is not None else ()

    def has_change_permission(self, request, obj=None):
        if obj is not None and not is_current_version(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DecisionLetter)
class DecisionLetterAdmin(ReadOnlyAdmin):
    """The letters as they were made, with the template version each was made with."""

    list_display = ("subject", "admission_request", "outcome", "template", "letter_date")
    list_select_related = ("admission_request__location", "template__region")
    show_full_result_count = False
    fields = (
        "admission_request",
        "outcome",
        "template",
        "letter_date",
        "subject",
        "body",
        "made_by",
        "made_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return scoped_to_region(
            super().get_queryset(request), request.user, "admission_request__location__region_id"
        )


@admin.register(StepNorm)
class StepNormAdmin(admin.ModelAdmin):
    """Administrators keep the service norm of each step, nationally and per region. A change
    applies to every deadline computed from then on; an advice keeps the norm it was given
    under (``Advice.norm_days``)."""

    list_display = ("step", "region", "amount", "unit")
    list_filter = ("step", "region")
    ordering = ("region__name", "step")
