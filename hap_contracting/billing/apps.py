from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "hap_contracting.billing"
    label = "billing"
    verbose_name = _("Billing uncontracted care")
    default_auto_field = "django.db.models.BigAutoField"
