from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TriageConfig(AppConfig):
    name = "hap_contracting.triage"
    label = "triage"
    verbose_name = _("Triage filter list")
    default_auto_field = "django.db.models.BigAutoField"
