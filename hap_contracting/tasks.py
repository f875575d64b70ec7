"""Thin Celery tasks: they take primary keys and call a service."""

import datetime

from celery import shared_task

from .services.claims_import import claim_import_run
from .services.notifications import notify_next_actors
from .services.reminders import reminders_send_pending
from .services.renewals import daily_contract_job


@shared_task(name="hap_contracting.notify_request_state_entered")
def notify_request_state_entered(
    admission_request_id: int, state: str, outcome_recorded: bool = False
) -> int:
    return notify_next_actors(
        admission_request_id=admission_request_id, state=state, outcome_recorded=outcome_recorded
    )


@shared_task(name="hap_contracting.run_daily_contract_job")
def run_daily_contract_job(today: str | None = None) -> dict:
    """Beat runs this at 06:00 Amsterdam time; ``today`` (ISO date) lets operations rerun a day."""
    report = daily_contract_job(datetime.date.fromisoformat(today) if today else None)
    send_pending_reminders.delay_on_commit()
    return report.as_dict()


# Both services are safe to run again, so a failure (a mail server or database that went away)
# is retried a few times, minutes apart, rather than waiting for the next day.
RETRY = {"autoretry_for": (Exception,), "retry_backoff": 60, "max_retries": 5}


@shared_task(name="hap_contracting.send_pending_reminders", **RETRY)
def send_pending_reminders() -> int:
    return reminders_send_pending()


@shared_task(name="hap_contracting.import_claims", soft_time_limit=3600, time_limit=3700, **RETRY)
def import_claims(claim_import_id: int) -> str:
    return claim_import_run(claim_import_id).status
