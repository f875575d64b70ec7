from django.contrib import admin
from django.utils.translation import gettext

from hap_contracting.core.admin import ReadOnlyAdmin

from .constants import AccessAction
from .models import AccessLogEntry
from .services import access_log_record, access_log_record_log_read


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(ReadOnlyAdmin):
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
            access_log_record_log_read(
                user=request.user,
                entry_ids=[entry.pk for entry in changelist.result_list],
                search=changelist.query.strip(),
            )
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
