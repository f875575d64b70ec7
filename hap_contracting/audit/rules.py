"""Administrators read the access log; nobody adds, changes or deletes an entry."""

import rules

from hap_contracting.core.predicates import administers_in_admin

rules.add_perm("audit", administers_in_admin)
rules.add_perm("audit.view_accesslogentry", administers_in_admin)
