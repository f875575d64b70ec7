"""Administrators maintain the users (their roles and region) in the admin."""

import rules

from hap_contracting.core.predicates import administers_in_admin

rules.add_perm("accounts", administers_in_admin)
for _action in ("view", "add", "change"):
    rules.add_perm(f"accounts.{_action}_user", administers_in_admin)
rules.add_perm("accounts.view_userchange", administers_in_admin)
