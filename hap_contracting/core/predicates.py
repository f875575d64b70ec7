"""The django-rules predicates every app's ``rules.py`` is built from: a role, a region, the admin.

Every check takes the user's region into account: a Zwolle council member cannot decide a
Flevoland request. A user is anything with ``is_authenticated``, ``role_names``, ``has_role``,
``region_id`` and ``sees_all_regions`` (``accounts.User``).
"""

import rules

from .roles import ADMIN_SITE_ROLES, Role


def has_role(role: str) -> rules.Predicate:
    return rules.predicate(
        lambda user: user.is_authenticated and user.has_role(role), name=f"has_role:{role}"
    )


@rules.predicate
def has_any_role(user) -> bool:
    return user.is_authenticated and bool(user.role_names)


@rules.predicate
def sees_all_regions(user) -> bool:
    return user.is_authenticated and user.sees_all_regions


def region_id_of(obj) -> int | None:
    """The region of a request, location or anything else that has one or a location."""
    if obj is None:
        return None
    if hasattr(obj, "location"):
        return obj.location.region_id
    return getattr(obj, "region_id", None)


@rules.predicate
def in_region_of(user, obj) -> bool:
    if obj is None or not user.is_authenticated:
        return False
    return user.sees_all_regions or user.region_id == region_id_of(obj)


@rules.predicate
def no_object_or_in_region(user, obj) -> bool:
    return obj is None or in_region_of.test(user, obj)


@rules.predicate
def works_in_admin(user) -> bool:
    """The quality team, the council and administrators, with staff status."""
    return user.is_authenticated and user.is_staff and bool(user.role_names & ADMIN_SITE_ROLES)


@rules.predicate
def works_in_admin_as_finance(user) -> bool:
    return user.is_authenticated and user.is_staff and user.has_role(Role.FINANCE)


is_secretariat = has_role(Role.SECRETARIAT)
is_location_manager = has_role(Role.LOCATION_MANAGER)
is_programme_manager = has_role(Role.PROGRAMME_MANAGER)
is_quality_team = has_role(Role.QUALITY_TEAM)
is_regional_council = has_role(Role.REGIONAL_COUNCIL)
is_finance = has_role(Role.FINANCE)
is_administrator = has_role(Role.ADMINISTRATOR)

administers_in_admin = works_in_admin & is_administrator

# F&C bills for the whole cooperative: an invoice goes to an organisation whatever region its
# locations are in, so billing (imports, invoices, exports) is for finance without a region.
is_finance_for_all_regions = is_finance & sees_all_regions
