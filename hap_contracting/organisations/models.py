"""Regions, their out-of-hours GP posts and postcode areas, the care organisations and their
residential care locations. A location's region and post follow from its postcode
(``services.care_location_register``)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hap_contracting.core.validators import (
    HOUSE_NUMBER_MAX,
    validate_agb_code,
    validate_house_number_addition,
    validate_kvk_number,
    validate_postcode,
)

from .classification import FACT_LABELS, Classification, Facts, classify
from .constants import Answer, CareProfile, HousingAndCare, OrganisationType, WkkgzSituation


class Region(models.Model):
    """One of the cooperative's regions; each has its own quality team and council."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("short name"), unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name


class HapPost(models.Model):
    """An out-of-hours GP post (huisartsenpost) of a region."""

    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="posts", verbose_name=_("region")
    )
    name = models.CharField(_("name"), max_length=100, unique=True)
    city = models.CharField(_("city"), max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name = _("out-of-hours GP post")
        verbose_name_plural = _("out-of-hours GP posts")

    def __str__(self) -> str:
        return self.name


class PostcodeRange(models.Model):
    """Numeric postcode areas (the four digits) served by a post; decides a location's region."""

    post = models.ForeignKey(
        HapPost, on_delete=models.CASCADE, related_name="postcode_ranges", verbose_name=_("post")
    )
    first = models.PositiveSmallIntegerField(_("from postcode"))
    last = models.PositiveSmallIntegerField(_("to postcode"))

    class Meta:
        ordering = ["first"]
        verbose_name = _("postcode range")
        verbose_name_plural = _("postcode ranges")
        constraints = [
            models.CheckConstraint(
                condition=Q(first__lte=F("last")), name="postcode_range_first_before_last"
            ),
            models.CheckConstraint(
                condition=Q(first__gte=1000, last__lte=9999), name="postcode_range_four_digits"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first}–{self.last} → {self.post}"

    def clean(self) -> None:
        if self.first is None or self.last is None:
            return
        if self.first > self.last:
            raise ValidationError({"last": _("The range must end at or after its start.")})
        overlapping = PostcodeRange.objects.filter(
            first__lte=self.last, last__gte=self.first
        ).exclude(pk=self.pk)
        if overlapping.exists():
            raise ValidationError(
                {"first": _("This range overlaps %(other)s.") % {"other": overlapping.first()}}
            )


class CareOrganisation(models.Model):
    """A care provider that runs one or more residential care locations."""

    name = models.CharField(_("name"), max_length=200)
    kvk_number = models.CharField(
        _("KvK number"), max_length=8, unique=True, validators=[validate_kvk_number]
    )
    agb_code = models.CharField(
        _("AGB code"), max_length=8, blank=True, validators=[validate_agb_code]
    )
    organisation_type = models.CharField(_("type"), max_length=32, choices=OrganisationType.choices)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact telephone"), max_length=20, blank=True)
    # Where its invoices go (the recipient on the PDF and in the e-invoice): the whole address
    # or none of it (``clean``).
    invoice_address = models.CharField(
        _("invoice address"),
        max_length=200,
        blank=True,
        help_text=_("Street and house number, or PO box (Postbus 123)."),
    )
    invoice_postcode = models.CharField(
        _("invoice postcode"), max_length=7, blank=True, validators=[validate_postcode]
    )
    invoice_city = models.CharField(_("invoice city"), max_length=100, blank=True)
    invoice_attention = models.CharField(
        _("attention of"),
        max_length=200,
        blank=True,
        help_text=_("Optional: a person or department the invoice is addressed to."),
    )
    invoice_reference = models.CharField(
        _("their reference or order number"),
        max_length=50,
        blank=True,
        help_text=_("The organisation's own reference for our invoices; it is on every invoice."),
    )
    invoice_email = models.EmailField(_("invoice e-mail"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("care organisation")
        verbose_name_plural = _("care organisations")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        parts = {
            "invoice_address": self.invoice_address,
            "invoice_postcode": self.invoice_postcode,
            "invoice_city": self.invoice_city,
        }
        if any(parts.values()):
            missing = {
                name: ValidationError(
                    _("Give the whole invoice address: address, postcode and city.")
                )
                for name, value in parts.items()
                if not value
            }
            if missing:
                raise ValidationError(missing)

    @property
    def has_invoice_address(self) -> bool:
        return bool(self.invoice_address and self.invoice_postcode and self.invoice_city)


class TargetGroup(models.Model):
    """A resident group a location serves; *special* groups need 24/7 consultation on site."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_special = models.BooleanField(
        _("special target group"),
        default=False,
        help_text=_(
            "Specialised in behaviour, medical complexity or communication: 24/7 consultation "
            "on location is required."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("target group")
        verbose_name_plural = _("target groups")

    def __str__(self) -> str:
        return self.name


class CareLocation(models.Model):
    """A residential care location. Region and post follow from the postcode."""

    organisation = models.ForeignKey(
        CareOrganisation,
        on_delete=models.PROTECT,
        related_name="locations",
        null=True,
        blank=True,
        verbose_name=_("organisation"),
        help_text=_("Empty while it is still being investigated which organisation runs it."),
    )
    name = models.CharField(_("name"), max_length=200)
    street = models.CharField(_("street"), max_length=200)
    house_number = models.PositiveIntegerField(
        _("house number"),
        validators=[MinValueValidator(1), MaxValueValidator(HOUSE_NUMBER_MAX)],
    )
    house_number_addition = models.CharField(
        _("addition"), max_length=6, blank=True, validators=[validate_house_number_addition]
    )
    postcode = models.CharField(_("postcode"), max_length=7, validators=[validate_postcode])
    city = models.CharField(_("city"), max_length=100)
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="locations",
        verbose_name=_("region"),
    )
    hap_post = models.ForeignKey(
        HapPost,
        on_delete=models.PROTECT,
        related_name="locations",
        verbose_name=_("out-of-hours GP post"),
    )
    wlz_treatment_admission = models.BooleanField(
        _("Wlz admission with treatment"),
        default=False,
        help_text=_(
            "Residents have a Wlz indication 'stay with treatment': the institution's "
            "own SO/AVG is medically responsible."
        ),
    )
    treatment_delivered = models.BooleanField(
        _("treatment actually delivered"),
        default=False,
        help_text=_("Whether the institution's own physician actually delivers the treatment."),
    )
    target_groups = models.ManyToManyField(
        TargetGroup, blank=True, related_name="locations", verbose_name=_("target groups")
    )
    highest_care_profile = models.PositiveSmallIntegerField(
        _("highest care profile"), choices=CareProfile.choices, null=True, blank=True
    )
    financed_vpt = models.BooleanField(_("VPT (full package at home)"), default=False)
    financed_mpt = models.BooleanField(_("MPT (modular package at home)"), default=False)
    financed_pgb = models.BooleanField(_("PGB (personal budget)"), default=False)
    number_of_residents = models.PositiveIntegerField(_("number of residents"), default=0)
    # The facts of the Wkkgz question (seed 000) beside ``wlz_treatment_admission``.
    housing_and_care = models.CharField(
        _("housing and care"),
        max_length=24,
        choices=HousingAndCare.choices,
        default=HousingAndCare.UNKNOWN,
        help_text=_(
            "Does the location offer housing and care together, with care dominating the "
            "rental and care agreement, or fully separately?"
        ),
    )
    pgb_without_zorgkantoor_contract = models.CharField(
        _("PGB budgets only, no contract with the zorgkantoor"),
        max_length=8,
        choices=Answer.choices,
        default=Answer.UNKNOWN,
        help_text=_(
            "Does the location work on personal budgets (PGB), with contracts between residents "
            "and provider only and none between provider and zorgkantoor?"
        ),
    )
    # Derived from the facts by the service that saves them (``classification.classify``); kept
    # so that lists can filter on it.
    wkkgz_situation = models.CharField(
        _("Wkkgz situation"),
        max_length=24,
        choices=WkkgzSituation.choices,
        default=WkkgzSituation.UNKNOWN,
        editable=False,
        db_index=True,
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("care location")
        verbose_name_plural = _("care locations")
        constraints = [
            models.UniqueConstraint(
                fields=["postcode", "house_number", "house_number_addition"],
                name="care_location_unique_address",
                violation_error_message=_("A care location at this address already exists."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}, {self.city}"

    @property
    def address(self) -> str:
        number = (
            f"{self.house_number}{self.house_number_addition and '-' + self.house_number_addition}"
        )
        return f"{self.street} {number}, {self.postcode} {self.city}"

    @property
    def classification(self) -> Classification:
        """The Wkkgz situation of the facts as they are now, with what follows from it."""
        return classify(Facts.of(self))


class ClassificationChange(models.Model):
    """The history of a location's Wkkgz situation: one row each time the service saves a change
    of a fact the classification reads (or registers the location), with the situation before
    and after. Append-only: on PostgreSQL a trigger refuses UPDATE and DELETE, and the rows are
    hash-chained (``core.chain.protect``), as the other history."""

    location = models.ForeignKey(
        CareLocation,
        on_delete=models.PROTECT,
        related_name="classification_changes",
        verbose_name=_("care location"),
    )
    old_situation = models.CharField(
        _("situation before"),
        max_length=24,
        choices=WkkgzSituation.choices,
        blank=True,
        help_text=_("Empty: the location was registered."),
    )
    new_situation = models.CharField(
        _("situation after"), max_length=24, choices=WkkgzSituation.choices
    )
    # [{"fact": field name, "old": value or null, "new": value}, ...]
    changed_facts = models.JSONField(_("changed facts"), default=list)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("classification change")
        verbose_name_plural = _("classification history")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.old_situation} → {self.new_situation}"

    @property
    def changed_fact_labels(self) -> list:
        return [FACT_LABELS.get(change["fact"], change["fact"]) for change in self.changed_facts]
