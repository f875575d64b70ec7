from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    """Running the system: the daily job over the other apps, and the demo data."""

    name = "hap_contracting.operations"
    label = "operations"
    verbose_name = _("Operations")
