from django.db import models
from django.utils.translation import gettext_lazy as _


class ItemKind(models.TextChoices):
    YES_NO = "yes_no", _("Yes/no (explanation required on no)")
    CHOICE = "choice", _("Choice")
    TEXT = "text", _("Text")
    PHONE = "phone", _("Telephone number")
    HOURS = "hours", _("Hours covered")


class Applicability(models.TextChoices):
    ALWAYS = "always", _("Always")
    SPECIAL_TARGET_GROUP = (
        "special_target_group",
        _("Only when the location serves a special target group"),
    )


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
