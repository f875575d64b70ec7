"""Users in the admin. Only a superuser grants staff or superuser status, or changes a superuser;
every change of a user's rights (roles, staff, superuser, active, two-factor device) is kept in
an append-only trail that administrators read."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin as OtpTOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from hap_contracting.core import listing
from hap_contracting.core.admin import ReadOnlyAdmin

from .models import User, UserChange
from .selectors import user_rights
from .services import user_rights_record

# What only a superuser may set.
SUPERUSER_ONLY_FIELDS = ("is_staff", "is_superuser", "user_permissions")


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
    # As many rows as the app's own lists: Django's default of 100 doubled the page's drawing.
    list_per_page = listing.PAGE_SIZE
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Region"), {"fields": ("region",)}),
    )

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if not request.user.is_superuser:
            readonly = (*readonly, *SUPERUSER_ONLY_FIELDS)
        return readonly

    def has_change_permission(self, request, obj=None):
        # An administrator who could change a superuser (its password, its e-mail for a reset)
        # could become one.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Users are deactivated, never deleted: the history names who took each step (deleting
        # would blank it, and on PostgreSQL the history's trigger refuses that anyway).
        return False

    def save_model(self, request, obj, form, change):
        form.rights_before = user_rights(obj.pk)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user_rights_record(user=form.instance, by=request.user, before=form.rights_before)


@admin.register(UserChange)
class UserChangeAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "field", "before", "after", "by")
    list_filter = ("field",)
    list_select_related = ("user", "by")
    search_fields = ("user__username", "user__last_name")
    date_hierarchy = "at"
    show_full_result_count = False


admin.site.unregister(TOTPDevice)
# Roles are groups with fixed names, given on the user's page. A group's own permissions would
# grant model rights beside the rules (rules.py) that decide who does what: not edited here.
admin.site.unregister(Group)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(OtpTOTPDeviceAdmin):
    """A device an administrator adds, confirms or deletes (a lost phone) is in the trail."""

    def save_model(self, request, obj, form, change):
        before = user_rights(obj.user_id)
        super().save_model(request, obj, form, change)
        user_rights_record(user=obj.user, by=request.user, before=before)

    def delete_model(self, request, obj):
        before = user_rights(obj.user_id)
        super().delete_model(request, obj)
        user_rights_record(user=obj.user, by=request.user, before=before)

    def delete_queryset(self, request, queryset):
        befores = {device.user: user_rights(device.user_id) for device in queryset}
        super().delete_queryset(request, queryset)
        for user, before in befores.items():
            user_rights_record(user=user, by=request.user, before=before)
