"""The daily job: every morning each app's daily steps, in order (seed 004, 7.1 and 7.2).

Each step commits on its own, so a worker that dies half-way leaves finished steps done and the
rerun finishes the rest; every step is idempotent (see ``contracts.services.renewals``).
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import asdict, dataclass

from django.utils import timezone

from hap_contracting.audit.selectors import audit_trail_check
from hap_contracting.billing.services.payment_reminders import (
    invoices_list_for_collection,
    payment_reminders_schedule,
)
from hap_contracting.contracts.services.renewals import reminders_schedule, renewals_open_due
from hap_contracting.triage.services import (
    triage_filter_delist_contracted,
    triage_filter_list_after_grace,
)

logger = logging.getLogger(__name__)


@dataclass
class DailyJobReport:
    today: datetime.date
    renewals_opened: int = 0
    reminders_scheduled: int = 0
    locations_listed: int = 0
    locations_delisted: int = 0
    payment_reminders_scheduled: int = 0
    invoices_listed_for_collection: int = 0
    audit_trail_breaks: int = 0

    def as_dict(self) -> dict:
        return {**asdict(self), "today": self.today.isoformat()}


def daily_job(today: datetime.date | None = None) -> DailyJobReport:
    """Run every step for ``today`` (Amsterdam date): open the renewals due, schedule the
    reminders, list the locations whose grace period ended without a contract and delist those
    a contract now covers, schedule the payment reminders and list unpaid invoices for
    collection, and check the audit trail. The reminders are sent afterwards
    (``contracts``' sending task)."""
    today = today or timezone.localdate()
    report = DailyJobReport(today=today)
    report.renewals_opened = renewals_open_due(today)
    report.reminders_scheduled = reminders_schedule(today)
    report.locations_listed = triage_filter_list_after_grace(today)
    report.locations_delisted = triage_filter_delist_contracted(today)
    report.payment_reminders_scheduled = payment_reminders_schedule(today)
    report.invoices_listed_for_collection = invoices_list_for_collection(today)
    report.audit_trail_breaks = _audit_trail_verify()
    logger.info("daily job %s", report.as_dict())
    return report


def _audit_trail_verify() -> int:
    """Recompute the history's and the access log's hash chains. A break is an error in the
    log, for whoever watches it; the heads go to the log too, so that a rewrite of the whole
    chain from an edited row onward can be found against an earlier day's log."""
    heads, breaks = audit_trail_check()
    for head in heads:
        logger.info("audit trail %s: %s rows, last hash %s", head.table, head.rows, head.last_hash)
    for chain_break in breaks:
        logger.error("audit trail broken: %s", chain_break)
    return len(breaks)
