"""Reminders the daily job sends. A row is created once per (subject, kind, due date): the
unique constraints below make a second run of the job, or two runs at once, create nothing new,
and a reminder is sent only while its row has no ``sent_at``."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..constants import ReminderKind


class Reminder(models.Model):
    kind = models.CharField(_("kind"), max_length=24, choices=ReminderKind.choices)
    due_on = models.DateField(_("due on"))
    contract = models.ForeignKey(
        "hap_contracting.Contract",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
    )
    admission_request = models.ForeignKey(
        "hap_contracting.AdmissionRequest",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
    )
    breach_action = models.ForeignKey(
        "hap_contracting.BreachAction",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    recipients = models.TextField(_("sent to"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("failed attempts"), default=0)
    last_error = models.CharField(_("problem"), max_length=200, blank=True)

    class Meta:
        ordering = ["-due_on", "-pk"]
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        contract__isnull=False,
                        admission_request__isnull=True,
                        breach_action__isnull=True,
                    )
                    | Q(
                        contract__isnull=True,
                        admission_request__isnull=False,
                        breach_action__isnull=True,
                    )
                    | Q(
                        contract__isnull=True,
                        admission_request__isnull=True,
                        breach_action__isnull=False,
                    )
                ),
                name="reminder_has_one_subject",
            ),
            models.UniqueConstraint(
                fields=["contract", "kind", "due_on"],
                condition=Q(contract__isnull=False),
                name="reminder_once_per_contract",
            ),
            models.UniqueConstraint(
                fields=["admission_request", "kind", "due_on"],
                condition=Q(admission_request__isnull=False),
                name="reminder_once_per_request",
            ),
            models.UniqueConstraint(
                fields=["breach_action", "kind", "due_on"],
                condition=Q(breach_action__isnull=False),
                name="reminder_once_per_breach_action",
            ),
        ]
        indexes = [
            models.Index(
                fields=["id"], name="reminder_unsent_idx", condition=Q(sent_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.due_on})"
