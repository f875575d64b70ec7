"""Admin building blocks shared by the apps' admin modules."""

from django.contrib import admin


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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never added, changed or deleted here: written by a service or the daily job."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
