"""The rules of one line of a claims file: the only definition of each, used by both ways the
import stores what they check (``claims_staging``).

The checker runs while the file streams past, one line at a time. It is fast because a file
repeats itself: a million lines name a handful of posts, acts and reason codes and a few
thousand addresses, so every column but the patient's is checked once per distinct value and
remembered (up to ``MEMO_SIZE`` values a column, so that memory stays flat whatever the file
holds). The BSN rules must run here, before anything reaches the database: a BSN is hashed
before it is staged, and a patient reference that is one is never staged at all.
"""

from __future__ import annotations

import datetime
from operator import itemgetter

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from hap_contracting.core.validators import (
    bsn_digits,
    bsn_hash,
    bsn_is_valid,
    looks_like_a_bsn,
    normalise_house_number,
    normalise_house_number_addition,
    normalise_postcode,
)
from hap_contracting.organisations.models import HapPost
from hap_contracting.tariffs.models import Act

from .claims_file import COLUMNS, MAX_FIELD_LENGTH, fold, parse_moment

# Columns with a lower limit than every field's ``MAX_FIELD_LENGTH`` (their model fields).
COLUMN_LIMITS = {"patient_reference": 40, "reason_code": 20}
# Distinct values remembered per column; past that the memory starts again.
MEMO_SIZE = 20_000

# A checked line: the values the claim gets, in this order.
CHECKED_COLUMNS = (
    "care_at",
    "care_on",
    "post_id",
    "act_id",
    "patient_reference",
    "bsn_hash",
    "postcode",
    "house_number",
    "house_number_addition",
    "reason_code",
)

Errors = list[tuple[str, str]]  # (column header, reason) in the order they are reported


class _Memo(dict):
    """Each distinct value of a column checked once, while there are not too many."""

    def __init__(self, check):
        super().__init__()
        self.check = check

    def __missing__(self, value):
        if len(self) >= MEMO_SIZE:
            self.clear()
        result = self[value] = self.check(value)
        return result


class LineChecker:
    """Checks the cells of a line against the header's ``positions`` (column key → index)."""

    def __init__(self, positions: dict[str, int], now: datetime.datetime):
        self.now = now
        self.zone = timezone.get_current_timezone()
        posts = list(HapPost.objects.values_list("pk", "name", "city"))
        self.posts = {fold(name): pk for pk, name, _city in posts}
        self.posts.update({fold(city): pk for pk, _name, city in posts})
        self.acts = {code.upper(): pk for pk, code in Act.objects.values_list("pk", "code")}
        self.width = max(positions.values()) + 1
        # Every column's value, in the order of COLUMNS: a column the file lacks reads the
        # empty cell added after the line's own.
        self._cells = itemgetter(*(positions.get(column.key, self.width) for column in COLUMNS))
        self._limits = tuple(COLUMN_LIMITS.get(column.key, MAX_FIELD_LENGTH) for column in COLUMNS)
        self._moment_memo = _Memo(self._moment)
        self._post_memo = _Memo(self._post)
        self._act_memo = _Memo(self._act)
        self._postcode_memo = _Memo(self._postcode)
        self._house_number_memo = _Memo(self._house_number)
        self._addition_memo = _Memo(self._addition)
        self._reason_memo = _Memo(self._reason)
        # The messages of the columns that are not remembered, translated once.
        self._empty = _("empty")
        self._looks_like_a_bsn = _(
            "looks like a BSN; give the post's patient reference (a BSN goes in BSN)"
        )
        self._bad_bsn = _("not a valid BSN (11-test)")

    # --- One value ----------------------------------------------------------------------------

    def _moment(self, value: str):
        care_at = parse_moment(value, self.zone)
        if care_at is None:
            return (
                None,
                None,
                (
                    "datum_tijd",
                    _("not a date and time like 2026-11-01 23:15 or 01-11-2026 23:15"),
                ),
            )
        if care_at > self.now:
            return None, None, ("datum_tijd", _("the date lies in the future"))
        return care_at, care_at.date(), None

    def _post(self, value: str):
        post_id = self.posts.get(fold(value))
        return post_id, None if post_id is not None else ("huisartsenpost", _("unknown post"))

    def _act(self, value: str):
        act_id = self.acts.get(value.strip().upper())
        return act_id, None if act_id is not None else ("verrichting", _("unknown act code"))

    def _postcode(self, value: str):
        try:
            return normalise_postcode(value), None
        except ValidationError:
            return None, ("postcode", _("not a Dutch postcode such as 8011 AB"))

    def _house_number(self, value: str):
        try:
            return normalise_house_number(value), None
        except ValidationError:
            return None, ("huisnummer", _("not a house number"))

    def _addition(self, value: str):
        try:
            return normalise_house_number_addition(value), None
        except ValidationError:
            return "", ("toevoeging", _("not a house number addition"))

    def _reason(self, value: str):
        reason = value.strip()
        return reason, None if reason else ("redencode", self._empty)

    # --- One line -----------------------------------------------------------------------------

    def values(self, cells: list[str]) -> tuple[str, ...]:
        """The line's value of each column, in the order of COLUMNS; empty where the line is
        short or the file lacks the (optional) column."""
        return self._cells(cells + [""] * (self.width + 1 - len(cells)))

    def check(self, values: tuple[str, ...]) -> tuple[tuple | None, Errors]:
        """The checked values (``CHECKED_COLUMNS``) of a good line, or None and its errors."""
        (typed_moment, typed_post, typed_act, typed_reference, typed_bsn, typed_postcode,
         typed_number, typed_addition, typed_reason) = values  # fmt: skip
        everything = "".join(values)
        if (
            "\x00" in everything
            or len(everything) > MAX_FIELD_LENGTH
            or len(typed_reference) > COLUMN_LIMITS["patient_reference"]
            or len(typed_reason) > COLUMN_LIMITS["reason_code"]
        ):
            errors = self._sizes(values)
            if errors:
                return None, errors
        care_at, care_on, moment_error = self._moment_memo[typed_moment]
        post_id, post_error = self._post_memo[typed_post]
        act_id, act_error = self._act_memo[typed_act]
        postcode, postcode_error = self._postcode_memo[typed_postcode]
        number, number_error = self._house_number_memo[typed_number]
        addition, addition_error = self._addition_memo[typed_addition]
        reason, reason_error = self._reason_memo[typed_reason]
        reference = typed_reference.strip()
        if not reference:
            reference_error = ("patientreferentie", self._empty)
        elif looks_like_a_bsn(reference):
            # No BSN is stored in clear: a reference that is one goes back to the sender.
            reference_error = ("patientreferentie", self._looks_like_a_bsn)
        else:
            reference_error = None
        bsn = bsn_digits(typed_bsn) if typed_bsn else ""
        bsn_error = ("bsn", self._bad_bsn) if bsn and not bsn_is_valid(bsn) else None
        if (
            moment_error
            or post_error
            or act_error
            or reference_error
            or bsn_error
            or postcode_error
            or number_error
            or addition_error
            or reason_error
        ):
            return None, [
                error
                for error in (
                    moment_error,
                    post_error,
                    act_error,
                    reference_error,
                    bsn_error,
                    postcode_error,
                    number_error,
                    addition_error,
                    reason_error,
                )
                if error is not None
            ]
        return (
            care_at,
            care_on,
            post_id,
            act_id,
            reference,
            bsn_hash(bsn) if bsn else "",
            postcode,
            number,
            addition,
            reason,
        ), []

    def _sizes(self, values: tuple[str, ...]) -> Errors:
        """A NUL character or a value over its column's limit: the line's only errors, as the
        values can't be read further."""
        errors = []
        for column, value, limit in zip(COLUMNS, values, self._limits, strict=True):
            if "\x00" in value:
                errors.append((column.header, _("holds a NUL character")))
            elif len(value) > limit:
                errors.append((column.header, _("longer than %(max)s characters") % {"max": limit}))
        return errors
