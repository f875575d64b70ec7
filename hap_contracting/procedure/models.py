"""The admission procedure (seed 004, appendix 5: "Stappenplan aanmelding WLZ zorg in de ANW").

The transitions below are the only way the state changes. They hold the state graph, the role
that may take each step (``permission``), the preconditions (``conditions``) and, for the steps
that record an advice or decision, which step and outcome they record (``custom``): forms and
pages derive the choices they offer from them. The services in ``services.admission`` wrap them
with validation, locking and notifications.
"""

import datetime
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMFieldMixin, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description
from django_fsm_log.models import StateLog

from checklist.selectors import checklist_blockers, latest_assessment
from hap_contracting.core.choices import ChoiceLabelsMixin
from hap_contracting.core.errors import DomainError
from hap_contracting.core.placeholders import check_placeholders
from hap_contracting.core.text import LimitedTextField, TextLimit, length_checks

from . import rules as procedure_rules
from .constants import (
    DECISION_OUTCOMES,
    DEFAULT_NORMS,
    LETTER_PLACEHOLDERS,
    NORM_STEPS,
    OPEN_STATES,
    AdviceOutcome,
    AdviceStep,
    ClockEventKind,
    NormUnit,
    RequestKind,
    RequestState,
)

S = RequestState
P, N = AdviceOutcome.POSITIVE, AdviceOutcome.NEGATIVE


def _allowed(predicate):
    """Adapt a rules predicate to django-fsm's ``permission(instance, user)`` signature.

    A callable (not a permission name) so that ``is_superuser`` grants no procedural step:
    advising and deciding stay with the region's own roles.
    """

    def check(instance, user) -> bool:
        return predicate.test(user, instance)

    check.rule_name = predicate.name
    return check


def _explained(message_for):
    """Attach ``explain(instance) -> str`` to a condition, for the user's error message."""

    def attach(condition):
        condition.explain = message_for
        return condition

    return attach


@_explained(lambda instance: _("The outcome has been recorded already."))
def _outcome_not_recorded(instance) -> bool:
    return instance.outcome_recorded_at is None


@_explained(
    lambda instance: _(
        "The location manager must record the outcome before contracting is completed."
    )
)
def _outcome_recorded(instance) -> bool:
    return instance.outcome_recorded_at is not None


# Within ``conditions_read_once``: the blockers read so far, by request.
_blockers_read: ContextVar[dict | None] = ContextVar("positive_advice_blockers", default=None)


@contextmanager
def conditions_read_once():
    """Inside, a request's ``positive_advice_blockers`` are read once: a page that shows the
    actions, the blocked actions with their reasons and a form evaluates the same condition
    several times, each a few queries. Outside (a service checking them before it takes the
    step) they are read every time."""
    token = _blockers_read.set({})
    try:
        yield
    finally:
        _blockers_read.reset(token)


def positive_advice_blockers(admission_request) -> list[str]:
    """Why the location manager can't advise positively yet; empty when nothing blocks it.

    Seed 004, appendix 4: the checklist must be complete and submitted with every knock-out item
    met; after the quality team sent the request back, only a revision submitted since counts.
    """
    read = _blockers_read.get()
    if read is None:
        return _positive_advice_blockers(admission_request)
    if admission_request.pk not in read:
        read[admission_request.pk] = _positive_advice_blockers(admission_request)
    return read[admission_request.pk]


def _positive_advice_blockers(admission_request) -> list[str]:
    assessment = latest_assessment(admission_request)
    blockers = checklist_blockers(assessment)
    if blockers and not (assessment and assessment.is_submitted):
        return blockers
    sent_back_since = Advice.objects.filter(
        admission_request=admission_request,
        step=AdviceStep.QUALITY_TEAM,
        outcome=AdviceOutcome.MORE_INFORMATION,
        recorded_at__gt=assessment.submitted_at,
    ).exists()
    if sent_back_since:
        # The quality team asked for more information: the answer is a new revision.
        return [_("The quality team sent the request back: revise the checklist and submit it.")]
    return blockers


@_explained(
    lambda instance: (
        _("A positive advice is not possible yet: %(reasons)s")
        % {"reasons": " ".join(str(reason) for reason in positive_advice_blockers(instance))}
    )
)
def _checklist_allows_positive_advice(instance) -> bool:
    return not positive_advice_blockers(instance)


def _step(source, target, *, may=None, conditions=(), records=None):
    """A transition of ``state`` whose history row (django-fsm-log) names who took it and why.
    ``may``: the rule of the role that takes it (none: the requester, through the status
    link); ``records``: the advice or decision it records (``_advice``)."""

    def decorate(method):
        method = transition(
            field="state",
            source=source,
            target=target,
            permission=_allowed(may) if may is not None else None,
            conditions=list(conditions),
            custom=records or {},
        )(method)
        return fsm_log_by(fsm_log_description(method))

    return decorate


def _advice(step: str, outcome: str) -> dict:
    """A transition's ``custom``: it records this step's advice with this outcome. The form offers
    it by the outcome's own label, so that what a user chooses is what the result then reads."""
    return {"step": step, "outcome": outcome, "label": AdviceOutcome(outcome).label}


class AdmissionRequest(ChoiceLabelsMixin, ConcurrentTransitionMixin, models.Model):
    """A care location's request to be admitted to ANW care (or to renew or regularise)."""

    location = models.ForeignKey(
        "organisations.CareLocation",
        on_delete=models.PROTECT,
        related_name="admission_requests",
        verbose_name=_("care location"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=RequestKind.choices)
    requester_name = models.CharField(_("requester's name"), max_length=200)
    requester_email = models.EmailField(_("requester's e-mail"))
    requester_phone = models.CharField(_("requester's telephone"), max_length=20, blank=True)
    received_on = models.DateField(_("date received"))
    notes = LimitedTextField(_("notes at intake"), max_length=TextLimit.NOTES, blank=True)
    assigned_location_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_admission_requests",
        verbose_name=_("location manager"),
    )
    state = FSMField(
        _("state"),
        max_length=20,
        choices=RequestState.choices,
        default=RequestState.RECEIVED,
        protected=True,
    )
    # When the request entered its current state: "waiting since" on the work lists without
    # reading the history table for every row.
    state_entered_at = models.DateTimeField(_("in this state since"))
    outcome_recorded_at = models.DateTimeField(_("outcome recorded at"), null=True, blank=True)
    outcome_notes = LimitedTextField(_("outcome"), max_length=TextLimit.NOTES, blank=True)
    completed_on = models.DateField(_("contracting completed on"), null=True, blank=True)
    # The requester follows (and may withdraw) the request through a link with this token.
    public_token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("registered by"),
        help_text=_("Empty: opened by the daily renewal job."),
    )
    # A renewal request renews exactly one contract, and a contract gets one renewal request:
    # the daily job can run twice or concurrently without opening a second one.
    renews_contract = models.OneToOneField(
        "contracts.Contract",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewal_request",
        verbose_name=_("renews contract"),
    )
    grace_ends_on = models.DateField(
        _("grace period ends on"),
        null=True,
        blank=True,
        help_text=_(
            "Regularisation only: care continues until this date; without a contract by then "
            "the location is marked uncontracted (a Wlz-with-treatment location gets no ANW "
            "care without an agreement)."
        ),
    )
    # Not auto_now_add: a request registered after the fact (the demo) gives its moment.
    created_at = models.DateTimeField(_("registered at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-received_on", "-pk"]
        verbose_name = _("admission request")
        verbose_name_plural = _("admission requests")
        indexes = [
            models.Index(fields=["state", "state_entered_at"], name="request_state_waiting_idx"),
            # The location manager's work list: their requests waiting for them, longest
            # waiting first. Partial, so the many closed requests are not in it.
            models.Index(
                fields=["assigned_location_manager", "state_entered_at"],
                name="request_manager_waiting_idx",
                condition=models.Q(
                    state__in=[RequestState.PRE_ASSESSMENT, RequestState.CONTRACTING]
                ),
            ),
            # The lists' default order (newest received first).
            models.Index(fields=["-received_on", "-id"], name="request_received_idx"),
            # The daily job's grace-period steps.
            models.Index(
                fields=["grace_ends_on"],
                name="request_grace_end_idx",
                condition=models.Q(kind=RequestKind.REGULARISATION),
            ),
        ]
        constraints = [
            *length_checks(notes=TextLimit.NOTES, outcome_notes=TextLimit.NOTES),
            models.UniqueConstraint(
                fields=["location"],
                condition=models.Q(state__in=OPEN_STATES),
                name="request_one_open_per_location",
                violation_error_message=_("This location already has an open request."),
            ),
        ]

    def __str__(self) -> str:
        return _("Request %(number)s – %(location)s") % {
            "number": self.reference,
            "location": self.location.name,
        }

    @property
    def reference(self) -> str:
        return f"A-{self.pk:05d}" if self.pk else "A-nieuw"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def grace_period_over(self) -> bool:
        """The grace period ended and the request did not end in a contract."""
        return (
            self.grace_ends_on is not None
            and self.grace_ends_on < timezone.localdate()
            and self.state != RequestState.CONTRACTED
        )

    # --- Step 1 → 2: the secretariat forwards the request to a location manager -------------

    @_step(S.RECEIVED, S.PRE_ASSESSMENT, may=procedure_rules.can_forward_request)
    def forward_to_location_manager(self, *, location_manager, by=None, description=None):
        self.assigned_location_manager = location_manager

    # --- Step 2: the location manager's pre-assessment advice --------------------------------

    @_step(
        S.PRE_ASSESSMENT,
        S.QUALITY_REVIEW,
        may=procedure_rules.can_give_location_manager_advice,
        conditions=[_checklist_allows_positive_advice],
        records=_advice(AdviceStep.LOCATION_MANAGER, P),
    )
    def location_manager_advise_positive(self, *, by=None, description=None):
        """Seed 004: only after a positive advice of the location manager does the quality team
        assess."""

    @_step(
        S.PRE_ASSESSMENT,
        S.REJECTED,
        may=procedure_rules.can_give_location_manager_advice,
        records=_advice(AdviceStep.LOCATION_MANAGER, N),
    )
    def location_manager_advise_negative(self, *, by=None, description=None):
        """A negative advice at any step means no ANW contract: the procedure ends."""

    # --- Step 3: the quality team's advice to the council -----------------------------------

    @_step(
        S.QUALITY_REVIEW,
        S.COUNCIL_REVIEW,
        may=procedure_rules.can_give_quality_advice,
        records=_advice(AdviceStep.QUALITY_TEAM, P),
    )
    def quality_team_advise_positive(self, *, by=None, description=None):
        pass

    @_step(
        S.QUALITY_REVIEW,
        S.REJECTED,
        may=procedure_rules.can_give_quality_advice,
        records=_advice(AdviceStep.QUALITY_TEAM, N),
    )
    def quality_team_advise_negative(self, *, by=None, description=None):
        pass

    @_step(
        S.QUALITY_REVIEW,
        S.PRE_ASSESSMENT,
        may=procedure_rules.can_give_quality_advice,
        records=_advice(AdviceStep.QUALITY_TEAM, AdviceOutcome.MORE_INFORMATION),
    )
    def quality_team_send_back(self, *, by=None, description=None):
        """Not a negative advice: the location manager completes the pre-assessment."""

    # --- Step 4: the regional council decides -----------------------------------------------

    @_step(
        S.COUNCIL_REVIEW,
        S.CONTRACTING,
        may=procedure_rules.can_decide_as_council,
        records=_advice(AdviceStep.REGIONAL_COUNCIL, P),
    )
    def council_approve(self, *, by=None, description=None):
        pass

    @_step(
        S.COUNCIL_REVIEW,
        S.REJECTED,
        may=procedure_rules.can_decide_as_council,
        records=_advice(AdviceStep.REGIONAL_COUNCIL, N),
    )
    def council_reject(self, *, by=None, description=None):
        pass

    # --- Step 5: completion ----------------------------------------------------------------

    @_step(
        S.CONTRACTING,
        S.CONTRACTING,
        may=procedure_rules.can_record_outcome,
        conditions=[_outcome_not_recorded],
    )
    def record_outcome(self, *, recorded_at, by=None, description=None):
        self.outcome_recorded_at = recorded_at
        self.outcome_notes = description or ""

    @_step(
        S.CONTRACTING,
        S.CONTRACTED,
        may=procedure_rules.can_complete_contracting,
        conditions=[_outcome_recorded],
    )
    def complete_contracting(self, *, completed_on, by=None, description=None):
        self.completed_on = completed_on

    # --- Withdrawal, by the requester or the secretariat, before the decision ----------------

    @_step(list(OPEN_STATES), S.WITHDRAWN, may=procedure_rules.can_withdraw_request)
    def withdraw(self, *, by=None, description=None):
        pass

    @_step(list(OPEN_STATES), S.WITHDRAWN)
    def withdraw_by_requester(self, *, by=None, description=None):
        """The requester withdraws through the status link; holding the token is the permission."""


class Advice(ChoiceLabelsMixin, models.Model):
    """An advice or decision at one step of the procedure, with its motivation and date.

    Append-only: on PostgreSQL a trigger refuses UPDATE and DELETE, so the dossier shows what
    was decided, as it was decided.
    """

    admission_request = models.ForeignKey(
        AdmissionRequest,
        on_delete=models.PROTECT,
        related_name="advices",
        verbose_name=_("admission request"),
    )
    step = models.CharField(_("step"), max_length=20, choices=AdviceStep.choices)
    outcome = models.CharField(_("outcome"), max_length=20, choices=AdviceOutcome.choices)
    motivation = LimitedTextField(_("motivation"), max_length=TextLimit.MOTIVATION)
    decided_on = models.DateField(_("date of the advice or decision"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    # Set when the row is written (the table is append-only): the service's moment, or now.
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)
    # What it was decided under, so that it can be explained after the rules changed: the
    # checklist (template version and revision) it was based on and the step's service norm
    # then (set by the service when the row is written).
    checklist_version = models.CharField(
        _("checklist version"), max_length=20, blank=True, editable=False
    )
    checklist_revision = models.PositiveSmallIntegerField(
        _("checklist revision"), null=True, blank=True, editable=False
    )
    norm_days = models.PositiveIntegerField(
        _("service norm (days)"), null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["recorded_at", "pk"]
        verbose_name = _("advice or decision")
        verbose_name_plural = _("advices and decisions")
        constraints = length_checks(motivation=TextLimit.MOTIVATION)

    def __str__(self) -> str:
        return f"{self.get_step_display()}: {self.get_outcome_display()} ({self.decided_on})"


class TransitionLog(StateLog):
    """django-fsm-log's history rows, made append-only by a PostgreSQL trigger."""

    class Meta:
        proxy = True
        verbose_name = _("history entry")
        verbose_name_plural = _("history")

    def __str__(self) -> str:
        """In the office's words (the admin shows it above each row of the history): the states
        by their labels, not django-fsm-log's timestamp with microseconds and transition name."""
        return f"{self.get_source_state_display()} → {self.get_state_display()}"


class DecisionLetterTemplate(models.Model):
    """One version of the letter telling the requester the council's decision, per outcome, for
    one region or (no region) the national default. Versions are rows: saving makes a new
    version, the earlier ones stay unchanged because the letters made with them refer to them.
    The version in force for a region and outcome is the region's newest, else the national
    newest (``selectors.letters.letter_template_for``)."""

    region = models.ForeignKey(
        "organisations.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region"),
        help_text=_("Empty: the national default, for every region without a letter of its own."),
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=DECISION_OUTCOMES)
    version = models.PositiveIntegerField(_("version"), editable=False)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("saved by"),
        editable=False,
    )
    created_at = models.DateTimeField(_("saved at"), auto_now_add=True)

    class Meta:
        ordering = ["region__name", "outcome", "-version"]
        verbose_name = _("decision letter template")
        verbose_name_plural = _("decision letter templates")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "outcome", "version"],
                condition=models.Q(region__isnull=False),
                name="letter_template_region_version",
            ),
            models.UniqueConstraint(
                fields=["outcome", "version"],
                condition=models.Q(region__isnull=True),
                name="letter_template_national_version",
            ),
        ]

    def __str__(self) -> str:
        where = self.region.name if self.region_id else _("national")
        return _("%(outcome)s letter, %(where)s, version %(version)s") % {
            "outcome": self.get_outcome_display(),
            "where": where,
            "version": self.version,
        }

    def clean(self) -> None:
        for field in ("subject", "body"):
            try:
                check_placeholders(getattr(self, field), LETTER_PLACEHOLDERS, field=field)
            except DomainError as error:
                raise ValidationError({field: error.message}) from error


class DecisionLetter(models.Model):
    """The letter to the requester about the council's decision, as it was made: the template
    version it was made with, the values its placeholders had and the resulting text. Made once
    per request (when it is first asked for after the decision) and printed from these fields
    ever after, so a later edit of the template or of the location changes no letter."""

    admission_request = models.OneToOneField(
        AdmissionRequest,
        on_delete=models.PROTECT,
        related_name="decision_letter",
        verbose_name=_("admission request"),
    )
    template = models.ForeignKey(
        DecisionLetterTemplate,
        on_delete=models.PROTECT,
        related_name="letters",
        verbose_name=_("template version"),
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=DECISION_OUTCOMES)
    subject = models.CharField(_("subject"), max_length=500)
    body = models.TextField(_("text"))
    # The placeholders' values and the letterhead at the time the letter was made.
    values = models.JSONField(_("values"), default=dict)
    letter_date = models.DateField(_("date of the letter"))
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    made_at = models.DateTimeField(_("made at"), auto_now_add=True)

    class Meta:
        verbose_name = _("decision letter")
        verbose_name_plural = _("decision letters")

    def __str__(self) -> str:
        return self.subject


def advice_transitions() -> dict[tuple[str, str], str]:
    """(step, outcome) → the name of the transition that records it, read from the transitions."""
    field = next(f for f in AdmissionRequest._meta.fields if isinstance(f, FSMFieldMixin))
    return {
        (t.custom["step"], t.custom["outcome"]): t.name
        for t in field.get_all_transitions(AdmissionRequest)
        if "step" in t.custom
    }


class StepNorm(models.Model):
    """The service norm of one step of the procedure: how long a request may be in it. Per
    region; a row without a region is the national norm, for every region without its own. An
    administrator keeps them; the data migration writes the national defaults
    (``constants.DEFAULT_NORMS``)."""

    region = models.ForeignKey(
        "organisations.Region",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region"),
        help_text=_("Empty: the national norm, for every region without a norm of its own."),
    )
    step = models.CharField(
        _("step"),
        max_length=20,
        choices=[(state.value, state.label) for state in NORM_STEPS],
    )
    amount = models.PositiveSmallIntegerField(_("norm"))
    unit = models.CharField(_("unit"), max_length=10, choices=NormUnit.choices)

    class Meta:
        ordering = ["region__name", "step"]
        verbose_name = _("service norm")
        verbose_name_plural = _("service norms")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "step"],
                condition=models.Q(region__isnull=False),
                name="step_norm_per_region",
                violation_error_message=_("This region has a norm for this step already."),
            ),
            models.UniqueConstraint(
                fields=["step"],
                condition=models.Q(region__isnull=True),
                name="step_norm_national",
                violation_error_message=_("There is a national norm for this step already."),
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="step_norm_positive"),
        ]

    def __str__(self) -> str:
        return f"{RequestState(self.step).label}: {self.amount} {NormUnit(self.unit).label}"


def norm_offset(amount: int, unit: str) -> tuple[int, int]:
    """A norm as (months, days) added to its start: months first, as calendar months."""
    if unit == NormUnit.MONTHS:
        return amount, 0
    return 0, amount * (7 if unit == NormUnit.WEEKS else 1)


def _offset(amount: int, unit: str) -> relativedelta:
    months, days = norm_offset(amount, unit)
    return relativedelta(months=months, days=days)


def norm_deadline(start: datetime.date, norm: tuple[int, str]) -> datetime.date:
    """``start`` plus the norm ``(amount, unit)``: a norm in months is a calendar offset."""
    return start + _offset(*norm)


@dataclass(frozen=True)
class Norms:
    """The norms in force, read in one query (``Norms.load``): the region's own, else the
    national one, else the built-in default (a database without the data migration's rows)."""

    table: dict

    @classmethod
    def load(cls) -> "Norms":
        return cls(
            {
                (norm.region_id, norm.step): (norm.amount, norm.unit)
                for norm in StepNorm.objects.all()
            }
        )

    def norm(self, region_id: int | None, step: str) -> tuple[int, str]:
        return self.table.get((region_id, step), self.table.get((None, step), DEFAULT_NORMS[step]))

    def deadline(self, start: datetime.date, region_id: int | None, step: str) -> datetime.date:
        return norm_deadline(start, self.norm(region_id, step))

    def days(self, region_id: int | None, step: str, on: datetime.date) -> int:
        """The norm in days, counted from ``on`` (a norm in months has no fixed length)."""
        return (self.deadline(on, region_id, step) - on).days

    def longest(self, step: str) -> relativedelta:
        """The longest norm of ``step`` over all regions: the window of the daily job's query."""
        offsets = [self.norm(None, step)] + [
            value for (_region, norm_step), value in self.table.items() if norm_step == step
        ]
        start = datetime.date(2000, 1, 1)
        return max((_offset(*value) for value in offsets), key=lambda delta: start + delta)


def completion_deadline(
    approved_on: datetime.date, *, region_id: int | None = None, norms: Norms | None = None
) -> datetime.date:
    """Seed 004, 7.1: "een termijn … van 6 maanden na het besluit om dit af te ronden": the
    contracting step's norm (``StepNorm``) after the council's approval. Pass ``norms`` when
    calling it for many requests (otherwise the table is read once per call)."""
    norms = norms or Norms.load()
    return norms.deadline(approved_on, region_id, RequestState.CONTRACTING)


class ClockEvent(models.Model):
    """A change of a request's step clock, with its reason: the quality team's clock suspended
    by a send-back and resumed when the new checklist revision is submitted (``days``: how long
    it stood still), or a deadline extended by ``days``. Append-only (a PostgreSQL trigger),
    like the history it sits beside: the deadline is recomputed from these rows."""

    admission_request = models.ForeignKey(
        AdmissionRequest,
        on_delete=models.PROTECT,
        related_name="clock_events",
        verbose_name=_("admission request"),
    )
    step = models.CharField(
        _("step"), max_length=20, choices=[(state.value, state.label) for state in NORM_STEPS]
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ClockEventKind.choices)
    days = models.PositiveIntegerField(_("days"), default=0)
    reason = LimitedTextField(_("reason"), max_length=TextLimit.REMARK)
    at = models.DateTimeField(_("at"), default=timezone.now, editable=False)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("deadline change")
        verbose_name_plural = _("deadline changes")
        constraints = length_checks(reason=TextLimit.REMARK)

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_step_display()} ({self.days})"
