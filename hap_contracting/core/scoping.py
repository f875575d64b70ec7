"""Region scoping, in one place: every selector that lists a region's objects starts here."""

from django.db.models import QuerySet


def scoped_to_region(queryset: QuerySet, user, region_lookup: str) -> QuerySet:
    """``queryset`` narrowed to the user's region (``region_lookup`` names the row's region,
    e.g. ``"location__region_id"``): nothing without a role, everything for finance,
    administrators and superusers without a region."""
    if not user.is_authenticated or not (user.role_names or user.is_superuser):
        return queryset.none()
    if user.sees_all_regions:
        return queryset
    return queryset.filter(**{region_lookup: user.region_id})
