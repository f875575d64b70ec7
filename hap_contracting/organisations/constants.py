from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationType(models.TextChoices):
    """Seed 000's four kinds of residential care arrangement (Wkkgz question)."""

    WLZ_INSTITUTION = "wlz_institution", _("Wlz institution (stay with treatment contracted)")
    HOUSING_WITH_CARE = "housing_with_care", _("Housing and care combined, care dominant")
    HOUSING_SEPARATE = "housing_separate", _("Housing and care separate (home-care provider)")
    PGB_INITIATIVE = "pgb_initiative", _("PGB-based initiative without zorgkantoor contract")


class CareProfile(models.IntegerChoices):
    VV1 = 1, "VV1"
    VV2 = 2, "VV2"
    VV3 = 3, "VV3"
    VV4 = 4, "VV4"
    VV5 = 5, "VV5"
    VV6 = 6, "VV6"
    VV7 = 7, "VV7"
    VV8 = 8, "VV8"
    VV9 = 9, "VV9"
    VV10 = 10, "VV10"


class Answer(models.TextChoices):
    """A fact about a location that may not be known yet."""

    UNKNOWN = "unknown", _("Not yet known")
    YES = "yes", _("Yes")
    NO = "no", _("No")


class HousingAndCare(models.TextChoices):
    """How a location offers housing and care (seed 000, situations 2 and 3)."""

    UNKNOWN = "unknown", _("Not yet known")
    COMBINED_CARE_DOMINANT = (
        "combined_care_dominant",
        _("Together, and care dominates the rental and care agreement"),
    )
    SEPARATE = "separate", _("Fully separate (rent apart from the care)")


class WkkgzSituation(models.TextChoices):
    """Seed 000's four Wkkgz situations, derived from a location's facts
    (``classification.classify``); the same values as ``OrganisationType``."""

    UNKNOWN = "unknown", _("Not enough facts yet")
    WLZ_INSTITUTION = "wlz_institution", _("Wlz institution with stay and treatment")
    HOUSING_WITH_CARE = "housing_with_care", _("Housing and care combined, care dominant")
    HOUSING_SEPARATE = "housing_separate", _("Housing and care fully separate")
    PGB_INITIATIVE = "pgb_initiative", _("PGB-based, no contract with the zorgkantoor")


class GpCare(models.TextChoices):
    """Who pays the GP care of a location's residents."""

    INSURER = "insurer", _("Insurer-paid GP care (Zvw)")
    INSTITUTION_CONTRACT = "institution_contract", _("Care under a contract with the institution")
