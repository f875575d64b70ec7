from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    """Read-only pages over the other apps: "Mijn werk" and the regional dashboard."""

    name = "hap_contracting.dashboard"
    label = "dashboard"
    verbose_name = _("Dashboard")
