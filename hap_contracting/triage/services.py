"""Writes of the triage filter list (seed 004, 7.1 and 7.2). An entry is never deleted: leaving
the list sets ``delisted_on``, so the history keeps both. At most one open entry per location
(a unique constraint), so every step below can run twice, or concurrently, and list once."""

import datetime
import secrets

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from hap_contracting.contracts.selectors import contract_covers
from hap_contracting.core.errors import DomainError
from hap_contracting.core.tokens import token_hash
from hap_contracting.procedure.constants import RequestKind, RequestState
from hap_contracting.procedure.models import AdmissionRequest

from .constants import TriageFilterReason
from .models import TriageApiClient, TriageFilterEntry

TOKEN_BYTES = 32
# ``last_used_at`` is written at most once a minute per client, so a busy client does not turn
# every lookup into a write.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def triage_filter_list(listings: dict[int, datetime.date], *, reason: str) -> int:
    """Put locations on the list: ``listings`` maps a location id to the day it is listed.
    Those on the list already stay as they are; returns how many were put on. Two queries,
    however many locations."""
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
    return len(new)


def triage_filter_list_after_grace(today: datetime.date) -> int:
    """A Wlz-with-treatment location whose grace period ended without a contract goes on the
    list the day after: no ANW care without an agreement. The residents of other locations are
    registered (ION) patients and are never refused. Each grace period lists once: a location
    taken off the list since is not put back for the same grace period. Returns the locations
    listed."""
    listed_since_it_ended = TriageFilterEntry.objects.filter(
        location=OuterRef("location_id"),
        reason=TriageFilterReason.GRACE_PERIOD_ENDED,
        listed_on__gt=OuterRef("grace_ends_on"),
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
        .values_list("location_id", "grace_ends_on")
    )
    with transaction.atomic():
        return triage_filter_list(
            {location_id: ended_on + datetime.timedelta(days=1) for location_id, ended_on in ended},
            reason=TriageFilterReason.GRACE_PERIOD_ENDED,
        )


def triage_filter_delist_contracted(today: datetime.date) -> int:
    """Take locations off the list once a contract covering them has started (seed 004, 7.2)."""
    return (
        TriageFilterEntry.objects.filter(delisted_on__isnull=True)
        .filter(contract_covers(OuterRef("location_id"), today))
        .update(delisted_on=today, delisted_because=_("A contract started."))
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
