"""Free text written by users, and the limits that keep it to its use.

A limit holds in three places: the form (the browser's ``maxlength`` and Django's form
validation), the service (a Dutch message naming the field, for every path that does not go
through a form) and the database (a check constraint, for the shell and anything else).
Django's own ``TextField(max_length=...)`` only reaches the form.
"""

from __future__ import annotations

from enum import IntEnum

from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from .errors import DomainError


class TextLimit(IntEnum):
    """How long a kind of free text may be, in characters. One A4 page is about 3,500."""

    #: a short text answer to a checklist question
    ANSWER = 300
    #: a line or two beside an answer, a short note on a step
    REMARK = 500
    #: why something was withdrawn, terminated, credited or escalated
    REASON = 1_000
    #: an explanation of a checklist answer, a breach and what was done about it
    DESCRIPTION = 2_000
    #: intake notes, how an outcome was processed, an address investigation
    NOTES = 2_000
    #: an advice or decision, which may go through the checklist item by item
    MOTIVATION = 4_000


class LimitedTextField(models.TextField):
    """A text area whose maximum length also holds in model validation (``full_clean``)."""

    def __init__(self, *args, max_length: int, **kwargs):
        super().__init__(*args, max_length=int(max_length), **kwargs)
        self.validators.append(MaxLengthValidator(self.max_length))


def length_checks(**limits: int) -> list[models.CheckConstraint]:
    """The database's check constraints for ``field=limit`` pairs of one model."""
    return [
        models.CheckConstraint(
            condition=LessThanOrEqual(Length(field), int(limit)),
            name=f"%(app_label)s_%(class)s_{field}_length",
        )
        for field, limit in limits.items()
    ]


def too_long(text: str, limit: int) -> str | None:
    """The user's message when ``text`` is longer than ``limit``, else None."""
    if len(text) <= limit:
        return None
    return _("Use at most %(limit)s characters; this text has %(count)s.") % {
        "limit": number_format(int(limit), force_grouping=True),
        "count": number_format(len(text), force_grouping=True),
    }


def checked_text(value, *, field: str, limit: int, required_message=None) -> str:
    """``value`` stripped; refused with a message at ``field`` when it is too long, or empty
    while ``required_message`` says it is required."""
    text = (value or "").strip()
    if not text and required_message:
        raise DomainError(required_message, field=field)
    if message := too_long(text, limit):
        raise DomainError(message, field=field)
    return text
