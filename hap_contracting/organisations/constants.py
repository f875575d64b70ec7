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
