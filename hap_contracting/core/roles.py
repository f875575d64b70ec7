"""Roles are auth groups with these names; a user belongs to one region (DOMAIN: who and why)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SECRETARIAT = "secretariat", _("Regional secretariat")
    LOCATION_MANAGER = "location_manager", _("Location manager")
    PROGRAMME_MANAGER = "programme_manager", _("Programme manager elderly care")
    QUALITY_TEAM = "quality_team", _("Quality team")
    REGIONAL_COUNCIL = "regional_council", _("Regional council")
    FINANCE = "finance", _("Finance and control")
    ADMINISTRATOR = "administrator", _("Administrator")


# Roles that may see every region (DOMAIN: administrators and finance may see all).
ALL_REGION_ROLES = frozenset({Role.FINANCE, Role.ADMINISTRATOR})
# Roles that work in the Django admin.
ADMIN_SITE_ROLES = frozenset({Role.QUALITY_TEAM, Role.REGIONAL_COUNCIL, Role.ADMINISTRATOR})
