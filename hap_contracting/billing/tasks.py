"""Thin Celery tasks: they take primary keys and call a service."""

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from hap_contracting.core.limits import memory_ceiling

from . import documents
from .services.claims_import import claim_import_run
from .services.invoices import invoice_delivery_run
from .services.payment_reminders import payment_reminders_send_pending

# The import is safe to run again, so a database that went away is retried a few times,
# minutes apart. Any other failure is the file's: the import ends rejected with the reason, and
# trying again would not change it.
RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 60,
    "max_retries": 5,
}


@shared_task(name="billing.import_claims", soft_time_limit=3600, time_limit=3700, **RETRY)
def import_claims(claim_import_id: int) -> str:
    with memory_ceiling(
        0 if settings.CELERY_TASK_ALWAYS_EAGER else settings.CLAIM_IMPORT_MEMORY_MB
    ):
        return claim_import_run(claim_import_id).status


@shared_task(name="billing.deliver_invoice", soft_time_limit=300, time_limit=330, **RETRY)
def deliver_invoice(delivery_id: int) -> str:
    return invoice_delivery_run(delivery_id=delivery_id, send=documents.invoice_email_send)


@shared_task(name="billing.send_payment_reminders", **RETRY)
def send_payment_reminders() -> int:
    return payment_reminders_send_pending()
