"""Sending the reminders the daily job scheduled (``services.renewals``).

Each batch of unsent reminders is locked (``SKIP LOCKED``: a second sender takes other rows),
sent over one SMTP connection and marked sent in the same transaction, so a reminder goes out
once even when two senders run. Should the worker die between the SMTP server accepting the
mail and the commit, the rows stay unsent and the rerun mails them again: at most that one
batch could be doubled, never skipped.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from ..constants import ReminderKind, RequestState, Role
from ..models import Reminder
from ..selectors.admission import StaffDirectory
from .notifications import recipients_for_state
from .renewals import completion_deadline, council_approval_date

K = ReminderKind
BATCH_SIZE = 200


def _url(name: str, pk: int) -> str:
    return settings.SITE_URL + reverse(name, args=[pk])


def _recipients(reminder: Reminder, directory: StaffDirectory) -> list[str]:
    """Whoever must act next (seed 004, appendix 5), and the secretariat where it contracts."""
    if reminder.contract_id:
        contract = reminder.contract
        region_id = contract.region_id
        secretariat = directory.emails(Role.SECRETARIAT, region_id)
        renewal = getattr(contract, "renewal_request", None)
        if reminder.kind == K.RENEWAL_OPENED:
            previous = contract.admission_request
            manager = previous.assigned_location_manager if previous else None
            managers = (
                [manager.email]
                if manager and manager.is_active and manager.email
                else directory.emails(Role.LOCATION_MANAGER, region_id)
            )
            return secretariat + managers
        next_actors = (
            recipients_for_state(renewal, directory=directory) if renewal is not None else []
        )
        if reminder.kind == K.RENEWAL_LAPSED:
            return secretariat + next_actors
        return next_actors
    if reminder.admission_request_id:
        request = reminder.admission_request
        region_id = request.location.region_id
        secretariat = directory.emails(Role.SECRETARIAT, region_id)
        manager = request.assigned_location_manager
        manager_emails = [manager.email] if manager and manager.email else []
        if reminder.kind in (K.COMPLETION_DUE, K.COMPLETION_OVERDUE):
            return recipients_for_state(request, directory=directory) + (
                secretariat if reminder.kind == K.COMPLETION_OVERDUE else []
            )
        return secretariat + manager_emails
    action = reminder.breach_action
    contract = action.breach.contract
    recorder = action.recorded_by
    return directory.emails(Role.SECRETARIAT, contract.region_id) + (
        [recorder.email] if recorder.is_active and recorder.email else []
    )


def _context(reminder: Reminder) -> dict:
    context = {"reminder": reminder, "kind_label": reminder.get_kind_display()}
    if reminder.contract_id:
        contract = reminder.contract
        renewal = getattr(contract, "renewal_request", None)
        context |= {
            "contract": contract,
            "renewal": renewal,
            "days_left": (contract.end_date - reminder.due_on).days,
            "url": _url("hap_contracting:contract_detail", contract.pk),
        }
        if renewal is not None:
            context["state_label"] = RequestState(renewal.state).label
            context["url"] = _url("hap_contracting:request_detail", renewal.pk)
    elif reminder.admission_request_id:
        request = reminder.admission_request
        context |= {
            "request": request,
            "state_label": RequestState(request.state).label,
            "url": _url("hap_contracting:request_detail", request.pk),
        }
        if reminder.kind in (K.COMPLETION_DUE, K.COMPLETION_OVERDUE):
            context["deadline"] = completion_deadline(request.approved_on)
    else:
        action = reminder.breach_action
        context |= {
            "action": action,
            "contract": action.breach.contract,
            "url": _url("hap_contracting:contract_detail", action.breach.contract_id),
        }
    return context


def _pending():
    return (
        Reminder.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(sent_at__isnull=True)
        .select_related(
            "contract__organisation",
            "contract__location",
            "contract__admission_request__assigned_location_manager",
            "contract__renewal_request__location",
            "contract__renewal_request__assigned_location_manager",
            "admission_request__location",
            "admission_request__assigned_location_manager",
            "breach_action__breach__contract__location",
            "breach_action__recorded_by",
        )
        .annotate(approved_on=council_approval_date("admission_request_id"))
        .order_by("pk")
    )


def reminders_send_pending(batch_size: int = BATCH_SIZE) -> int:
    """Send every unsent reminder; returns how many were sent (including those with nobody to
    send to, which are marked sent with an empty recipient list)."""
    directory = StaffDirectory()
    sent = 0
    while True:
        with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
            batch = list(_pending()[:batch_size])
            if not batch:
                return sent
            messages = []
            now = timezone.now()
            for reminder in batch:
                if reminder.admission_request_id:
                    reminder.admission_request.approved_on = reminder.approved_on
                addresses = sorted(set(_recipients(reminder, directory)))
                context = _context(reminder)
                subject = render_to_string("email/reminder_subject.txt", context).strip()
                body = render_to_string("email/reminder_body.txt", context)
                messages += [
                    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
                    for address in addresses
                ]
                reminder.sent_at = now
                reminder.recipients = ", ".join(addresses)
            if messages:
                get_connection().send_messages(messages)
            Reminder.objects.bulk_update(batch, ["sent_at", "recipients"])
            sent += len(batch)
