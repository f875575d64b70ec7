from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HapContractingConfig(AppConfig):
    name = "hap_contracting"
    verbose_name = _("ANW contracting")
    default_auto_field = "django.db.models.BigAutoField"
