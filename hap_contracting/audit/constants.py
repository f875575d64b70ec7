from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessAction(models.TextChoices):
    IMPORT = "import", _("Import")
    VIEW = "view", _("View")
    SEARCH = "search", _("Search")
    EXPORT = "export", _("Export")


class AccessOutcome(models.TextChoices):
    SHOWN = "shown", _("Shown")
    REFUSED = "refused", _("Refused")
    NOT_FOUND = "not_found", _("Not found")
