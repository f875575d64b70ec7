"""Whether an answer is complete and whether it meets its item: pure functions, no queries."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import phonenumbers
from django.utils.translation import gettext as _

from .constants import Applicability, ItemKind

EVENING_STARTS = datetime.time(17, 0)
NIGHT_ENDS = datetime.time(8, 0)
LAST_MINUTE = datetime.time(23, 59)


@dataclass(frozen=True)
class Verdict:
    answered: bool
    met: bool | None  # None: not answered, or an item that can't fail (text)
    error: str | None = None  # what keeps the answer from being complete


def parse_time(text) -> datetime.time | None:
    try:
        return datetime.time.fromisoformat(str(text).strip())
    except ValueError:
        return None


def normalise_phone(text: str) -> str | None:
    """The number in Dutch national notation, or None when it is not a valid number."""
    try:
        number = phonenumbers.parse(str(text), "NL")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def hours_gaps(value: dict) -> list[str]:
    """The parts of evenings, nights and weekends (ANW) that ``value`` does not cover.

    ``from``–``to`` is the daily window on weekdays; it wraps past midnight when ``to`` lies
    before ``from``, and equal times (or 00:00–23:59) mean around the clock.
    """
    start, end = parse_time(value.get("from", "")), parse_time(value.get("to", ""))
    if end == LAST_MINUTE and start != end:
        end = datetime.time(0, 0)  # "until 23:59" means until midnight: 00:00–23:59 is all day
    gaps = []
    around_the_clock = start == end
    wraps = end < start
    if not around_the_clock:
        if not wraps or start > EVENING_STARTS:
            gaps.append(_("the evening from 17:00"))
        if not wraps or end < NIGHT_ENDS:
            gaps.append(_("the night until 08:00"))
    if not value.get("weekends"):
        gaps.append(_("the weekend"))
    return gaps


def knock_out_warning() -> str:
    """What the page says beside a knock-out item whose answer does not meet it: the server
    after a save or submit, and the browser as soon as the answer is chosen (the same text)."""
    return _("Knock-out item: with this answer a positive advice is not possible.")


def passing_values(item) -> list[str] | None:
    """For a knock-out item answered by a choice (yes/no, an option): the answers that meet it;
    None for other items (their verdict needs more than the chosen value)."""
    if not item.is_knock_out:
        return None
    if item.kind == ItemKind.YES_NO:
        return ["yes"]
    if item.kind == ItemKind.CHOICE:
        return list(item.passing_choices)
    return None


def evaluate(item, value, explanation: str) -> Verdict:
    explanation = (explanation or "").strip()
    if item.kind == ItemKind.YES_NO:
        if value not in ("yes", "no"):
            return Verdict(False, None, _("Answer yes or no."))
        if value == "no" and not explanation:
            return Verdict(True, False, _("Explain why not."))
        return Verdict(True, value == "yes")
    if item.kind == ItemKind.CHOICE:
        if value not in item.choices:
            return Verdict(False, None, _("Choose one of the options."))
        met = value in passing_values(item) if item.is_knock_out else True
        if not met and not explanation:
            return Verdict(True, False, _("Explain why not."))
        return Verdict(True, met)
    if item.kind == ItemKind.TEXT:
        if not str(value or "").strip():
            return Verdict(False, None, _("Fill this in."))
        return Verdict(True, True)
    if item.kind == ItemKind.PHONE:
        if not str(value or "").strip():
            return Verdict(False, None, _("Fill in a telephone number."))
        if normalise_phone(value) is None:
            return Verdict(
                False, None, _("%(value)s is not a valid telephone number.") % {"value": value}
            )
        return Verdict(True, True)
    if item.kind == ItemKind.HOURS:
        value = value if isinstance(value, dict) else {}
        if parse_time(value.get("from", "")) is None or parse_time(value.get("to", "")) is None:
            return Verdict(False, None, _("Fill in the hours as from and to times, e.g. 17:00."))
        gaps = hours_gaps(value)
        if gaps and not explanation:
            return Verdict(
                True,
                False,
                _("These hours do not cover %(gaps)s; explain, or correct the hours.")
                % {"gaps": ", ".join(gaps)},
            )
        return Verdict(True, not gaps)
    raise ValueError(f"unknown item kind {item.kind}")


def applies_to(item, *, serves_special_group: bool) -> bool:
    return item.applies == Applicability.ALWAYS or serves_special_group
