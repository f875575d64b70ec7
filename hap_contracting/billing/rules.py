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


@rules.predicate
def made_the_invoice(user, invoice) -> bool:
    return (
        invoice is not None
        and invoice.created_by_id is not None
        and (invoice.created_by_id == user.pk)
    )


# Four eyes: the finance user who made an invoice (generated its month, or made the credit note)
# does not approve it; another finance user does. The page offers the button by this rule and
# the approval service enforces it.
can_approve_invoice = can_bill & ~made_the_invoice
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

# Which insurer reason codes are billed is finance's data too.
for _action in ("view", "add", "change", "delete"):
    rules.add_perm(f"billing.{_action}_billablereasoncode", works_in_admin_as_finance)
