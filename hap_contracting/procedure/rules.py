"""Who may take which step of the procedure, per role and region (seed 004, appendix 5).

The services check these before any transition (the transitions name them as their
permission); views and the admin only use them to decide what to show.
"""

import rules

from hap_contracting.core.predicates import (
    administers_in_admin,
    has_any_role,
    in_region_of,
    is_administrator,
    is_location_manager,
    is_quality_team,
    is_regional_council,
    is_secretariat,
    no_object_or_in_region,
    works_in_admin,
)


@rules.predicate
def is_assigned_location_manager(user, admission_request) -> bool:
    return (
        admission_request is not None and admission_request.assigned_location_manager_id == user.pk
    )


@rules.predicate
def is_in_pre_assessment(user, admission_request) -> bool:
    return admission_request is not None and admission_request.state == "pre_assessment"


# Everyone with a role reads their region's requests.
can_view_request = has_any_role & in_region_of

# The secretariat: registers, forwards, withdraws, and completes contracting.
can_register_request = is_secretariat
can_forward_request = is_secretariat & in_region_of
can_withdraw_request = is_secretariat & in_region_of
can_complete_contracting = is_secretariat & in_region_of

# The assigned location manager: the checklist (during the pre-assessment), the
# pre-assessment advice, the outcome.
can_give_location_manager_advice = is_location_manager & in_region_of & is_assigned_location_manager
can_fill_in_checklist = can_give_location_manager_advice & is_in_pre_assessment
can_record_outcome = is_location_manager & in_region_of & is_assigned_location_manager

# A step's deadline is extended, with a reason, by the region's secretariat (who keeps the
# procedure's time) or an administrator.
can_extend_deadline = (is_secretariat & in_region_of) | is_administrator

# The region's quality team advises; its council decides.
can_give_quality_advice = is_quality_team & in_region_of
can_decide_as_council = is_regional_council & in_region_of

# The quality team and the council read their region's requests in the admin, and act there
# through the procedure's own actions.
rules.add_perm("procedure", works_in_admin)
rules.add_perm("procedure.view_admissionrequest", works_in_admin & no_object_or_in_region)

# Administrators maintain the decision letters' templates (new versions, never deletions) and
# read the letters made.
for _action in ("view", "add", "change"):
    rules.add_perm(f"procedure.{_action}_decisionlettertemplate", administers_in_admin)
rules.add_perm("procedure.view_decisionletter", administers_in_admin)

# Administrators keep the steps' service norms.
for _action in ("view", "add", "change", "delete"):
    rules.add_perm(f"procedure.{_action}_stepnorm", administers_in_admin)
