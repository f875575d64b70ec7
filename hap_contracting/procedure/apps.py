from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProcedureConfig(AppConfig):
    name = "hap_contracting.procedure"
    label = "procedure"
    verbose_name = _("Admission procedure")
    default_auto_field = "django.db.models.BigAutoField"
