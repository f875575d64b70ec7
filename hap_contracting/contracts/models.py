"""The contract register (seed 004, 7.1 and 7.2): ANW contracts, their financial terms, signed
documents, breaches, the history of what happened to each contract, and the reminders the daily
job sends about contracts, renewals, completion deadlines, grace periods and breach actions.

A contract's status is derived from its dates and termination (``contract_status`` and
``ContractQuerySet.with_status`` say the same thing, one for one object, one for a list). Which
contracts cover a location on a day is ``ContractQuerySet.covering`` with ``active_on``.
"""

import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import models
from django.db.models import Case, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hap_contracting.core.choices import ChoiceLabelsMixin
from hap_contracting.core.text import LimitedTextField, TextLimit, length_checks
from hap_contracting.tariffs.models import twice_the_tariff

from .constants import (
    BreachActionKind,
    ContractEventKind,
    ContractKind,
    ContractStatus,
    EscalationStep,
    ReminderKind,
)


def minimum_rate(kind: str, tariff) -> Decimal | None:
    """The lowest rate a contract of ``kind`` may agree for an act whose insurer tariff is
    ``tariff`` (seed 004, 7.2: with treatment at least twice it); None without a floor."""
    if kind != ContractKind.WLZ_WITH_TREATMENT or tariff is None:
        return None
    return twice_the_tariff(tariff.amount)


def renewal_opens_on(end_date: datetime.date) -> datetime.date:
    """The day the renewal of a contract ending on ``end_date`` starts (seed 004, 7.1: three
    months before): the end date minus three calendar months, clamped to the month's last day
    (a contract ending on 31 December is renewed from 30 September)."""
    return end_date - relativedelta(months=settings.RENEWAL_LEAD_MONTHS)


def renewal_horizon(today: datetime.date) -> datetime.date:
    """The last end date whose renewal starts today or earlier. Three months after today, plus
    the month-end days that ``renewal_opens_on`` clamps onto today (after 28 February the days
    up to 31 May)."""
    horizon = today + relativedelta(months=settings.RENEWAL_LEAD_MONTHS)
    while renewal_opens_on(horizon + datetime.timedelta(days=1)) <= today:
        horizon += datetime.timedelta(days=1)
    return horizon


def contract_status(
    *,
    start_date: datetime.date,
    end_date: datetime.date,
    terminated_on: datetime.date | None,
    today: datetime.date,
) -> str:
    """The status of a contract on ``today``; mirrored in SQL by ``with_status``."""
    if terminated_on is not None and terminated_on <= today:
        return ContractStatus.TERMINATED
    if end_date < today:
        return ContractStatus.EXPIRED
    if start_date > today:
        return ContractStatus.UPCOMING
    if end_date <= renewal_horizon(today):
        return ContractStatus.EXPIRING
    return ContractStatus.ACTIVE


class ContractQuerySet(models.QuerySet):
    def with_status(self, today: datetime.date):
        return self.annotate(
            status=Case(
                When(terminated_on__lte=today, then=Value(ContractStatus.TERMINATED.value)),
                When(end_date__lt=today, then=Value(ContractStatus.EXPIRED.value)),
                When(start_date__gt=today, then=Value(ContractStatus.UPCOMING.value)),
                When(
                    end_date__lte=renewal_horizon(today),
                    then=Value(ContractStatus.EXPIRING.value),
                ),
                default=Value(ContractStatus.ACTIVE.value),
                output_field=models.CharField(),
            )
        )

    def with_status_in(self, statuses, today: datetime.date):
        return self.with_status(today).filter(status__in=statuses)

    def active_on(self, day):
        """Contracts under which ANW care is given on ``day`` (a date or an expression)."""
        return self.filter(start_date__lte=day, end_date__gte=day).exclude(terminated_on__lte=day)

    def covering(self, location):
        """Contracts that cover ``location`` (an id, a location or an expression such as
        ``OuterRef("location_id")``): as their own location or as one of their others."""
        return self.filter(Q(location=location) | Q(other_locations=location))


class Contract(ChoiceLabelsMixin, models.Model):
    """An ANW contract with a care organisation for one or more of its locations."""

    organisation = models.ForeignKey(
        "organisations.CareOrganisation",
        on_delete=models.PROTECT,
        related_name="contracts",
        verbose_name=_("organisation"),
    )
    location = models.ForeignKey(
        "organisations.CareLocation",
        on_delete=models.PROTECT,
        related_name="contracts",
        verbose_name=_("location"),
        help_text=_("The location whose request led to this contract; its renewal is for it."),
    )
    other_locations = models.ManyToManyField(
        "organisations.CareLocation",
        blank=True,
        related_name="co_contracts",
        verbose_name=_("other locations covered"),
    )
    # The region of ``location``, kept on the row so the register filters by region with an
    # index instead of a join; set once when the contract is created.
    region = models.ForeignKey(
        "organisations.Region",
        on_delete=models.PROTECT,
        related_name="contracts",
        verbose_name=_("region"),
    )
    kind = models.CharField(_("kind"), max_length=24, choices=ContractKind.choices)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    terminated_on = models.DateField(_("terminated on"), null=True, blank=True)
    termination_reason = LimitedTextField(
        _("reason for termination"), max_length=TextLimit.REASON, blank=True
    )
    admission_request = models.OneToOneField(
        "procedure.AdmissionRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resulting_contract",
        verbose_name=_("from request"),
    )
    previous_contract = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="next_contract",
        verbose_name=_("renews contract"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # The insurer tariffs valid on the start date, as they were when the contract was made: the
    # 2 x tariff floor it was checked against can be explained after the tariffs changed.
    tariffs_on_start = models.JSONField(
        _("insurer tariffs on the start date"), default=list, blank=True, editable=False
    )

    objects = ContractQuerySet.as_manager()

    class Meta:
        ordering = ["end_date", "pk"]
        verbose_name = _("ANW contract")
        verbose_name_plural = _("ANW contracts")
        indexes = [
            models.Index(fields=["region", "end_date"], name="contract_region_end_idx"),
            # The register of every region (finance, administrators) in its default order: the
            # first page read from the index, not all contracts joined and sorted (23 -> 1.5 ms
            # on 3,000 contracts).
            models.Index(fields=["end_date", "id"], name="contract_end_idx"),
            # The daily job looks for contracts ending soon that are not terminated.
            models.Index(
                fields=["end_date"],
                name="contract_running_end_idx",
                condition=Q(terminated_on__isnull=True),
            ),
        ]
        constraints = [
            *length_checks(termination_reason=TextLimit.REASON),
            models.CheckConstraint(
                condition=Q(end_date__gt=models.F("start_date")),
                name="contract_ends_after_start",
                violation_error_message=_("The end date must lie after the start date."),
            ),
        ]

    def __str__(self) -> str:
        return _("Contract %(reference)s – %(organisation)s") % {
            "reference": self.reference,
            "organisation": self.organisation.name,
        }

    @property
    def renewal(self):
        """The renewal request opened for this contract, or None. The templates read this, not
        ``renewal_request``: a missing reverse one-to-one raises, and a failed lookup in a
        template costs more than the rest of a list row (it lists the object's attributes)."""
        return getattr(self, "renewal_request", None)

    @property
    def reference(self) -> str:
        return f"C-{self.pk:05d}" if self.pk else "C-nieuw"

    def status_on(self, today: datetime.date) -> str:
        return contract_status(
            start_date=self.start_date,
            end_date=self.end_date,
            terminated_on=self.terminated_on,
            today=today,
        )


class ContractRate(models.Model):
    """The agreed rate per act (seed 004, 7.2: with treatment at least 2 × the insurer tariff)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="rates")
    act = models.ForeignKey("tariffs.Act", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("agreed rate"), max_digits=9, decimal_places=2)

    class Meta:
        ordering = ["act__code"]
        verbose_name = _("agreed rate")
        verbose_name_plural = _("agreed rates")
        constraints = [
            models.UniqueConstraint(fields=["contract", "act"], name="contract_rate_one_per_act")
        ]

    def __str__(self) -> str:
        return f"{self.act.code}: € {self.amount}"


def contract_document_path(instance: "ContractDocument", filename: str) -> str:
    return f"contracts/{instance.contract_id}/v{instance.version}.pdf"


class ContractDocument(models.Model):
    """A version of the signed contract (PDF). New versions are added, old ones stay."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="documents")
    version = models.PositiveIntegerField(_("version"))
    file = models.FileField(_("file"), upload_to=contract_document_path)
    original_name = models.CharField(_("file name"), max_length=255)
    note = models.CharField(_("note"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["contract", "-version"]
        verbose_name = _("signed document")
        verbose_name_plural = _("signed documents")
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "version"], name="contract_document_unique_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.original_name} (v{self.version})"


class Breach(models.Model):
    """Something agreed in the contract that was not delivered (seed 004, 7.1; seed 001)."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="breaches")
    observed_on = models.DateField(_("observed on"))
    agreement = models.CharField(
        _("what was agreed and not delivered"),
        max_length=200,
        help_text=_("For example: the SO/AVG was not reachable for the duty GP."),
    )
    description = LimitedTextField(_("description"), max_length=TextLimit.DESCRIPTION)
    escalation_step = models.CharField(
        _("escalation step reached"),
        max_length=20,
        choices=EscalationStep.choices,
        default=EscalationStep.CARE_ORGANISATION,
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-observed_on", "-pk"]
        verbose_name = _("breach")
        verbose_name_plural = _("breaches")
        constraints = length_checks(description=TextLimit.DESCRIPTION)

    def __str__(self) -> str:
        return f"{self.observed_on}: {self.agreement}"


class BreachAction(models.Model):
    """An action taken on a breach, with a deadline (e.g. a written warning with a term)."""

    breach = models.ForeignKey(Breach, on_delete=models.PROTECT, related_name="actions")
    kind = models.CharField(_("action"), max_length=20, choices=BreachActionKind.choices)
    description = LimitedTextField(_("description"), max_length=TextLimit.DESCRIPTION)
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["recorded_at", "pk"]
        verbose_name = _("breach action")
        verbose_name_plural = _("breach actions")
        constraints = length_checks(description=TextLimit.DESCRIPTION)
        indexes = [
            models.Index(
                fields=["deadline"],
                name="breach_action_open_idx",
                condition=Q(completed_on__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.deadline or '–'})"


class ContractEvent(models.Model):
    """The contract's history. Append-only: a PostgreSQL trigger refuses UPDATE and DELETE."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("event"), max_length=20, choices=ContractEventKind.choices)
    description = models.TextField(_("description"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty: the daily job."),
    )
    # Set when the row is written (the table is append-only): the service's moment, or now.
    at = models.DateTimeField(_("at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("contract event")
        verbose_name_plural = _("contract history")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}"


class Reminder(models.Model):
    """Reminders the daily job sends. A row is created once per (subject, kind, due date): the
    unique constraints below make a second run of the job, or two runs at once, create nothing new,
    and a reminder is sent only while its row has no ``sent_at``."""

    kind = models.CharField(_("kind"), max_length=24, choices=ReminderKind.choices)
    due_on = models.DateField(_("due on"))
    contract = models.ForeignKey(
        Contract,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
    )
    admission_request = models.ForeignKey(
        "procedure.AdmissionRequest",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
    )
    breach_action = models.ForeignKey(
        BreachAction,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
    )
    # A step's norm (kinds step_due/step_overdue): the step it counts down, so that two steps'
    # warnings on the same day are two reminders.
    step = models.CharField(_("step"), max_length=20, blank=True, default="")
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
                fields=["admission_request", "kind", "step", "due_on"],
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
