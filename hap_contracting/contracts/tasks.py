"""Thin Celery tasks: they take primary keys and call a service."""

from celery import shared_task

from .services.reminders import reminders_send_pending

# Sending is safe to run again, so a failure (a mail server or database that went away) is
# retried a few times, minutes apart, rather than waiting for the next day.
RETRY = {"autoretry_for": (Exception,), "retry_backoff": 60, "max_retries": 5}


@shared_task(name="contracts.send_pending_reminders", **RETRY)
def send_pending_reminders() -> int:
    return reminders_send_pending()
