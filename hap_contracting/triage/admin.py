from django.contrib import admin

from hap_contracting.core.admin import ReadOnlyAdmin

from .models import TriageFilterEntry


@admin.register(TriageFilterEntry)
class TriageFilterEntryAdmin(ReadOnlyAdmin):
    list_display = ("location", "reason", "listed_on", "delisted_on", "delisted_because")
    list_filter = ("reason", ("delisted_on", admin.EmptyFieldListFilter))
    list_select_related = ("location",)
    search_fields = ("location__name", "location__postcode", "location__street")
    show_full_result_count = False
