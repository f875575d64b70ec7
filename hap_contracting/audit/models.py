"""The NEN 7513 access log: who read, searched, imported or exported which patient-linked data,
when. Administrators read it; nobody changes it (on PostgreSQL a trigger refuses UPDATE and
DELETE)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .constants import AccessAction, AccessOutcome


class AccessLogEntry(models.Model):
    """Who read, searched or exported which claim data, when (NEN 7513). Administrators read it;
    nobody changes it (a trigger refuses UPDATE and DELETE on PostgreSQL)."""

    at = models.DateTimeField(_("at"), auto_now_add=True)
    # Who: a user, or a system reading over an API (its client name). The API client is named,
    # not referenced: the audit app depends on no app above it. Nullable, as every column added
    # to a hash-chained table must be (the older rows' hashes leave out NULLs).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    api_client = models.CharField(_("API client"), max_length=100, null=True, blank=True)
    roles = models.CharField(_("roles"), max_length=200)
    action = models.CharField(_("action"), max_length=10, choices=AccessAction.choices)
    what = models.CharField(_("what"), max_length=200)
    patient_references = models.TextField(_("patient references"), blank=True)
    # The SHA-256 of every patient the entry names in rows of its own (``AccessLogReference``),
    # sorted, one per line: the entry's place in the hash chain covers them too.
    references_digest = models.CharField(max_length=64, blank=True, editable=False)
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=AccessOutcome.choices, default=AccessOutcome.SHOWN
    )
    # Where the request came from (NEN 7513: the source of the access).
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(user__isnull=False, api_client__isnull=True)
                    | models.Q(user__isnull=True, api_client__isnull=False)
                ),
                name="access_log_names_a_user_or_an_api_client",
            )
        ]

    def __str__(self) -> str:
        who = self.user_id if self.user_id is not None else self.api_client
        return f"{self.at:%Y-%m-%d %H:%M} {who} {self.action} {self.what}"


class AccessLogReference(models.Model):
    """Every patient an access log entry names, one row each, for entries that name more than
    their text field shows (a large export): written set-based, searchable, never changed."""

    entry = models.ForeignKey(AccessLogEntry, on_delete=models.PROTECT, related_name="references")
    patient_reference = models.CharField(_("patient reference"), max_length=40, db_index=True)

    class Meta:
        verbose_name = _("patient in the access log")
        verbose_name_plural = _("patients in the access log")

    def __str__(self) -> str:
        return f"{self.entry_id}: {self.patient_reference}"
