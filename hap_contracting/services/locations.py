"""Registering care locations: the address decides the region and the post."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .. import rules as procedure_rules
from ..errors import DomainError
from ..models import CareLocation, CareOrganisation, HapPost, TargetGroup, User
from ..selectors.regions import post_for_postcode
from ..validators import normalise_postcode


def _raise_first_validation_error(error: ValidationError) -> None:
    """Turn a model ValidationError into a DomainError that names the first bad field."""
    if hasattr(error, "error_dict"):
        field, errors = next(iter(error.error_dict.items()))
        field = None if field == "__all__" else field
        raise DomainError(" ".join(errors[0].messages), field=field) from error
    raise DomainError(" ".join(error.messages)) from error


def care_location_register(
    *,
    by: User,
    name: str,
    street: str,
    house_number: int,
    postcode: str,
    city: str,
    organisation: CareOrganisation | None = None,
    house_number_addition: str = "",
    wlz_treatment_admission: bool = False,
    treatment_delivered: bool = False,
    target_groups: list[TargetGroup] | tuple = (),
    highest_care_profile: int | None = None,
    financed_vpt: bool = False,
    financed_mpt: bool = False,
    financed_pgb: bool = False,
    number_of_residents: int = 0,
) -> CareLocation:
    if not procedure_rules.can_register_request.test(by):
        raise DomainError(_("Only the regional secretariat registers care locations."))
    try:
        postcode = normalise_postcode(postcode)
    except ValidationError as error:
        raise DomainError(error.messages[0], field="postcode") from error
    post: HapPost | None = post_for_postcode(postcode)
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
    location = CareLocation(
        organisation=organisation,
        name=name,
        street=street,
        house_number=house_number,
        house_number_addition=(house_number_addition or "").strip().upper(),
        postcode=postcode,
        city=city,
        region_id=post.region_id,
        hap_post=post,
        wlz_treatment_admission=wlz_treatment_admission,
        treatment_delivered=treatment_delivered,
        highest_care_profile=highest_care_profile,
        financed_vpt=financed_vpt,
        financed_mpt=financed_mpt,
        financed_pgb=financed_pgb,
        number_of_residents=number_of_residents,
    )
    try:
        location.full_clean()
    except ValidationError as error:
        _raise_first_validation_error(error)
    with transaction.atomic():
        location.save()
        location.target_groups.set(target_groups)
    return location
