"""Thin Celery tasks: they take primary keys and call a service."""

from celery import shared_task

from .services.claims_import import claim_import_run

# The import is safe to run again, so a failure (a database that went away) is retried a few
# times, minutes apart.
RETRY = {"autoretry_for": (Exception,), "retry_backoff": 60, "max_retries": 5}


@shared_task(name="billing.import_claims", soft_time_limit=3600, time_limit=3700, **RETRY)
def import_claims(claim_import_id: int) -> str:
    return claim_import_run(claim_import_id).status
