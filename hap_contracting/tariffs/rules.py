"""Finance, with staff status, maintains the acts and the insurer tariffs; administrators read."""

import rules

from hap_contracting.core.predicates import administers_in_admin, works_in_admin_as_finance

rules.add_perm("tariffs", works_in_admin_as_finance | administers_in_admin)
for _model in ("act", "insurertariff"):
    rules.add_perm(f"tariffs.view_{_model}", works_in_admin_as_finance | administers_in_admin)
    for _action in ("add", "change"):
        rules.add_perm(f"tariffs.{_action}_{_model}", works_in_admin_as_finance)
