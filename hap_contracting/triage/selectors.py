"""Reads of the triage filter list and of the verdict per address (seed 004, 7.2), which the
services keep (``services.triage_verdicts_refresh``)."""

import datetime
import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

from hap_contracting.core.scoping import scoped_to_region
from hap_contracting.core.tokens import token_hash
from hap_contracting.core.validators import normalise_postcode

from . import rules as triage_rules
from .constants import TriageListChangeKind, TriageVerdict
from .models import TriageAddressVerdict, TriageApiClient, TriageFilterEntry, TriageListChange

VERDICT_SQL = (
    f"SELECT verdict FROM {TriageAddressVerdict._meta.db_table} "  # noqa: S608 (no user input)
    "WHERE postcode = %s AND house_number = %s AND addition = %s "
    "AND starts_on <= %s AND ends_on >= %s LIMIT 1"
)


def triage_verdict(
    *, postcode: str, house_number: int, addition: str = "", on: datetime.date | None = None
) -> str:
    """What triage does for a call from this address on ``on`` (today by default): the verdict
    the services keep for it (``TriageAddressVerdict``, the rule in ``services.verdict_periods``).
    A postcode that is not one is simply not a known address."""
    try:
        postcode = normalise_postcode(postcode)
    except ValidationError:
        return TriageVerdict.UNKNOWN
    return triage_verdict_at(
        postcode=postcode,
        house_number=house_number,
        addition=addition.upper(),
        day=on or timezone.localdate(),
    )


def triage_verdict_at(*, postcode: str, house_number: int, addition: str, day) -> str:
    """The verdict for an address given as the table keeps it (postcode ``8011 AB``, addition in
    capitals): one indexed query, written out so that a lookup during a call does not pay for
    building it."""
    with connection.cursor() as cursor:
        cursor.execute(
            VERDICT_SQL,
            [postcode, house_number, addition, *[connection.ops.adapt_datefield_value(day)] * 2],
        )
        row = cursor.fetchone()
    return row[0] if row else TriageVerdict.UNKNOWN


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
    """The addresses triage refers elsewhere ``today``: the open entries whose location's
    address has that verdict (on the list, Wlz with treatment, no contract covering it), as the
    API answers it."""
    today = today or timezone.localdate()
    refused = TriageAddressVerdict.objects.filter(
        location=OuterRef("location_id"),
        verdict=TriageVerdict.NO_CARE_WITHOUT_AGREEMENT,
        starts_on__lte=today,
        ends_on__gte=today,
    )
    return (
        triage_entries_visible_to(user)
        .filter(Exists(refused), delisted_on__isnull=True)
        .order_by(
            "location__postcode", "location__house_number", "location__house_number_addition", "pk"
        )
    )


# A process keeps the clients it found for this long, so that a lookup does not ask the database
# who holds the token every time; a deactivated client is refused everywhere within it.
CLIENT_FIELDS = ("pk", "name", "last_used_at", "last_synced_at", "last_synced_version")
_clients_found: dict[str, tuple[float, dict]] = {}


def triage_api_client_for_token(token: str) -> dict | None:
    """The active client holding ``token`` (found by its hash in one indexed query, or in this
    process's memory for ``TRIAGE_API_CLIENT_CACHE_SECONDS`` after that), or None. Only clients
    are kept, not wrong tokens, so guessing cannot fill the memory. The dict is the process's
    own: the services note on it when they last wrote the client's use and sync."""
    key = token_hash(token)
    now = time.monotonic()
    found = _clients_found.get(key)
    if found is not None and found[0] > now:
        return found[1]
    client = (
        TriageApiClient.objects.filter(token_hash=key, is_active=True)
        .values(*CLIENT_FIELDS)
        .first()
    )
    if client is None:
        _clients_found.pop(key, None)
    else:
        _clients_found[key] = (now + settings.TRIAGE_API_CLIENT_CACHE_SECONDS, client)
    return client


def triage_api_clients_forget() -> None:
    """Ask the database again at the next request (this process): after a deactivation."""
    _clients_found.clear()


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


VERSION_SQL = f"SELECT id FROM {TriageListChange._meta.db_table} ORDER BY id DESC LIMIT 1"  # noqa: S608


def triage_list_version() -> int:
    """The list's version alone (the id of its last change, 0 before any): the feed asks it at
    every read, written out so that it costs the index lookup and little more."""
    with connection.cursor() as cursor:
        cursor.execute(VERSION_SQL)
        row = cursor.fetchone()
    return row[0] if row else 0


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
