"""Administrators maintain the checklist versions in the admin."""

import rules

from hap_contracting.core.predicates import administers_in_admin

rules.add_perm("checklist", administers_in_admin)
for _model in ("checklisttemplate", "checklistsection", "checklistitem"):
    for _action in ("view", "add", "change", "delete"):
        rules.add_perm(f"checklist.{_action}_{_model}", administers_in_admin)
