from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


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
