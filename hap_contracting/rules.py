"""Who may do what, per role and region (django-rules predicates).

Every check takes the user's region into account: a Zwolle council member cannot decide a
Flevoland request. The services check these before any transition; views and the admin only
use them to decide which buttons to show.
"""

import rules

from .constants import ADMIN_SITE_ROLES, Role


def has_role(role: str) -> rules.Predicate:
    return rules.predicate(
        lambda user: user.is_authenticated and user.has_role(role), name=f"has_role:{role}"
    )


@rules.predicate
def has_any_role(user) -> bool:
    return user.is_authenticated and bool(user.role_names)


@rules.predicate
def works_in_admin(user) -> bool:
    return user.is_authenticated and user.is_staff and bool(user.role_names & ADMIN_SITE_ROLES)


def _region_id_of(obj):
    """The region of a request, location or anything else that names one."""
    if obj is None:
        return None
    if hasattr(obj, "location"):
        return obj.location.region_id
    return getattr(obj, "region_id", None)


@rules.predicate
def in_region_of(user, obj) -> bool:
    if obj is None or not user.is_authenticated:
        return False
    return user.sees_all_regions or user.region_id == _region_id_of(obj)


@rules.predicate
def is_assigned_location_manager(user, admission_request) -> bool:
    return (
        admission_request is not None and admission_request.assigned_location_manager_id == user.pk
    )


is_secretariat = has_role(Role.SECRETARIAT)
is_location_manager = has_role(Role.LOCATION_MANAGER)
is_quality_team = has_role(Role.QUALITY_TEAM)
is_regional_council = has_role(Role.REGIONAL_COUNCIL)
is_administrator = has_role(Role.ADMINISTRATOR)

can_view_request = has_any_role & in_region_of
can_register_request = is_secretariat
can_forward_request = is_secretariat & in_region_of
can_give_location_manager_advice = is_location_manager & in_region_of & is_assigned_location_manager
can_give_quality_advice = is_quality_team & in_region_of
can_decide_as_council = is_regional_council & in_region_of
can_record_outcome = is_location_manager & in_region_of & is_assigned_location_manager
can_complete_contracting = is_secretariat & in_region_of
can_withdraw_request = is_secretariat & in_region_of

# Contracts: the secretariat contracts; breaches are recorded by the secretariat or the location
# manager of the region (who hears of them first).
is_finance = has_role(Role.FINANCE)


@rules.predicate
def sees_all_regions(user) -> bool:
    return user.is_authenticated and user.sees_all_regions


# F&C bills for the whole cooperative: an invoice goes to an organisation whatever region its
# locations are in, so billing (imports, invoices, exports) is for finance without a region.
can_bill = is_finance & sees_all_regions
can_view_contract = has_any_role & in_region_of
can_manage_contract = is_secretariat & in_region_of
can_record_breach = (is_secretariat | is_location_manager) & in_region_of

# Billing: finance everywhere; the post's location manager (with the programme manager
# elderly care) investigates unknown addresses (seed 004, 7.2).
is_programme_manager = has_role(Role.PROGRAMME_MANAGER)
can_investigate = (is_location_manager | is_programme_manager) & in_region_of
can_download_triage_list = (is_finance | is_location_manager | is_administrator) & has_any_role


@rules.predicate
def no_object_or_in_region(user, obj) -> bool:
    return obj is None or in_region_of.test(user, obj)


# Django admin: the quality team and council read their region's requests there and act through
# the transition views; administrators maintain the master data.
rules.add_perm("hap_contracting", works_in_admin)
rules.add_perm("hap_contracting.view_admissionrequest", works_in_admin & no_object_or_in_region)
rules.add_perm("hap_contracting.view_careorganisation", works_in_admin)
rules.add_perm("hap_contracting.view_carelocation", works_in_admin & no_object_or_in_region)
_MASTER_DATA = (
    "region",
    "happost",
    "postcoderange",
    "careorganisation",
    "carelocation",
    "targetgroup",
    "user",
)
for _model in _MASTER_DATA:
    for _action in ("view", "add", "change"):
        _name = f"hap_contracting.{_action}_{_model}"
        if rules.perm_exists(_name):
            rules.set_perm(_name, rules.permissions.permissions[_name] | is_administrator)
        else:
            rules.add_perm(_name, works_in_admin & is_administrator)

# Checklist versions: administrators only.
rules.add_perm("checklist", works_in_admin & is_administrator)
for _model in ("checklisttemplate", "checklistsection", "checklistitem"):
    for _action in ("view", "add", "change", "delete"):
        rules.add_perm(f"checklist.{_action}_{_model}", works_in_admin & is_administrator)


# --- Contracts in the Django admin (added with the contract pages) ------------------------------
# The quality team, the council and administrators read their region's contracts there (the
# admin's queryset is scoped to the region; changes go through the app's contract page).
# Finance, with staff status, maintains the acts and the insurer tariffs the minimum rates are
# checked against. Reminders and the triage filter list are written by the daily job only;
# administrators read them.


@rules.predicate
def works_in_admin_as_finance(user) -> bool:
    return user.is_authenticated and user.is_staff and user.has_role(Role.FINANCE)


rules.set_perm("hap_contracting", works_in_admin | works_in_admin_as_finance)
rules.add_perm("hap_contracting.view_contract", works_in_admin & no_object_or_in_region)
for _model in ("act", "insurertariff"):
    rules.add_perm(
        f"hap_contracting.view_{_model}",
        works_in_admin_as_finance | (works_in_admin & is_administrator),
    )
    for _action in ("add", "change"):
        rules.add_perm(f"hap_contracting.{_action}_{_model}", works_in_admin_as_finance)
for _model in ("reminder", "triagefilterentry"):
    rules.add_perm(f"hap_contracting.view_{_model}", works_in_admin & is_administrator)


# --- Billing in the Django admin (added with the billing pages) ------------------------------
# Administrators read the access log (NEN 7513) and nobody changes it; finance maintains the
# administrative costs. Claims and imports have no admin: claim data is read in the app, where
# every read is logged.
rules.add_perm("hap_contracting.view_accesslogentry", works_in_admin & is_administrator)
for _action in ("view", "add", "change"):
    rules.add_perm(f"hap_contracting.{_action}_administrativecost", works_in_admin_as_finance)
