"""Checklist templates (versioned data) and the location manager's assessments.

Seed 004, appendix 4: "Checklist beoordeling zorgaanbieder", version 1.0, revised 2021-01-06,
owner: the location manager. A template version is frozen once an assessment uses it; a change
is a new version, so every assessment keeps showing the version it was made with.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hap_contracting.core.text import LimitedTextField, TextLimit, length_checks

from .constants import Applicability, AssessmentStatus, ItemKind


class ChecklistTemplate(models.Model):
    name = models.CharField(_("name"), max_length=200)
    version = models.CharField(_("version"), max_length=20)
    effective_from = models.DateField(_("effective from"))
    revised_on = models.DateField(_("revised on"), null=True, blank=True)
    owner = models.CharField(_("owner"), max_length=100)
    purpose = models.TextField(_("purpose"), blank=True)

    class Meta:
        ordering = ["name", "-effective_from"]
        verbose_name = _("checklist template")
        verbose_name_plural = _("checklist templates")
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="checklist_template_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class ChecklistSection(models.Model):
    template = models.ForeignKey(
        ChecklistTemplate,
        on_delete=models.CASCADE,
        related_name="sections",
        verbose_name=_("template"),
    )
    order = models.PositiveSmallIntegerField(_("order"))
    title = models.CharField(_("title"), max_length=200)
    guidance = models.TextField(_("guidance"), blank=True)

    class Meta:
        ordering = ["template", "order"]
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        constraints = [
            models.UniqueConstraint(fields=["template", "order"], name="checklist_section_order")
        ]

    def __str__(self) -> str:
        return self.title


class ChecklistItem(models.Model):
    """One question. ``code`` is stable across template versions: it links an answer to the
    same question in a later version (renewal pre-fill, "changed since last time")."""

    section = models.ForeignKey(
        ChecklistSection,
        on_delete=models.CASCADE,
        related_name="items",
        verbose_name=_("section"),
    )
    order = models.PositiveSmallIntegerField(_("order"))
    code = models.SlugField(_("code"), max_length=80)
    question = models.CharField(_("question"), max_length=300)
    help_text = models.TextField(_("help text"), blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=ItemKind.choices)
    choices = models.JSONField(
        _("choices"),
        default=list,
        blank=True,
        help_text=_("For a choice item: the options, as a list of texts."),
    )
    passing_choices = models.JSONField(
        _("choices that meet the requirement"),
        default=list,
        blank=True,
        help_text=_("For a knock-out choice item: the options that meet it."),
    )
    is_knock_out = models.BooleanField(
        _("knock-out"),
        default=False,
        help_text=_("Must be met for a positive advice of the location manager."),
    )
    applies = models.CharField(
        _("asked"), max_length=30, choices=Applicability.choices, default=Applicability.ALWAYS
    )

    class Meta:
        ordering = ["section__order", "order"]
        verbose_name = _("item")
        verbose_name_plural = _("items")
        constraints = [
            models.UniqueConstraint(fields=["section", "order"], name="checklist_item_order"),
        ]

    def __str__(self) -> str:
        return self.question


class Assessment(models.Model):
    """The pre-assessment of one admission request, in revisions.

    A revision is a draft until submitted, then frozen. When the quality team sends the request
    back, the location manager starts a new revision; the earlier ones stay visible.
    """

    admission_request = models.ForeignKey(
        "procedure.AdmissionRequest",
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("admission request"),
    )
    revision = models.PositiveSmallIntegerField(_("revision"), default=1)
    template = models.ForeignKey(
        ChecklistTemplate,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("checklist version"),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=AssessmentStatus.choices,
        default=AssessmentStatus.DRAFT,
    )
    prefilled_from = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("pre-filled from"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last saved"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submitted by"),
    )

    class Meta:
        ordering = ["admission_request", "revision"]
        verbose_name = _("pre-assessment")
        verbose_name_plural = _("pre-assessments")
        constraints = [
            models.UniqueConstraint(
                fields=["admission_request", "revision"], name="assessment_revision_per_request"
            ),
        ]

    def __str__(self) -> str:
        return _("Pre-assessment %(reference)s, revision %(revision)s") % {
            "reference": self.admission_request.reference,
            "revision": self.revision,
        }

    @property
    def is_submitted(self) -> bool:
        return self.status == AssessmentStatus.SUBMITTED


class Answer(models.Model):
    assessment = models.ForeignKey(
        Assessment,
        on_delete=models.CASCADE,
        related_name="answers",
        verbose_name=_("pre-assessment"),
    )
    item = models.ForeignKey(
        ChecklistItem, on_delete=models.PROTECT, related_name="answers", verbose_name=_("item")
    )
    # "yes"/"no", the chosen option, a text or telephone number, or for hours
    # {"from": "17:00", "to": "08:00", "weekends": true}.
    value = models.JSONField(_("answer"), null=True, blank=True)
    explanation = LimitedTextField(_("explanation"), max_length=TextLimit.DESCRIPTION, blank=True)
    remark = LimitedTextField(_("remark"), max_length=TextLimit.REMARK, blank=True)
    to_confirm = models.BooleanField(
        _("to confirm"),
        default=False,
        help_text=_("Copied from the previous assessment; the location manager must confirm it."),
    )

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            *length_checks(explanation=TextLimit.DESCRIPTION, remark=TextLimit.REMARK),
            models.UniqueConstraint(fields=["assessment", "item"], name="answer_per_item"),
        ]

    def __str__(self) -> str:
        return f"{self.item.code}: {self.value}"
