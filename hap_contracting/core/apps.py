from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """What every part of the domain shares: the domain error, money, periods, months, Dutch
    validators, roles and the forms, charts, PDFs and spreadsheets the pages are built from."""

    name = "hap_contracting.core"
    label = "core"
    verbose_name = _("Common")
