"""The triage filter list (seed 004, 7.2): addresses of locations that get no ANW care without
an agreement. An entry is never deleted: leaving the list sets ``delisted_on``, so the history
keeps both."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .constants import TriageFilterReason


class TriageFilterEntry(models.Model):
    location = models.ForeignKey(
        "organisations.CareLocation",
        on_delete=models.PROTECT,
        related_name="triage_filter_entries",
        verbose_name=_("care location"),
    )
    reason = models.CharField(_("reason"), max_length=24, choices=TriageFilterReason.choices)
    listed_on = models.DateField(_("on the list since"))
    delisted_on = models.DateField(_("off the list since"), null=True, blank=True)
    delisted_because = models.CharField(_("taken off because"), max_length=200, blank=True)

    class Meta:
        ordering = ["-listed_on", "-pk"]
        verbose_name = _("triage filter entry")
        verbose_name_plural = _("triage filter list")
        constraints = [
            models.UniqueConstraint(
                fields=["location"],
                condition=Q(delisted_on__isnull=True),
                name="triage_filter_one_open_entry_per_location",
            )
        ]

    def __str__(self) -> str:
        return f"{self.location} ({self.get_reason_display()})"


class TriageApiClient(models.Model):
    """A system allowed to ask the triage verdict over the API (TPM). Only a hash of its token
    is stored; the token is shown once, when it is made."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("triage API client")
        verbose_name_plural = _("triage API clients")

    def __str__(self) -> str:
        return self.name
