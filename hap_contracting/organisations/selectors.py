"""Reads of regions, posts and care locations. Region scoping of locations lives here."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from hap_contracting.core.listing import Sorts
from hap_contracting.core.scoping import scoped_to_region

from .models import (
    CareLocation,
    CareOrganisation,
    ClassificationChange,
    HapPost,
    PostcodeRange,
    Region,
)


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


# The location list's sortable columns (``core.listing``): key -> the lookups it orders by.
LOCATION_SORTS = Sorts(
    {
        "name": ("name", "city"),
        "organisation": ("organisation__name", "name"),
        "address": ("postcode", "house_number", "house_number_addition"),
        "region": ("region__name", "name"),
        "post": ("hap_post__name", "name"),
        "treatment": ("wlz_treatment_admission", "name"),
        "situation": ("wkkgz_situation", "name"),
        "residents": ("number_of_residents", "name"),
    },
    default="name",
)


@dataclass(frozen=True)
class LocationFilters:
    region_id: int | None = None
    post_id: int | None = None
    treatment: bool | None = None  # Wlz admission with treatment: yes, no or either
    situation: str = ""  # a Wkkgz situation (``WkkgzSituation``), or any
    search: str = ""
    sort: str = ""


def location_list(user, filters: LocationFilters = LocationFilters()) -> QuerySet[CareLocation]:
    """The location list of the user's region (all for who sees every region), filtered and
    sorted by ``filters.sort`` (a key of ``LOCATION_SORTS``, by name otherwise). The page and
    its export both read this."""
    queryset = locations_visible_to(user)
    if filters.region_id and user.sees_all_regions:
        queryset = queryset.filter(region_id=filters.region_id)
    if filters.post_id:
        queryset = queryset.filter(hap_post_id=filters.post_id)
    if filters.treatment is not None:
        queryset = queryset.filter(wlz_treatment_admission=filters.treatment)
    if filters.situation:
        queryset = queryset.filter(wkkgz_situation=filters.situation)
    if filters.search:
        term = filters.search
        queryset = queryset.filter(
            Q(name__icontains=term)
            | Q(city__icontains=term)
            | Q(postcode__icontains=term)
            | Q(organisation__name__icontains=term)
        )
    return queryset.order_by(*LOCATION_SORTS.order_by(filters.sort))


def location_for(user, pk: int) -> CareLocation | None:
    """One location of the user's region (any for who sees every region), or None."""
    return locations_visible_to(user).filter(pk=pk).first()


def classification_history(location: CareLocation) -> QuerySet[ClassificationChange]:
    """The location's classification changes, newest first, with who made them."""
    return location.classification_changes.select_related("by").order_by("-at", "-pk")


def posts_visible_to(user) -> QuerySet[HapPost]:
    """The posts of the user's region; all for finance and administrators."""
    return scoped_to_region(HapPost.objects.all(), user, "region_id")


def regions_visible_to(user) -> QuerySet[Region]:
    """The user's region; all for finance and administrators."""
    return scoped_to_region(Region.objects.all(), user, "pk")


def locations_at_address(*, postcode: str, house_number: int, addition: str):
    """Registered locations at an address (the addition compared without case)."""
    return CareLocation.objects.filter(
        postcode=postcode, house_number=house_number, house_number_addition__iexact=addition
    )


# The organisation list's sortable columns (finance keeps their invoice details there).
ORGANISATION_SORTS = Sorts(
    {
        "name": ("name",),
        "kvk": ("kvk_number",),
        "city": ("invoice_city", "name"),
        "locations": ("location_count", "name"),
    },
    default="name",
)

# An organisation whose invoices cannot go out: no whole invoice address (the model keeps the
# address whole or empty, so the address line tells) or no e-mail address to send them to.
INVOICE_DETAILS_INCOMPLETE = Q(invoice_address="") | Q(invoice_email="")


@dataclass(frozen=True)
class OrganisationFilters:
    search: str = ""
    incomplete_only: bool = False  # only those whose invoice details are not complete
    sort: str = ""


def organisation_list(filters: OrganisationFilters = OrganisationFilters()):
    """Every care organisation (organisations work across regions; finance and administrators,
    who keep their invoice details, see all regions) with its number of locations."""
    queryset = CareOrganisation.objects.annotate(location_count=Count("locations"))
    if filters.incomplete_only:
        queryset = queryset.filter(INVOICE_DETAILS_INCOMPLETE)
    if filters.search:
        term = filters.search
        queryset = queryset.filter(
            Q(name__icontains=term)
            | Q(kvk_number__startswith=term)
            | Q(invoice_city__icontains=term)
        )
    return queryset.order_by(*ORGANISATION_SORTS.order_by(filters.sort))


def organisation(pk: int) -> CareOrganisation | None:
    return CareOrganisation.objects.filter(pk=pk).first()
