"""Payment reminders, a step of the daily job (``operations.services.daily_job``): an open or
partly paid invoice gets a first reminder ``PAYMENT_REMINDER_FIRST_DAYS`` after its due date, a
second one ``PAYMENT_REMINDER_SECOND_DAYS`` after it, and is listed for collection
(a ``PaymentReminder`` of kind ``collection``, shown on the invoice list and page as
``collection_listed_on``) ``PAYMENT_COLLECTION_DAYS`` after it.

Exactly once, as for the contracts' reminders: scheduling is set-based; a reminder is a row
unique per (invoice, kind), inserted with ``ON CONFLICT DO NOTHING``, so a rerun, a concurrent
run or a run after a missed day creates each reminder once (a missed day: the reminder is due
since a date that has passed, and is created on the next run). After a longer gap only the
latest reminder that fell due is sent (not a first and a second on the same day). The listing
is a row of the same table (a sent invoice is never changed: a trigger refuses it), never
mailed. Sending locks the unsent rows (``SKIP LOCKED``) and marks each sent in the same
transaction; an invoice paid in the meantime is not reminded.

Written here rather than on ``contracts``' ``COUNTDOWNS``: its ``Reminder`` rows point at
contracts and requests, and an invoice foreign key there would make contracts depend on
billing, against the layers (docs/decisions.md).
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation

from ..constants import InvoiceKind, PaymentReminderKind, PaymentState
from ..models import Invoice, PaymentReminder
from ..selectors import invoice_sender, sender_details, with_payment_state

logger = logging.getLogger(__name__)
K = PaymentReminderKind
UNPAID = (PaymentState.OPEN, PaymentState.PARTLY_PAID)
BATCH_SIZE = 200


def _days(kind: str) -> int:
    return {
        K.FIRST: settings.PAYMENT_REMINDER_FIRST_DAYS,
        K.SECOND: settings.PAYMENT_REMINDER_SECOND_DAYS,
    }[kind]


def unpaid_invoices(today: datetime.date) -> QuerySet[Invoice]:
    """Invoices open or partly paid, with a due date (with ``with_payment_state``)."""
    return with_payment_state(
        Invoice.objects.filter(kind=InvoiceKind.INVOICE, due_date__isnull=False), today=today
    ).filter(payment_state__in=UNPAID)


def payment_reminders_schedule(today: datetime.date) -> int:
    """The reminders due by today that are not there yet; returns how many are new. Three
    queries, however many invoices."""
    first, second = _days(K.FIRST), _days(K.SECOND)
    rows = (
        unpaid_invoices(today)
        .filter(due_date__lte=today - datetime.timedelta(days=first))
        .order_by()
        .values_list("pk", "due_date")
    )
    reminders = []
    for pk, due_date in rows:
        # The latest reminder that fell due; an earlier one missed is not sent after it.
        kind = K.SECOND if due_date <= today - datetime.timedelta(days=second) else K.FIRST
        reminders.append(
            PaymentReminder(
                invoice_id=pk, kind=kind, due_on=due_date + datetime.timedelta(days=_days(kind))
            )
        )
    if not reminders:
        return 0
    existing = set(
        PaymentReminder.objects.filter(
            kind__in=(K.FIRST, K.SECOND),
            invoice_id__in=[reminder.invoice_id for reminder in reminders],
        ).values_list("invoice_id", "kind")
    )
    # A second reminder is not followed by a late first one.
    done = {(pk, K.FIRST) for pk, kind in existing if kind == K.SECOND}
    new = [r for r in reminders if (r.invoice_id, r.kind) not in existing | done]
    with transaction.atomic():
        PaymentReminder.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def invoices_list_for_collection(today: datetime.date) -> int:
    """List the invoices still unpaid ``PAYMENT_COLLECTION_DAYS`` after their due date for
    collection, once (on ``today``); returns how many are new. Two queries."""
    since = today - datetime.timedelta(days=settings.PAYMENT_COLLECTION_DAYS)
    pks = list(
        unpaid_invoices(today)
        .filter(due_date__lte=since, collection_listed_on__isnull=True)
        .order_by()
        .values_list("pk", flat=True)
    )
    now = timezone.now()
    PaymentReminder.objects.bulk_create(
        [
            PaymentReminder(invoice_id=pk, kind=K.COLLECTION, due_on=today, sent_at=now)
            for pk in pks
        ],
        ignore_conflicts=True,
    )
    return len(pks)


def payment_reminders_send_pending(today: datetime.date | None = None) -> int:
    """E-mail the unsent reminders of invoices still unpaid, in Dutch, to the organisation's
    invoice e-mail; returns how many went out. A batch is locked, sent over one connection and
    marked in one transaction. Without an invoice e-mail the reminder is kept with the problem
    noted (finance sees it on the invoice page)."""
    today = today or timezone.localdate()
    sent = 0
    handled: list[int] = []  # a failed one is tried again on the next run, not in this one
    sender = sender_details(invoice_sender())
    while True:
        with transaction.atomic():
            batch = list(
                PaymentReminder.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(
                    sent_at__isnull=True,
                    kind__in=(K.FIRST, K.SECOND),
                    attempts__lt=settings.REMINDER_MAX_ATTEMPTS,
                    invoice__in=unpaid_invoices(today).values("pk"),
                )
                .exclude(pk__in=handled)
                .select_related("invoice__organisation")
                .order_by("pk")[:BATCH_SIZE]
            )
            if not batch:
                return sent
            outstanding = dict(
                unpaid_invoices(today)
                .filter(pk__in=[r.invoice_id for r in batch])
                .values_list("pk", "outstanding")
            )
            handled += [reminder.pk for reminder in batch]
            connection = get_connection()
            for reminder in batch:
                sent += _send(reminder, outstanding.get(reminder.invoice_id), sender, connection)
            connection.close()


def _send(reminder: PaymentReminder, outstanding, sender: dict, connection) -> int:
    invoice = reminder.invoice
    address = invoice.organisation.invoice_email
    if not address:
        reminder.attempts = settings.REMINDER_MAX_ATTEMPTS
        reminder.last_error = "no invoice e-mail"
        reminder.save(update_fields=["attempts", "last_error"])
        return 0
    context = {
        "invoice": invoice,
        "reminder": reminder,
        "is_second": reminder.kind == K.SECOND,
        "outstanding": outstanding,
        "sender": sender,
    }
    with translation.override("nl"):
        subject = render_to_string("billing/email/payment_reminder_subject.txt", context).strip()
        body = render_to_string("billing/email/payment_reminder_body.txt", context)
    try:
        EmailMessage(subject, body, to=[address], connection=connection).send()
    except Exception as error:  # noqa: BLE001 - one refused message must not stop the batch
        logger.warning("payment reminder %s not sent: %s", reminder.pk, error)
        reminder.attempts += 1
        reminder.last_error = str(error)[:200]
        reminder.save(update_fields=["attempts", "last_error"])
        return 0
    reminder.sent_at = timezone.now()
    reminder.recipient = address
    reminder.save(update_fields=["sent_at", "recipient"])
    return 1
