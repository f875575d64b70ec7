"""An address where refused care was given that is not a known location of a known
organisation is investigated by the location manager of the post whose area holds it, with the
programme manager elderly care (seed 004, 7.2): which location and organisation is it, and when
and how were they told that this care will no longer be given."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hap_contracting.core.errors import DomainError
from hap_contracting.core.text import TextLimit, checked_text
from hap_contracting.organisations.services import care_location_assign_organisation

from .. import rules as billing_rules
from ..constants import NotificationChannel
from ..models import AddressInvestigation, Claim


def investigation_record_location(
    *,
    investigation: AddressInvestigation,
    by,
    location,
    organisation=None,
) -> AddressInvestigation:
    """The location manager (or programme manager) records which location this address is and
    which organisation runs it; the address's claims are matched to it."""
    if not billing_rules.can_investigate.test(by, investigation.post):
        raise DomainError(_("Only the location manager of this post's region investigates."))
    if (location.postcode, location.house_number) != (
        investigation.postcode,
        investigation.house_number,
    ) or location.house_number_addition.upper() != investigation.house_number_addition:
        raise DomainError(_("This location has another address."), field="location")
    with transaction.atomic():
        if organisation is not None and location.organisation_id != organisation.pk:
            if location.organisation_id is not None:
                raise DomainError(
                    _("This location belongs to %(name)s already.")
                    % {"name": location.organisation.name},
                    field="organisation",
                )
            care_location_assign_organisation(location=location, organisation=organisation)
        if location.organisation_id is None:
            raise DomainError(
                _("Record which organisation runs this location."), field="organisation"
            )
        AddressInvestigation.objects.filter(pk=investigation.pk).update(
            location=location, resolved_at=timezone.now(), resolved_by=by
        )
        Claim.objects.filter(
            postcode=investigation.postcode,
            house_number=investigation.house_number,
            house_number_addition=investigation.house_number_addition,
        ).update(location=location)
    investigation.refresh_from_db()
    return investigation


def investigation_record_notification(
    *,
    investigation: AddressInvestigation,
    by,
    notified_on: datetime.date,
    notified_how: str,
    notes: str = "",
) -> AddressInvestigation:
    """When and how the organisation was told that this care will no longer be given."""
    if not billing_rules.can_investigate.test(by, investigation.post):
        raise DomainError(_("Only the location manager of this post's region investigates."))
    if investigation.location_id is None:
        raise DomainError(_("Record the location and its organisation first."))
    if notified_how not in NotificationChannel.values:
        raise DomainError(_("Choose how the organisation was told."), field="notified_how")
    if notified_on > timezone.localdate():
        raise DomainError(_("This date lies in the future."), field="notified_on")
    notes = checked_text(notes, field="notes", limit=TextLimit.NOTES)
    AddressInvestigation.objects.filter(pk=investigation.pk).update(
        notified_on=notified_on, notified_how=notified_how, notes=notes
    )
    investigation.refresh_from_db()
    return investigation
