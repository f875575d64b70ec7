from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from hap_contracting.core.admin import ReadOnlyAdmin

from .models import TriageApiClient, TriageFilterEntry


@admin.register(TriageFilterEntry)
class TriageFilterEntryAdmin(ReadOnlyAdmin):
    list_display = ("location", "reason", "listed_on", "delisted_on", "delisted_because")
    list_filter = ("reason", ("delisted_on", admin.EmptyFieldListFilter))
    list_select_related = ("location",)
    search_fields = ("location__name", "location__postcode", "location__street")
    show_full_result_count = False


@admin.register(TriageApiClient)
class TriageApiClientAdmin(ReadOnlyAdmin):
    """Which systems ask the API, and when each last synchronised the list (and to which
    version): a system far behind the list's version is not keeping its copy up to date.
    Clients are made and switched off with ``manage.py create_triage_client``."""

    list_display = (
        "name",
        "is_active",
        "last_used_at",
        "last_synced_at",
        "last_synced_version",
        "created_at",
    )
    list_filter = ("is_active",)
    fields = list_display
    readonly_fields = list_display
    empty_value_display = _("never")
