"""Who may register and maintain regions, posts, organisations and care locations."""

import rules

from hap_contracting.core.predicates import (
    administers_in_admin,
    is_administrator,
    is_finance,
    is_secretariat,
    no_object_or_in_region,
    works_in_admin,
)

# The secretariat registers the locations of its region in the app; administrators maintain
# them (and the rest of the master data) in the admin.
can_register_location = is_secretariat | is_administrator
# The same roles manage them, so they have the location list of their region.
can_list_locations = can_register_location

# Finance keeps where the invoices go (address, attention line, reference, e-mail) in the app;
# administrators too, besides the rest of the organisation in the admin.
can_keep_invoice_details = is_finance | is_administrator

# The quality team and the council read organisations and their region's locations in the admin.
rules.add_perm("organisations", works_in_admin)
rules.add_perm("organisations.view_careorganisation", works_in_admin)
rules.add_perm("organisations.view_carelocation", works_in_admin & no_object_or_in_region)
for _action in ("add", "change"):
    rules.add_perm(f"organisations.{_action}_careorganisation", administers_in_admin)
    rules.add_perm(f"organisations.{_action}_carelocation", administers_in_admin)
for _model in ("region", "happost", "postcoderange", "targetgroup"):
    for _action in ("view", "add", "change"):
        rules.add_perm(f"organisations.{_action}_{_model}", administers_in_admin)
