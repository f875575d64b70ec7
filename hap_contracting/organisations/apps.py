from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganisationsConfig(AppConfig):
    name = "hap_contracting.organisations"
    label = "organisations"
    verbose_name = _("Regions and care locations")
    default_auto_field = "django.db.models.BigAutoField"
