"""NEN 7513: administrators read who saw which patient-linked data; nobody adds, changes or
deletes an entry (the database refuses it too). The log names patients itself, so reading,
searching and every refused attempt are logged like any other read, and a search is sent by
POST (kept in the session, not in the URL), so that its term stays out of web-server logs."""

import secrets

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hap_contracting.core.admin import ReadOnlyAdmin

from .constants import AccessAction, AccessOutcome
from .models import AccessLogEntry, AccessLogReference
from .services import access_log_record, access_log_record_attempt, access_log_record_log_read

SEARCH_TOKEN = "s"
SESSION_SEARCHES = "audit_searches"
PATIENTS_PER_PAGE = 500


class SearchTokenChangeList(ChangeList):
    """The search is the session's term behind the ``s`` token, not a filter of the list."""

    def get_filters_params(self, params=None):
        params = super().get_filters_params(params)
        params.pop(SEARCH_TOKEN, None)
        return params


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "at",
        "user",
        "api_client",
        "action",
        "what",
        "outcome",
        "patients",
        "client_address",
    )
    list_filter = ("action", "outcome")
    list_select_related = ("user",)
    search_fields = (
        "user__username",
        "api_client",
        "patient_references",
        "what",
        "references__patient_reference",
    )
    date_hierarchy = "at"
    show_full_result_count = False
    change_list_template = "admin/audit/accesslogentry/change_list.html"
    fields = (
        "at",
        "user",
        "api_client",
        "roles",
        "action",
        "outcome",
        "what",
        "patients",
        "client_address",
        "user_agent",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(reference_rows=Count("references"))

    def get_changelist(self, request, **kwargs):
        return SearchTokenChangeList

    @admin.display(description=_("patients"))
    def patients(self, entry):
        count = entry.reference_rows or len(
            [name for name in entry.patient_references.split(", ") if name]
        )
        if not count:
            return "—"
        url = reverse("admin:audit_accesslogentry_patients", args=[entry.pk])
        return format_html('<a href="{}">{} {}</a>', url, count, gettext("patients"))

    def get_urls(self):
        return [
            path(
                "<int:pk>/patienten/",
                self.admin_site.admin_view(self.patients_view),
                name="audit_accesslogentry_patients",
            ),
            *super().get_urls(),
        ]

    # --- Search by POST --------------------------------------------------------------------

    def _search_term(self, request) -> str:
        return request.session.get(SESSION_SEARCHES, {}).get(request.GET.get(SEARCH_TOKEN, ""), "")

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, self._search_term(request))

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            access_log_record_attempt(
                user=request.user, what=gettext("access log"), outcome=AccessOutcome.REFUSED
            )
            raise PermissionDenied
        if request.method == "POST" and "q" in request.POST:
            token = secrets.token_urlsafe(9)
            searches = request.session.get(SESSION_SEARCHES, {})
            searches[token] = request.POST["q"].strip()[:200]
            request.session[SESSION_SEARCHES] = dict(list(searches.items())[-20:])
            return redirect(f"{request.path}?{SEARCH_TOKEN}={token}")
        term = self._search_term(request)
        response = super().changelist_view(
            request, {**(extra_context or {}), "audit_search_term": term}
        )
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            access_log_record_log_read(
                user=request.user,
                entry_ids=[entry.pk for entry in changelist.result_list],
                search=term,
            )
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            access_log_record_attempt(
                user=request.user,
                what=gettext("access log entry %(pk)s") % {"pk": object_id},
                outcome=AccessOutcome.REFUSED,
            )
            raise PermissionDenied
        response = super().change_view(request, object_id, form_url, extra_context)
        original = getattr(response, "context_data", {}).get("original")
        if original is not None:
            access_log_record(
                user=request.user,
                action=AccessAction.VIEW,
                what=gettext("access log entry %(pk)s") % {"pk": original.pk},
            )
        return response

    def patients_view(self, request, pk: int):
        """Every patient an entry names, a page at a time (an export can name a million)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        entry = get_object_or_404(AccessLogEntry, pk=pk)
        references = AccessLogReference.objects.filter(entry=entry).order_by("patient_reference")
        names = (
            references.values_list("patient_reference", flat=True)
            if references.exists()
            else [name for name in entry.patient_references.split(", ") if name]
        )
        page = Paginator(names, PATIENTS_PER_PAGE).get_page(request.GET.get("page"))
        access_log_record(
            user=request.user,
            action=AccessAction.VIEW,
            what=gettext("patients of access log entry %(pk)s, page %(page)s")
            % {"pk": entry.pk, "page": page.number},
            patient_references=list(page.object_list),
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": entry,
            "title": gettext("Patients of access log entry %(pk)s") % {"pk": entry.pk},
            "page": page,
        }
        return TemplateResponse(request, "admin/audit/accesslogentry/patients.html", context)
