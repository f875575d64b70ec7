"""The triage filter list (seed 004, 7.2): addresses of locations that get no ANW care without
an agreement. An entry is never deleted: leaving the list sets ``delisted_on``, so the history
keeps both."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .constants import TriageFilterReason, TriageListChangeKind, TriageVerdict


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


class TriageListChange(models.Model):
    """One change of the triage filter list: an entry put on it or taken off. Written by the
    services that list and delist, in the same transaction; never changed or deleted (on
    PostgreSQL a trigger refuses it and the rows are hash-chained, as the other history).

    Its id is the list's version: every change gets the next one, in the order the changes were
    committed (the services take one lock for the list before they write, so no change can
    commit with a smaller id after a reader has seen a larger one). The address is kept as it
    was published (normalised as the verdict compares it), so the feed says the same of a
    change today as when it was made; no patient data."""

    entry = models.ForeignKey(
        TriageFilterEntry,
        on_delete=models.PROTECT,
        related_name="changes",
        verbose_name=_("triage filter entry"),
    )
    kind = models.CharField(_("change"), max_length=8, choices=TriageListChangeKind.choices)
    # The day the entry went on (``listed_on``) or came off (``delisted_on``) the list.
    on = models.DateField(_("on"))
    reason = models.CharField(_("reason"), max_length=24, choices=TriageFilterReason.choices)
    removed_because = models.CharField(_("taken off because"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=7)
    house_number = models.PositiveIntegerField(_("house number"))
    addition = models.CharField(_("addition"), max_length=6, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("triage list change")
        verbose_name_plural = _("triage list changes")
        constraints = [
            # An entry goes on the list once and comes off once: recording twice is refused.
            models.UniqueConstraint(fields=["entry", "kind"], name="triage_change_once_per_kind")
        ]
        indexes = [models.Index(fields=["kind", "on"], name="triage_change_kind_on")]

    def __str__(self) -> str:
        return f"{self.pk}: {self.get_kind_display()} {self.postcode} {self.house_number}"


class TriageApiClient(models.Model):
    """A system allowed to ask the triage verdict over the API (TPM). Only a hash of its token
    is stored; the token is shown once, when it is made."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    # When the client last read the whole list or its changes (the feed), and up to which
    # version: the administrator sees which systems are behind.
    last_synced_at = models.DateTimeField(_("last synchronised at"), null=True, blank=True)
    last_synced_version = models.PositiveBigIntegerField(
        _("last synchronised version"), null=True, blank=True
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("triage API client")
        verbose_name_plural = _("triage API clients")

    def __str__(self) -> str:
        return self.name


class TriageAddressVerdict(models.Model):
    """The verdict for an address during a run of days, so that a lookup is one indexed query.
    Kept by the triage services (``triage_verdicts_refresh``, the one place that applies the
    rule) whenever a contract, a filter entry or a location changes. Days without a row are
    ``unknown``.

    The rows of an address do not overlap: ``contracted`` while a contract covers the location,
    and for a listed location with treatment admission "no ANW care without agreement" on every
    other day (``date.min`` to ``date.max`` around the contracts). Since the rows carry their
    dates, a contract that starts or ends changes the answer at midnight without a job running.
    The address is the location's as the verdict compares it: the postcode as stored, the
    addition in capitals; ``location`` is the location the address's verdict comes from."""

    postcode = models.CharField(_("postcode"), max_length=7)
    house_number = models.PositiveIntegerField(_("house number"))
    addition = models.CharField(_("addition"), max_length=6, blank=True)
    starts_on = models.DateField(_("valid from"))
    ends_on = models.DateField(_("valid until"))
    verdict = models.CharField(_("verdict"), max_length=32, choices=TriageVerdict.choices)
    location = models.ForeignKey(
        "organisations.CareLocation",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("care location"),
    )

    class Meta:
        verbose_name = _("triage verdict of an address")
        verbose_name_plural = _("triage verdicts of addresses")
        indexes = [
            models.Index(
                fields=["postcode", "house_number", "addition", "starts_on"],
                name="triage_verdict_address",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__lte=models.F("ends_on")), name="triage_verdict_period"
            ),
            # Unknown is the absence of a row.
            models.CheckConstraint(
                condition=~Q(verdict=TriageVerdict.UNKNOWN), name="triage_verdict_is_stored"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.postcode} {self.house_number}{self.addition}: {self.verdict}"
