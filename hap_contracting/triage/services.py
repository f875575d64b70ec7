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
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext as _

from hap_contracting.contracts.models import Contract
from hap_contracting.contracts.selectors import contract_covers
from hap_contracting.core.errors import DomainError
from hap_contracting.core.sql import AddDays, insert_from
from hap_contracting.core.tokens import token_hash
from hap_contracting.core.validators import normalise_house_number_addition, normalise_postcode
from hap_contracting.organisations.models import CareLocation
from hap_contracting.procedure.constants import RequestKind, RequestState
from hap_contracting.procedure.models import AdmissionRequest

from .constants import TriageFilterReason, TriageListChangeKind, TriageVerdict
from .models import TriageAddressVerdict, TriageApiClient, TriageFilterEntry, TriageListChange
from .selectors import triage_api_clients_forget

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
    "location_id",
    "reason",
    "listed_on",
    "delisted_on",
    "delisted_because",
    "location__postcode",
    "location__house_number",
    "location__house_number_addition",
)


def _record_changes(entries, kind: str) -> list[int]:
    """A change of ``kind`` for each entry of ``entries`` (a queryset) that has none yet: one
    read and one insert, however many entries. Returns the locations of those entries, whose
    verdicts follow the change."""
    rows = list(
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
    return [row["location_id"] for row in rows]


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
    listed = _record_changes(
        TriageFilterEntry.objects.filter(location_id__in=listings, delisted_on__isnull=True),
        TriageListChangeKind.ADDED,
    )
    triage_verdicts_refresh(location_ids=listed)
    return len(listed)


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
        listed = _record_changes(
            TriageFilterEntry.objects.filter(
                delisted_on__isnull=True, reason=TriageFilterReason.GRACE_PERIOD_ENDED
            ),
            TriageListChangeKind.ADDED,
        )
        triage_verdicts_refresh(location_ids=listed)
        return len(listed)


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
    delisted = _record_changes(
        TriageFilterEntry.objects.filter(delisted_on=today), TriageListChangeKind.REMOVED
    )
    # Contracted today, but no longer refused once the contract ends, unless listed anew.
    triage_verdicts_refresh(location_ids=delisted)
    return count


@transaction.atomic
def triage_list_record_missing_changes() -> int:
    """The changes of entries written without the services (a benchmark's data set): an
    addition for each entry without one, a removal for each ended entry without one. Returns
    how many were recorded. The migration that made the change table did the same for the
    entries there were then."""
    _lock_the_list()
    entries = TriageFilterEntry.objects.all()
    added = _record_changes(entries, TriageListChangeKind.ADDED)
    removed = _record_changes(
        entries.filter(delisted_on__isnull=False), TriageListChangeKind.REMOVED
    )
    return len(added) + len(removed)


# --- The verdict per address (seed 004, 7.2) ------------------------------------------------

VERDICTS_LOCK = "triage_verdicts"
ONE_DAY = datetime.timedelta(days=1)
# The verdict is "unknown" at an address that has no row on the day asked: not stored.
Address = tuple[str, int, str]


def _lock_the_verdicts() -> None:
    """One refresh at a time, until its transaction commits (PostgreSQL): the second reads what
    the first committed, so two changes at one address at once both count."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [VERDICTS_LOCK])


def verdict_periods(
    covered: list[tuple[datetime.date, datetime.date]], *, refused_otherwise: bool
) -> list[tuple[datetime.date, datetime.date, str]]:
    """The verdict rule over time, for one location: ``contracted`` on the days a contract
    covers it (``covered``: first and last day of each contract, in any order, overlapping or
    not); on every other day "no ANW care without agreement" when ``refused_otherwise`` (on
    the list, Wlz with treatment), else unknown (no period). Periods as (first, last, verdict).

    Only a Wlz-with-treatment location without a contract that is on the list is refused
    (referred to the institution's own physician). A location without treatment admission is
    never refused: its residents are registered (ION) patients of the cooperative's GPs."""
    runs: list[list[datetime.date]] = []
    for first, last in sorted(covered):
        if runs and (runs[-1][1] == datetime.date.max or first <= runs[-1][1] + ONE_DAY):
            runs[-1][1] = max(runs[-1][1], last)
        else:
            runs.append([first, last])
    periods = [(first, last, TriageVerdict.CONTRACTED) for first, last in runs]
    if refused_otherwise:
        day: datetime.date | None = datetime.date.min
        for first, last in runs:
            if first > day:
                periods.append((day, first - ONE_DAY, TriageVerdict.NO_CARE_WITHOUT_AGREEMENT))
            day = None if last == datetime.date.max else last + ONE_DAY
            if day is None:
                break
        if day is not None:
            periods.append((day, datetime.date.max, TriageVerdict.NO_CARE_WITHOUT_AGREEMENT))
    return sorted(periods)


def _covered_days(location_ids) -> dict[int, list[tuple[datetime.date, datetime.date]]]:
    """Per location, the first and last day each contract covers it (as its own location or one
    of its others): from the start to the end date, or to the day before it was terminated
    (``Contract.objects.active_on``). One query; ``location_ids`` None: every location."""
    own = Contract.objects.order_by()  # the parts of a UNION are not ordered
    others = Contract.objects.filter(other_locations__isnull=False).order_by()
    if location_ids is not None:
        own = own.filter(location_id__in=location_ids)
        others = Contract.objects.filter(other_locations__in=location_ids).order_by()
    rows = own.values_list("location_id", "start_date", "end_date", "terminated_on").union(
        others.values_list("other_locations", "start_date", "end_date", "terminated_on"), all=True
    )
    covered: dict[int, list[tuple[datetime.date, datetime.date]]] = {}
    for location_id, start, end, terminated_on in rows:
        last = end if terminated_on is None else min(end, terminated_on - ONE_DAY)
        if start <= last:
            covered.setdefault(location_id, []).append((start, last))
    return covered


def _store_verdicts(addresses: set[Address] | None, also_of: set[int] = frozenset()) -> int:
    """Replace the verdicts of ``addresses`` (None: of every address) by the rule applied to
    what is stored now. An address's verdict is that of its location, or with several there
    (an addition in another case), the first by name, as a lookup by address used to take.
    The old rows go by their location: those of the locations at the addresses and of
    ``also_of`` (locations that moved away from one). A constant number of queries."""
    locations = CareLocation.objects.annotate(
        addition=Upper("house_number_addition"),
        listed=Exists(
            TriageFilterEntry.objects.filter(location=OuterRef("pk"), delisted_on__isnull=True)
        ),
    )
    if addresses is not None:
        locations = locations.filter(
            postcode__in={postcode for postcode, _number, _addition in addresses},
            house_number__in={number for _postcode, number, _addition in addresses},
        )
    first_at: dict[Address, dict] = {}
    at_the_addresses = set(also_of)
    for location in locations.order_by("name", "pk").values(
        "pk", "postcode", "house_number", "addition", "wlz_treatment_admission", "listed"
    ):
        address = (location["postcode"], location["house_number"], location["addition"])
        if addresses is not None and address not in addresses:
            continue
        at_the_addresses.add(location["pk"])
        first_at.setdefault(address, location)
    covered = _covered_days(
        None if addresses is None else [location["pk"] for location in first_at.values()]
    )
    rows = [
        TriageAddressVerdict(
            postcode=postcode,
            house_number=number,
            addition=addition,
            starts_on=first,
            ends_on=last,
            verdict=verdict,
            location_id=location["pk"],
        )
        for (postcode, number, addition), location in first_at.items()
        for first, last, verdict in verdict_periods(
            covered.get(location["pk"], []),
            refused_otherwise=location["wlz_treatment_admission"] and location["listed"],
        )
    ]
    stale = TriageAddressVerdict.objects.all()
    if addresses is not None:
        stale = stale.filter(location_id__in=at_the_addresses)
    stale.delete()
    TriageAddressVerdict.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


@transaction.atomic(savepoint=False)  # called inside the writer's transaction
def triage_verdicts_refresh(*, location_ids) -> int:
    """Recompute the verdicts at the addresses of these locations: where each is now and where
    its verdicts were kept before (an address that changed). Every write that can change a
    verdict calls it in its own transaction: a contract made or terminated, a location's
    address or treatment admission changed, a location listed or delisted. A constant number
    of queries, however many locations; returns the rows now kept for those addresses."""
    location_ids = set(location_ids)
    if not location_ids:
        return 0
    _lock_the_verdicts()
    addresses = set(
        TriageAddressVerdict.objects.filter(location_id__in=location_ids)
        .values_list("postcode", "house_number", "addition")
        .union(
            CareLocation.objects.filter(pk__in=location_ids)
            .order_by()
            .values_list("postcode", "house_number", Upper("house_number_addition"))
        )
    )
    return _store_verdicts(addresses, also_of=location_ids)


@transaction.atomic
def triage_verdicts_rebuild() -> int:
    """Recompute every address's verdict: after rows were written without the services (a
    benchmark's data set, a restore); ``manage.py rebuild_triage_verdicts``. Returns the rows."""
    _lock_the_verdicts()
    return _store_verdicts(None)


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
    """Refused from now on by this process, and by every other within the time a process keeps
    a client (``TRIAGE_API_CLIENT_CACHE_SECONDS``)."""
    if not TriageApiClient.objects.filter(name=name).update(is_active=False):
        raise DomainError(_("No triage API client is called %(name)s.") % {"name": name})
    triage_api_clients_forget()


def triage_api_client_record_use(client: dict) -> None:
    """Note that the client (``{"pk", "last_used_at"}``) used the API now."""
    now = timezone.now()
    if client["last_used_at"] is None or client["last_used_at"] <= now - LAST_USED_RESOLUTION:
        TriageApiClient.objects.filter(pk=client["pk"]).update(last_used_at=now)
        client["last_used_at"] = now


def triage_api_client_sync_due(client: dict, *, version: int) -> bool:
    """Whether a read up to ``version`` now is a sync to write: the version differs from the
    one noted, or the noted one is older than a minute (``last_used_at``'s resolution), so that
    a client asking again and again does not write the same row at every read."""
    noted = client.get("last_synced_at")
    return (
        client.get("last_synced_version") != version
        or noted is None
        or noted <= timezone.now() - LAST_USED_RESOLUTION
    )


def triage_api_client_record_sync(client: dict, *, version: int) -> None:
    """Note that the client (``{"pk", …}`` as the token check found it) read the list, or its
    changes, up to ``version`` now, when that is due (``triage_api_client_sync_due``)."""
    if not triage_api_client_sync_due(client, version=version):
        return
    now = timezone.now()
    TriageApiClient.objects.filter(pk=client["pk"]).update(
        last_used_at=now, last_synced_at=now, last_synced_version=version
    )
    client.update(last_used_at=now, last_synced_at=now, last_synced_version=version)
