"""Who may see the triage filter list (addresses only, no patient data)."""

import rules

from hap_contracting.core.predicates import (
    administers_in_admin,
    has_any_role,
    is_administrator,
    is_finance,
    is_location_manager,
)

can_download_triage_list = (is_finance | is_location_manager | is_administrator) & has_any_role

# The list is written by the daily job and by approving invoices; administrators read it.
rules.add_perm("triage", administers_in_admin)
rules.add_perm("triage.view_triagefilterentry", administers_in_admin)
# Administrators see which systems use the API and when each last synchronised the list.
rules.add_perm("triage.view_triageapiclient", administers_in_admin)
