from ..models import HapPost, User


def post_for_postcode(postcode: str) -> HapPost | None:
    """The post whose postcode range holds this (normalised, ``1234 AB``) postcode."""
    digits = int(postcode[:4])
    return (
        HapPost.objects.select_related("region")
        .filter(postcode_ranges__first__lte=digits, postcode_ranges__last__gte=digits)
        .first()
    )


def location_managers_of_region(region_id: int):
    from ..constants import Role

    return User.objects.filter(
        is_active=True, region_id=region_id, groups__name=Role.LOCATION_MANAGER
    ).order_by("last_name", "first_name")
