"""Who bills, and who investigates unknown addresses (seed 004, 7.2)."""

import rules

from hap_contracting.core.predicates import (
    administers_in_admin,
    in_region_of,
    is_finance_for_all_regions,
    is_location_manager,
    is_programme_manager,
    works_in_admin_as_finance,
)

# F&C bills for the whole cooperative (imports, invoices, exports): finance without a region.
can_bill = is_finance_for_all_regions
# The post's location manager, with the programme manager elderly care, finds out whose an
# unknown address is.
can_investigate = (is_location_manager | is_programme_manager) & in_region_of

# Finance maintains the administrative costs in the admin. Claims and imports have no admin:
# claim data is read in the app, where every read is logged.
rules.add_perm("billing", works_in_admin_as_finance | administers_in_admin)
for _action in ("view", "add", "change"):
    rules.add_perm(f"billing.{_action}_administrativecost", works_in_admin_as_finance)
# An administrator keeps the sender's details that every invoice carries.
for _action in ("view", "add", "change"):
    rules.add_perm(f"billing.{_action}_invoicesender", administers_in_admin)
