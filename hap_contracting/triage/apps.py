from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TriageConfig(AppConfig):
    name = "hap_contracting.triage"
    label = "triage"
    verbose_name = _("Triage filter list")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hap_contracting.core.derived import register_refresh

        from .services import triage_verdicts_refresh

        # Contracts and locations change below this app; their services ask for this by name.
        register_refresh("triage.verdicts", triage_verdicts_refresh)
