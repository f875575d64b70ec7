"""Writes of the triage filter list (seed 004, 7.1 and 7.2). An entry is never deleted: leaving
the list sets ``delisted_on``, so the history keeps both. At most one open entry per location
(a unique constraint), so every step below can run twice, or concurrently, and list once.

Every listing and delisting also writes its ``TriageListChange`` in the same transaction, under
one lock for the whole list (``_lock_the_list``): the change ids, the list's versions, then
follow the order of the commits, so a client that read version N never misses a change below N.
"""

import datetime
import secrets

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from hap_contracting.contracts.selectors import contract_covers
from hap_contracting.core.errors import DomainError
from hap_contracting.core.sql import AddDays, insert_from
from hap_contracting.core.tokens import token_hash
from hap_contracting.core.validators import normalise_house_number_addition, normalise_postcode
from hap_contracting.procedure.constants import RequestKind, RequestState
from hap_contracting.procedure.models import AdmissionRequest

from .constants import TriageFilterReason, TriageListChangeKind
from .models import TriageApiClient, TriageFilterEntry, TriageListChange

TOKEN_BYTES = 32
# ``last_used_at`` is written at most once a minute per client, so a busy client does not turn
# every lookup into a write.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


LIST_LOCK = "triage_filter_list"


def _lock_the_list() -> None:
    """One writer of the list at a time, until its transaction commits (PostgreSQL; SQLite
    writes one transaction at a time anyway). Taken before a change gets its id, so the ids are
    handed out in the order the changes commit."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [LIST_LOCK])


def _published_address(postcode: str, house_number: int, addition: str) -> dict:
    """The address as the verdict compares it: ``8011 AB``, the addition in capitals."""
    try:
        postcode = normalise_postcode(postcode)
    except ValidationError:  # registered before the postcode check existed: kept as it was
        postcode = postcode.strip().upper()[:7]
    try:
        addition = normalise_house_number_addition(addition)
    except ValidationError:
        addition = addition.strip().upper()[:6]
    return {"postcode": postcode, "house_number": house_number, "addition": addition}


CHANGE_FIELDS = (
    "pk",
    "reason",
    "listed_on",
    "delisted_on",
    "delisted_because",
    "location__postcode",
    "location__house_number",
    "location__house_number_addition",
)


def _record_changes(entries, kind: str) -> int:
    """A change of ``kind`` for each entry of ``entries`` (a queryset) that has none yet: one
    read and one insert, however many entries."""
    rows = (
        entries.exclude(Exists(TriageListChange.objects.filter(entry=OuterRef("pk"), kind=kind)))
        .order_by("pk")
        .values(*CHANGE_FIELDS)
    )
    changes = [
        TriageListChange(
            entry_id=row["pk"],
            kind=kind,
            on=row["listed_on"] if kind == TriageListChangeKind.ADDED else row["delisted_on"],
            reason=row["reason"],
            removed_because=row["delisted_because"] if kind == TriageListChangeKind.REMOVED else "",
            **_published_address(
                row["location__postcode"],
                row["location__house_number"],
                row["location__house_number_addition"],
            ),
        )
        for row in rows
    ]
    TriageListChange.objects.bulk_create(changes)
    return len(changes)


@transaction.atomic
def triage_filter_list(listings: dict[int, datetime.date], *, reason: str) -> int:
    """Put locations on the list: ``listings`` maps a location id to the day it is listed.
    Those on the list already stay as they are; returns how many were put on. A constant
    number of queries, however many locations."""
    if not listings:
        return 0
    _lock_the_list()
    already = set(
        TriageFilterEntry.objects.filter(
            location_id__in=listings, delisted_on__isnull=True
        ).values_list("location_id", flat=True)
    )
    new = [
        TriageFilterEntry(location_id=location_id, reason=reason, listed_on=listed_on)
        for location_id, listed_on in listings.items()
        if location_id not in already
    ]
    # A concurrent run may list one between the read and the insert: the one-open-entry key
    # refuses the second.
    TriageFilterEntry.objects.bulk_create(new, ignore_conflicts=True)
    return _record_changes(
        TriageFilterEntry.objects.filter(location_id__in=listings, delisted_on__isnull=True),
        TriageListChangeKind.ADDED,
    )


def triage_filter_list_after_grace(today: datetime.date) -> int:
    """A Wlz-with-treatment location whose grace period ended without a contract goes on the
    list the day after: no ANW care without an agreement. The residents of other locations are
    registered (ION) patients and are never refused. Each grace period lists once: a location
    taken off the list since is not put back for the same grace period. Returns the locations
    listed. Set-based: the lock, one ``INSERT … SELECT`` of the entries, and their changes."""
    listed_since_it_ended = TriageFilterEntry.objects.filter(
        location=OuterRef("location_id"),
        reason=TriageFilterReason.GRACE_PERIOD_ENDED,
        listed_on__gt=OuterRef("grace_ends_on"),
    )
    on_the_list = TriageFilterEntry.objects.filter(
        location=OuterRef("location_id"), delisted_on__isnull=True
    )
    ended = (
        AdmissionRequest.objects.filter(
            kind=RequestKind.REGULARISATION,
            grace_ends_on__lt=today,
            location__wlz_treatment_admission=True,
        )
        .exclude(state=RequestState.CONTRACTED)
        .exclude(contract_covers(OuterRef("location_id"), today))
        .exclude(Exists(listed_since_it_ended))
        .exclude(Exists(on_the_list))
        .order_by("pk")
    )
    with transaction.atomic():
        _lock_the_list()
        # A location listed by a concurrent run (or by two of its requests): the one-open-entry
        # key keeps the first.
        insert_from(
            TriageFilterEntry,
            ended,
            {
                "location_id": F("location_id"),
                "reason": TriageFilterReason.GRACE_PERIOD_ENDED,
                "listed_on": AddDays(F("grace_ends_on"), 1),
            },
            ignore_conflicts=True,
        )
        return _record_changes(
            TriageFilterEntry.objects.filter(
                delisted_on__isnull=True, reason=TriageFilterReason.GRACE_PERIOD_ENDED
            ),
            TriageListChangeKind.ADDED,
        )


@transaction.atomic
def triage_filter_delist_contracted(today: datetime.date) -> int:
    """Take locations off the list once a contract covering them has started (seed 004, 7.2):
    one ``UPDATE … WHERE``, and the changes."""
    _lock_the_list()
    count = (
        TriageFilterEntry.objects.filter(delisted_on__isnull=True)
        .filter(contract_covers(OuterRef("location_id"), today))
        .update(delisted_on=today, delisted_because=_("A contract started."))
    )
    _record_changes(
        TriageFilterEntry.objects.filter(delisted_on=today), TriageListChangeKind.REMOVED
    )
    return count


@transaction.atomic
def triage_list_record_missing_changes() -> int:
    """The changes of entries written without the services (a benchmark's data set): an
    addition for each entry without one, a removal for each ended entry without one. Returns
    how many were recorded. The migration that made the change table did the same for the
    entries there were then."""
    _lock_the_list()
    entries = TriageFilterEntry.objects.all()
    return _record_changes(entries, TriageListChangeKind.ADDED) + _record_changes(
        entries.filter(delisted_on__isnull=False), TriageListChangeKind.REMOVED
    )


# --- API clients ------------------------------------------------------------------------------


def triage_api_client_create(*, name: str) -> tuple[TriageApiClient, str]:
    """A new client and its token; only the token's hash is stored, so it is shown only now."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give the client a name."), field="name")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with transaction.atomic():
        if TriageApiClient.objects.select_for_update().filter(name=name).exists():
            raise DomainError(
                _("A triage API client called %(name)s exists already.") % {"name": name},
                field="name",
            )
        client = TriageApiClient.objects.create(name=name, token_hash=token_hash(token))
    return client, token


def triage_api_client_deactivate(*, name: str) -> None:
    if not TriageApiClient.objects.filter(name=name).update(is_active=False):
        raise DomainError(_("No triage API client is called %(name)s.") % {"name": name})


def triage_api_client_record_use(client: dict) -> None:
    """Note that the client (``{"pk", "last_used_at"}``) used the API now."""
    now = timezone.now()
    if client["last_used_at"] is None or client["last_used_at"] <= now - LAST_USED_RESOLUTION:
        TriageApiClient.objects.filter(pk=client["pk"]).update(last_used_at=now)
        client["last_used_at"] = now


def triage_api_client_record_sync(client: dict, *, version: int) -> None:
    """Note that the client read the list (or its changes) up to ``version`` now: one write per
    read of the feed, which a system reads every few minutes, not at every call."""
    now = timezone.now()
    TriageApiClient.objects.filter(pk=client["pk"]).update(
        last_used_at=now, last_synced_at=now, last_synced_version=version
    )
