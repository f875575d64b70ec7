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
from django.db.models import Case, CharField, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.template.loader import render_to_string
from django.utils import timezone, translation

from hap_contracting.core.sql import AddDays, insert_from

from ..constants import InvoiceKind, PaymentReminderKind
from ..models import Invoice, PaymentReminder
from ..selectors import PAYABLE, invoice_sender, sender_details, with_payment_state

logger = logging.getLogger(__name__)
K = PaymentReminderKind
BATCH_SIZE = 200


def _days(kind: str) -> int:
    return {
        K.FIRST: settings.PAYMENT_REMINDER_FIRST_DAYS,
        K.SECOND: settings.PAYMENT_REMINDER_SECOND_DAYS,
    }[kind]


def unpaid_invoices(today: datetime.date) -> QuerySet[Invoice]:
    """Invoices open or partly paid, with a due date (with ``with_payment_state``). Filtered on
    the amounts, not on ``payment_state`` (the same invoices: payable, something owed, less
    paid): Django repeats a referenced annotation's whole expression, and the state's
    subqueries in every condition of its ``Case`` made the daily job's query three times
    slower."""
    return (
        with_payment_state(
            Invoice.objects.filter(kind=InvoiceKind.INVOICE, due_date__isnull=False), today=today
        )
        .filter(PAYABLE)
        .filter(amount_owed__gt=0, amount_paid__lt=F("amount_owed"))
    )


def payment_reminders_schedule(today: datetime.date) -> int:
    """The reminders due by today that are not there yet; returns how many are new. One
    ``INSERT … SELECT``, however many invoices."""
    first, second = _days(K.FIRST), _days(K.SECOND)
    second_due = Q(due_date__lte=today - datetime.timedelta(days=second))
    rows = (
        unpaid_invoices(today)
        .filter(due_date__lte=today - datetime.timedelta(days=first))
        # A second reminder is not followed by a late first one (nor by itself: the key).
        .exclude(Exists(PaymentReminder.objects.filter(invoice=OuterRef("pk"), kind=K.SECOND)))
        .order_by("pk")
    )
    with transaction.atomic():
        return insert_from(
            PaymentReminder,
            rows,
            {
                "invoice_id": F("pk"),
                # The latest reminder that fell due; an earlier one missed is not sent after it.
                "kind": Case(
                    When(second_due, then=Value(K.SECOND)),
                    default=Value(K.FIRST),
                    output_field=CharField(),
                ),
                "due_on": Case(
                    When(second_due, then=AddDays(F("due_date"), second)),
                    default=AddDays(F("due_date"), first),
                ),
                "created_at": timezone.now(),
            },
            ignore_conflicts=True,
        )


def invoices_list_for_collection(today: datetime.date) -> int:
    """List the invoices still unpaid ``PAYMENT_COLLECTION_DAYS`` after their due date for
    collection, once (on ``today``); returns how many are new. One ``INSERT … SELECT``."""
    since = today - datetime.timedelta(days=settings.PAYMENT_COLLECTION_DAYS)
    now = timezone.now()
    return insert_from(
        PaymentReminder,
        unpaid_invoices(today)
        .filter(due_date__lte=since, collection_listed_on__isnull=True)
        .order_by("pk"),
        {
            "invoice_id": F("pk"),
            "kind": K.COLLECTION,
            "due_on": today,
            "sent_at": now,
            "created_at": now,
        },
        ignore_conflicts=True,
    )


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
