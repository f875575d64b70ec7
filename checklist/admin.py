"""Administrators maintain the checklist versions. A version that assessments use is frozen:
a change (another knock-out item, new wording) is made in a new version."""

import datetime

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hap_contracting.core.errors import DomainError

from .models import ChecklistItem, ChecklistSection, ChecklistTemplate
from .services import checklist_template_new_version


def _in_use(template: ChecklistTemplate | None) -> bool:
    return template is not None and template.assessments.exists()


class ChecklistSectionInline(admin.TabularInline):
    model = ChecklistSection
    extra = 0
    fields = ("order", "title", "guidance")
    show_change_link = True

    def has_change_permission(self, request, obj=None):
        return not _in_use(obj) and super().has_change_permission(request, obj)

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


class ChecklistItemInline(admin.StackedInline):
    model = ChecklistItem
    extra = 0
    fields = (
        ("order", "code", "kind"),
        "question",
        "help_text",
        ("is_knock_out", "applies"),
        ("choices", "passing_choices"),
    )

    def has_change_permission(self, request, obj=None):
        return not _in_use(obj.template if obj else None) and super().has_change_permission(
            request, obj
        )

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "version", "effective_from", "revised_on", "owner")
    inlines = (ChecklistSectionInline,)
    actions = ("make_new_version",)

    def has_change_permission(self, request, obj=None):
        return not _in_use(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _in_use(obj) and super().has_delete_permission(request, obj)

    @admin.action(description=_("Make a new version (to edit)"))
    def make_new_version(self, request, queryset):
        for template in queryset:
            major, _sep, minor = template.version.partition(".")
            version = f"{major}.{int(minor or 0) + 1}"
            try:
                new = checklist_template_new_version(
                    template=template,
                    version=version,
                    effective_from=timezone.localdate() + datetime.timedelta(days=1),
                )
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(
                    request, gettext("Version %(version)s made.") % {"version": new.version}
                )


@admin.register(ChecklistSection)
class ChecklistSectionAdmin(admin.ModelAdmin):
    list_display = ("title", "template", "order")
    list_filter = ("template",)
    list_select_related = ("template",)
    inlines = (ChecklistItemInline,)

    def has_change_permission(self, request, obj=None):
        return not _in_use(obj.template if obj else None) and super().has_change_permission(
            request, obj
        )

    def has_delete_permission(self, request, obj=None):
        return not _in_use(obj.template if obj else None) and super().has_delete_permission(
            request, obj
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "template":
            # A section is added only to a version no assessment uses yet.
            kwargs["queryset"] = ChecklistTemplate.objects.filter(assessments__isnull=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request):
        return False
