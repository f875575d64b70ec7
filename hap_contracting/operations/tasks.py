"""The daily job's entry point for Celery beat."""

import datetime

from celery import shared_task

from hap_contracting.billing.tasks import send_payment_reminders
from hap_contracting.contracts.tasks import send_pending_reminders

from .services import daily_job


@shared_task(name="operations.run_daily_job")
def run_daily_job(today: str | None = None) -> dict:
    """Beat runs this at 06:00 Amsterdam time; ``today`` (ISO date) lets operations rerun a day."""
    report = daily_job(datetime.date.fromisoformat(today) if today else None)
    send_pending_reminders.delay_on_commit()
    send_payment_reminders.delay_on_commit()
    return report.as_dict()
