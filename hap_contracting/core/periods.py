"""Dated rows that hold for a period (``valid_from`` up to and including ``valid_until``, open
ended when empty): insurer tariffs and administrative costs. One rule for "valid on a day" and
one for "periods do not overlap"."""

import datetime

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .errors import DomainError


class PeriodQuerySet(models.QuerySet):
    def valid_on(self, day):
        """Rows valid on ``day``: a date, or an expression such as ``OuterRef("care_on")``."""
        return self.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=day), valid_from__lte=day
        )

    def overlapping(
        self, valid_from: datetime.date, valid_until: datetime.date | None, *, own=None
    ):
        """Rows whose period shares a day with the given one, leaving out the row ``own``."""
        rows = self.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=valid_from))
        if valid_until is not None:
            rows = rows.filter(valid_from__lte=valid_until)
        if own is not None and own.pk:
            rows = rows.exclude(pk=own.pk)
        return rows.order_by("valid_from")


def period_not_reversed(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
        name=name,
        violation_error_message=gettext_lazy("The end of the period lies before its start."),
    )


def period_check(valid_from: datetime.date, valid_until: datetime.date | None) -> None:
    if valid_until is not None and valid_until < valid_from:
        raise DomainError(_("The end of the period lies before its start."), field="valid_until")
