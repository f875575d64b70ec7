from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TariffsConfig(AppConfig):
    name = "hap_contracting.tariffs"
    label = "tariffs"
    verbose_name = _("Acts and insurer tariffs")
    default_auto_field = "django.db.models.BigAutoField"
