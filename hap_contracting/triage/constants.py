from django.db import models
from django.utils.translation import gettext_lazy as _


class TriageFilterReason(models.TextChoices):
    GRACE_PERIOD_ENDED = "grace_period_ended", _("Grace period ended without a contract")
    BILLED_WITHOUT_CONTRACT = (
        "billed_without_contract",
        _("Billed for care without a contract (Wlz with treatment)"),
    )


class TriageVerdict(models.TextChoices):
    CONTRACTED = "contracted", _("Contracted")
    NO_CARE_WITHOUT_AGREEMENT = (
        "no_anw_care_without_agreement",
        _("No ANW care without agreement: refer to the institution's own physician"),
    )
    UNKNOWN = "unknown", _("Unknown")


class TriageListChangeKind(models.TextChoices):
    ADDED = "added", _("Added to the list")
    REMOVED = "removed", _("Taken off the list")
