"""Registering and changing care locations: the address decides the region and the post, and
the facts decide the Wkkgz situation (``classification``), in the app's form and in the admin
alike."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from hap_contracting.core.derived import refresh_derived
from hap_contracting.core.errors import DomainError, full_clean_or_raise
from hap_contracting.core.validators import (
    normalise_house_number_addition,
    normalise_postcode,
)

from . import rules as organisation_rules
from .classification import FACT_FIELDS, FACT_LABELS
from .constants import Answer, HousingAndCare
from .models import CareLocation, CareOrganisation, ClassificationChange, HapPost
from .selectors import post_for_postcode

# What a location's form or admin page may set; region and post follow from the postcode.
LOCATION_FIELDS = (
    "organisation",
    "name",
    "street",
    "house_number",
    "house_number_addition",
    "postcode",
    "city",
    "wlz_treatment_admission",
    "treatment_delivered",
    "highest_care_profile",
    "financed_vpt",
    "financed_mpt",
    "financed_pgb",
    "number_of_residents",
    "housing_and_care",
    "pgb_without_zorgkantoor_contract",
)
# The classification's facts that are a choice, with their allowed answers.
_FACT_CHOICES = {
    "housing_and_care": HousingAndCare,
    "pgb_without_zorgkantoor_contract": Answer,
}


def _post_of(postcode: str, *, by) -> tuple[str, HapPost]:
    """The normalised postcode and the post whose area holds it; refused outside the
    cooperative's area, and for a user of one region, outside their own region."""
    try:
        postcode = normalise_postcode(postcode)
    except ValidationError as error:
        raise DomainError(error.messages[0], field="postcode") from error
    post = post_for_postcode(postcode)
    if post is None:
        raise DomainError(
            _("Postcode %(postcode)s is outside the area of the cooperative's posts.")
            % {"postcode": postcode},
            field="postcode",
        )
    if not by.sees_all_regions and post.region_id != by.region_id:
        raise DomainError(
            _("Postcode %(postcode)s belongs to region %(region)s; register it there.")
            % {"postcode": postcode, "region": post.region.name},
            field="postcode",
        )
    return postcode, post


def _check_facts(fields: dict) -> None:
    """Refuse a classification fact that is not one of its answers, naming the field (the
    model's own message does not say which question it is about)."""
    if not isinstance(fields.get("wlz_treatment_admission", False), bool):
        raise DomainError(
            _("“%(field)s” must be yes or no.") % {"field": FACT_LABELS["wlz_treatment_admission"]},
            field="wlz_treatment_admission",
        )
    for name, choices in _FACT_CHOICES.items():
        if name in fields and fields[name] not in choices.values:
            raise DomainError(
                _("“%(value)s” is not an answer to “%(field)s”: choose one of the given answers.")
                % {"value": fields[name], "field": FACT_LABELS[name]},
                field=name,
            )


def _record_classification(location: CareLocation, before: dict | None, *, by) -> None:
    """The history row of a save that changed a fact of the classification (or registered the
    location): the situation before and after, who, when and which facts changed. Called after
    the save, with ``before`` the stored row (None for a new location)."""
    changed = []
    for name in FACT_FIELDS:
        old, new = (None if before is None else before[name]), getattr(location, name)
        if before is None or old != new:
            changed.append({"fact": name, "old": old, "new": new})
    if changed:
        ClassificationChange.objects.create(
            location=location,
            old_situation="" if before is None else before["wkkgz_situation"],
            new_situation=location.wkkgz_situation,
            changed_facts=changed,
            by=by,
        )


def _save(location: CareLocation, *, by, target_groups, **fields) -> CareLocation:
    if not organisation_rules.can_register_location.test(by):
        raise DomainError(
            _("Only the regional secretariat or an administrator registers care locations.")
        )
    _check_facts(fields)
    postcode, post = _post_of(fields.pop("postcode"), by=by)
    try:
        addition = normalise_house_number_addition(fields.pop("house_number_addition", ""))
    except ValidationError as error:
        raise DomainError(error.messages[0], field="house_number_addition") from error
    moves = location.pk is not None and location.region_id != post.region_id
    if moves and (location.admission_requests.exists() or location.contracts.exists()):
        raise DomainError(
            _(
                "Postcode %(postcode)s lies in region %(region)s, but this location's requests "
                "and contracts are in region %(current)s. Register the new address as a new "
                "location."
            )
            % {"postcode": postcode, "region": post.region.name, "current": location.region.name},
            field="postcode",
        )
    for name, value in fields.items():
        setattr(location, name, value)
    location.postcode = postcode
    location.house_number_addition = addition
    location.region_id = post.region_id
    location.hap_post = post
    full_clean_or_raise(location)
    with transaction.atomic():
        before = None
        if location.pk is not None:
            # The facts as stored (locked: two saves at once each see the other's result).
            before = (
                CareLocation.objects.select_for_update()
                .filter(pk=location.pk)
                .values(*FACT_FIELDS, "wkkgz_situation")
                .get()
            )
        location.wkkgz_situation = location.classification.situation
        location.save()
        _record_classification(location, before, by=by)
        # The triage verdict follows the address and the treatment admission.
        refresh_derived("triage.verdicts", location_ids=[location.pk])
        if target_groups is not None:
            location.target_groups.set(target_groups)
    return location


def care_location_register(*, by, target_groups=(), **fields) -> CareLocation:
    """A new location; ``fields`` are those of ``LOCATION_FIELDS``."""
    return _save(CareLocation(), by=by, target_groups=target_groups, **fields)


def care_location_change(
    *, location: CareLocation, by, target_groups=None, **fields
) -> CareLocation:
    """Change a location: a new postcode moves it to that postcode's post (and region, while
    nothing of the procedure refers to it yet). ``target_groups=None`` leaves them as they are."""
    return _save(location, by=by, target_groups=target_groups, **fields)


def care_location_assign_organisation(*, location: CareLocation, organisation) -> CareLocation:
    """Record which organisation runs a location whose organisation was not known yet (an
    investigation found it); the caller checks who may."""
    if location.organisation_id is not None and location.organisation_id != organisation.pk:
        raise DomainError(
            _("This location belongs to %(name)s already.") % {"name": location.organisation.name},
            field="organisation",
        )
    CareLocation.objects.filter(pk=location.pk).update(organisation=organisation)
    location.organisation = organisation
    return location


# What the organisation's admin page may set.
ORGANISATION_FIELDS = (
    "name",
    "kvk_number",
    "agb_code",
    "organisation_type",
    "contact_email",
    "contact_phone",
    "invoice_address",
    "invoice_postcode",
    "invoice_city",
    "invoice_attention",
    "invoice_reference",
    "invoice_email",
)


def care_organisation_save(
    *, organisation: CareOrganisation | None = None, **fields
) -> CareOrganisation:
    """Create or change an organisation, its invoice address included: the postcode written as
    1234 AB, the address whole or not at all; every refusal names its field. The caller checks
    who may (the admin's permissions)."""
    organisation = organisation or CareOrganisation()
    postcode = (fields.pop("invoice_postcode", "") or "").strip()
    if postcode:
        try:
            postcode = normalise_postcode(postcode)
        except ValidationError as error:
            message = error.messages[0]
            raise DomainError(message, errors={"invoice_postcode": message}) from error
    for name, value in fields.items():
        setattr(organisation, name, value.strip() if isinstance(value, str) else value)
    organisation.invoice_postcode = postcode
    try:
        organisation.full_clean()
    except ValidationError as error:
        errors = {name: " ".join(messages) for name, messages in error.message_dict.items()}
        raise DomainError(" ".join(errors.values()), errors=errors) from error
    organisation.save()
    return organisation
