from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import User


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
