"""Reads of regions, posts and care locations. Region scoping of locations lives here."""

from django.db.models import QuerySet

from hap_contracting.core.scoping import scoped_to_region

from .models import CareLocation, HapPost, PostcodeRange, Region


def post_for_postcode(postcode: str) -> HapPost | None:
    """The post whose postcode range holds this (normalised, ``1234 AB``) postcode."""
    digits = int(postcode[:4])
    return (
        HapPost.objects.select_related("region")
        .filter(postcode_ranges__first__lte=digits, postcode_ranges__last__gte=digits)
        .first()
    )


def post_ranges() -> list[tuple[int, int, int]]:
    """Every post's postcode range as (first, last, post id), for matching many addresses."""
    return list(PostcodeRange.objects.values_list("first", "last", "post_id"))


def locations_visible_to(user) -> QuerySet[CareLocation]:
    """The locations of the user's region; all for finance and administrators."""
    queryset = CareLocation.objects.select_related("region", "hap_post", "organisation")
    return scoped_to_region(queryset, user, "region_id")


def regions_visible_to(user) -> QuerySet[Region]:
    """The user's region; all for finance and administrators."""
    return scoped_to_region(Region.objects.all(), user, "pk")


def locations_at_address(*, postcode: str, house_number: int, addition: str):
    """Registered locations at an address (the addition compared without case)."""
    return CareLocation.objects.filter(
        postcode=postcode, house_number=house_number, house_number_addition__iexact=addition
    )
