"""Who may do what with contracts, per role and region."""

import rules

from hap_contracting.core.predicates import (
    administers_in_admin,
    has_any_role,
    in_region_of,
    is_location_manager,
    is_secretariat,
    no_object_or_in_region,
    works_in_admin,
)

# Everyone with a role reads their region's contracts.
can_view_contract = has_any_role & in_region_of
# The secretariat contracts: documents and termination.
can_manage_contract = is_secretariat & in_region_of
# Breaches are recorded by the secretariat or the location manager (who hears of them first).
can_record_breach = (is_secretariat | is_location_manager) & in_region_of

# In the admin the quality team, the council and administrators read their region's contracts
# (changes go through the app's contract page, which writes the history); the reminders are
# written by the daily job and read by administrators.
rules.add_perm("contracts", works_in_admin)
rules.add_perm("contracts.view_contract", works_in_admin & no_object_or_in_region)
rules.add_perm("contracts.view_reminder", administers_in_admin)
