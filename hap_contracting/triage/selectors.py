"""Reads of the triage filter list. The verdict for an address (seed 004, 7.2) is written once,
here: listed, Wlz with treatment, and no contract covering the location today."""

import datetime

from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

from hap_contracting.contracts.selectors import contract_covers
from hap_contracting.core.scoping import scoped_to_region
from hap_contracting.core.tokens import token_hash
from hap_contracting.core.validators import normalise_postcode
from hap_contracting.organisations.selectors import locations_at_address

from . import rules as triage_rules
from .constants import TriageListChangeKind, TriageVerdict
from .models import TriageApiClient, TriageFilterEntry, TriageListChange


def _on_the_list(location):
    return Exists(TriageFilterEntry.objects.filter(location=location, delisted_on__isnull=True))


def triage_verdict(*, postcode: str, house_number: int, addition: str = "") -> str:
    """What triage does for a call from this address.

    Only a Wlz-with-treatment location without a contract that is on the list is refused
    (referred to the institution's own physician). A location without treatment admission is
    never refused: its residents are registered (ION) patients of the cooperative's GPs.
    """
    try:
        postcode = normalise_postcode(postcode)
    except ValidationError:
        return TriageVerdict.UNKNOWN  # a bad postcode is simply not a known address
    today = timezone.localdate()
    location = (
        locations_at_address(postcode=postcode, house_number=house_number, addition=addition)
        .annotate(
            contracted=contract_covers(OuterRef("pk"), today), listed=_on_the_list(OuterRef("pk"))
        )
        .values("wlz_treatment_admission", "contracted", "listed")
        .first()
    )
    if location is None:
        return TriageVerdict.UNKNOWN
    if location["contracted"]:
        return TriageVerdict.CONTRACTED
    if location["wlz_treatment_admission"] and location["listed"]:
        return TriageVerdict.NO_CARE_WITHOUT_AGREEMENT
    return TriageVerdict.UNKNOWN


def triage_entries_visible_to(user) -> QuerySet[TriageFilterEntry]:
    if not triage_rules.can_download_triage_list.test(user):
        return TriageFilterEntry.objects.none()
    return scoped_to_region(
        TriageFilterEntry.objects.select_related("location"), user, "location__region_id"
    )


def triage_list(user) -> QuerySet[TriageFilterEntry]:
    """Every entry the user may see, the open ones first, newest first."""
    return triage_entries_visible_to(user).order_by("delisted_on", "-listed_on", "pk")


def triage_refused_entries(user, today: datetime.date | None = None) -> QuerySet[TriageFilterEntry]:
    """The addresses triage refers elsewhere, by the verdict's rule: on the list, Wlz with
    treatment, and no contract covering the location today."""
    today = today or timezone.localdate()
    return (
        triage_entries_visible_to(user)
        .filter(delisted_on__isnull=True, location__wlz_treatment_admission=True)
        .exclude(contract_covers(OuterRef("location_id"), today))
        .order_by(
            "location__postcode", "location__house_number", "location__house_number_addition", "pk"
        )
    )


def triage_api_client_for_token(token: str) -> dict | None:
    """The active client holding ``token`` (found by its hash in one indexed query), or None."""
    return (
        TriageApiClient.objects.filter(token_hash=token_hash(token), is_active=True)
        .values("pk", "name", "last_used_at")
        .first()
    )


# --- The feed: the list, its versions and its changes ------------------------------------------

FEED_ENTRY_FIELDS = ("entry_id", "postcode", "house_number", "addition", "reason")


def triage_list_head() -> dict:
    """The list's version (the id of its last change, 0 before any) and when that change was
    recorded (None before any): one query."""
    last = TriageListChange.objects.order_by("-pk").values("pk", "recorded_at").first()
    return (
        {"version": last["pk"], "changed_at": last["recorded_at"]}
        if last
        else {
            "version": 0,
            "changed_at": None,
        }
    )


def triage_list_at_version(version: int) -> list[dict]:
    """The entries on the list at ``version``: put on at or before it and not taken off at or
    before it. One query (the removals are looked up by their unique key); ordered by address."""
    removed = TriageListChange.objects.filter(
        entry=OuterRef("entry_id"), kind=TriageListChangeKind.REMOVED, pk__lte=version
    )
    return list(
        TriageListChange.objects.filter(kind=TriageListChangeKind.ADDED, pk__lte=version)
        .exclude(Exists(removed))
        .order_by("postcode", "house_number", "addition", "entry_id")
        .values(*FEED_ENTRY_FIELDS, listed_on=F("on"))
    )


def triage_list_on(day: datetime.date, *, version: int) -> list[dict]:
    """The entries on the list on ``day`` as the list (up to ``version``) records it: listed on
    or before that day and not taken off on or before it. One query."""
    removed = TriageListChange.objects.filter(
        entry=OuterRef("entry_id"),
        kind=TriageListChangeKind.REMOVED,
        pk__lte=version,
        on__lte=day,
    )
    return list(
        TriageListChange.objects.filter(
            kind=TriageListChangeKind.ADDED, pk__lte=version, on__lte=day
        )
        .exclude(Exists(removed))
        .order_by("postcode", "house_number", "addition", "entry_id")
        .values(*FEED_ENTRY_FIELDS, listed_on=F("on"))
    )


def triage_list_changes(*, after: int, up_to: int) -> list[dict]:
    """The changes after version ``after`` up to ``up_to``, in order. One query."""
    return list(
        TriageListChange.objects.filter(pk__gt=after, pk__lte=up_to)
        .order_by("pk")
        .values(
            "kind",
            "on",
            "removed_because",
            "recorded_at",
            *FEED_ENTRY_FIELDS,
            version=F("pk"),
        )
    )
