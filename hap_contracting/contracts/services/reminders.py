"""Sending the reminders the daily job scheduled (``renewals.reminders_schedule``).

Each batch of unsent reminders is locked (``SKIP LOCKED``: a second sender takes other rows),
sent over one SMTP connection and marked in the same transaction, so a reminder goes out once
even when two senders run. Every address gets its own message; the addresses that accepted it
are recorded on the reminder, so a reminder that one address refused is retried for the other
addresses only, up to ``REMINDER_MAX_ATTEMPTS`` runs (a temporary 4xx refusal does not count),
and never blocks the reminders after it. A mail server that cannot be reached fails the run
without counting an attempt; one that drops the connection mid-batch fails it after what was
delivered so far is marked. Should the worker die between the SMTP server accepting a mail and
the commit, the rerun mails that batch again: at most one batch could be doubled, never
skipped.
"""

from __future__ import annotations

import datetime
import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from accounts.selectors import StaffDirectory
from hap_contracting.core.roles import Role
from hap_contracting.procedure.constants import RequestState
from hap_contracting.procedure.models import AdmissionRequest, Norms
from hap_contracting.procedure.selectors.deadlines import with_step_clock, with_step_deadlines
from hap_contracting.procedure.services.notifications import recipients_for_state

from ..constants import ReminderKind
from ..models import Reminder

logger = logging.getLogger(__name__)
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
        renewal = contract.renewal
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
        if reminder.kind in (K.COMPLETION_DUE, K.COMPLETION_OVERDUE, K.STEP_DUE, K.STEP_OVERDUE):
            # Whoever must act; once the deadline has passed, the region's secretariat too.
            overdue = reminder.kind in (K.COMPLETION_OVERDUE, K.STEP_OVERDUE)
            return recipients_for_state(request, directory=directory) + (
                secretariat if overdue else []
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
        renewal = contract.renewal
        context |= {
            "contract": contract,
            "renewal": renewal,
            "days_left": (contract.end_date - reminder.due_on).days,
            "url": _url("contracts:contract_detail", contract.pk),
        }
        if renewal is not None:
            context["state_label"] = RequestState(renewal.state).label
            context["url"] = _url("procedure:request_detail", renewal.pk)
    elif reminder.admission_request_id:
        request = reminder.admission_request
        context |= {
            "request": request,
            "state_label": RequestState(request.state).label,
            "url": _url("procedure:request_detail", request.pk),
        }
        if reminder.kind in (K.COMPLETION_DUE, K.COMPLETION_OVERDUE, K.STEP_DUE, K.STEP_OVERDUE):
            context["deadline"] = getattr(request, "step_deadline", None)
            if reminder.kind in (K.COMPLETION_OVERDUE, K.STEP_OVERDUE):
                # Scheduled the day after the deadline it reports.
                context["deadline"] = reminder.due_on - datetime.timedelta(days=1)
        if reminder.step:
            context["step_label"] = RequestState(reminder.step).label
    else:
        action = reminder.breach_action
        context |= {
            "action": action,
            "contract": action.breach.contract,
            "url": _url("contracts:contract_detail", action.breach.contract_id),
        }
    return context


def _pending():
    return (
        Reminder.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(sent_at__isnull=True, attempts__lt=settings.REMINDER_MAX_ATTEMPTS)
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
        .order_by("pk")
    )


def _with_deadlines(batch: list[Reminder], norms: dict) -> None:
    """Set each reminded request's current ``step_deadline`` (for the message): one query, and
    one for the norms the first time (``norms`` holds them for the next batches)."""
    ids = {reminder.admission_request_id for reminder in batch} - {None}
    if not ids:
        return
    if "norms" not in norms:
        norms["norms"] = Norms.load()
    today = timezone.localdate()
    rows = with_step_clock(AdmissionRequest.objects.filter(pk__in=ids))
    deadlines = {
        row.pk: row.step_deadline for row in with_step_deadlines(rows, today, norms["norms"])
    }
    for reminder in batch:
        if reminder.admission_request_id:
            reminder.admission_request.step_deadline = deadlines.get(reminder.admission_request_id)


def _split(recipients: str) -> set[str]:
    return {address for address in recipients.split(", ") if address}


def reminders_send_pending(batch_size: int = BATCH_SIZE) -> int:
    """Send every unsent reminder; returns how many were completed (including those with nobody
    to send to, which are marked sent with that problem noted)."""
    directory = StaffDirectory()
    norms: dict = {}  # read when a batch first needs them
    completed = 0
    last_pk = 0  # a reminder refused in this run waits for the next run
    with get_connection() as connection:  # a server that can't be reached fails the run
        while True:
            with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
                batch = list(_pending().filter(pk__gt=last_pk)[:batch_size])
                if not batch:
                    return completed
                last_pk = batch[-1].pk
                now = timezone.now()
                done, failure = [], None
                _with_deadlines(batch, norms)
                for reminder in batch:
                    try:
                        completed += _send(reminder, directory, connection, now)
                    except Exception as error:  # noqa: BLE001  (re-raised after the marks)
                        # The server went away mid-batch: what was delivered so far is marked
                        # (and committed) before the run fails, so a rerun does not mail it again.
                        done.append(reminder)
                        failure = error
                        break
                    done.append(reminder)
                Reminder.objects.bulk_update(
                    done, ["sent_at", "recipients", "attempts", "last_error"]
                )
            if failure is not None:
                raise failure


def _temporary(error: smtplib.SMTPException) -> bool:
    """A 4xx reply: the server asks to try again later (greylisting, a full mailbox)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
    else:
        codes = [getattr(error, "smtp_code", 500)]
    return bool(codes) and all(400 <= code < 500 for code in codes)


def _send(reminder: Reminder, directory: StaffDirectory, connection, now) -> int:
    if reminder.step and reminder.admission_request.state != reminder.step:
        # A step's warning whose request moved on before it was sent: nobody must act on it.
        reminder.sent_at = now
        reminder.last_error = gettext("the request has left this step")
        return 1
    addresses = set(_recipients(reminder, directory))
    delivered = _split(reminder.recipients)
    context = _context(reminder)
    subject = render_to_string("contracts/email/reminder_subject.txt", context).strip()
    body = render_to_string("contracts/email/reminder_body.txt", context)
    refused, deferred = [], []
    try:
        for address in sorted(addresses - delivered):
            message = EmailMessage(
                subject, body, settings.DEFAULT_FROM_EMAIL, [address], connection=connection
            )
            try:
                message.send()
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as error:
                # This address or message was refused; a lost connection is not caught here.
                (deferred if _temporary(error) else refused).append(type(error).__name__)
            else:
                delivered.add(address)
    finally:
        reminder.recipients = ", ".join(sorted(delivered))
    if refused or deferred:
        if refused:  # a temporary (4xx) refusal is retried without counting an attempt
            reminder.attempts += 1
        problems = refused or deferred
        reminder.last_error = ngettext(
            "%(count)s address refused it (%(error)s)",
            "%(count)s addresses refused it (%(error)s)",
            len(problems),
        ) % {
            "count": len(problems),
            "error": problems[0],
        }
        given_up = reminder.attempts >= settings.REMINDER_MAX_ATTEMPTS
        (logger.error if given_up else logger.warning)(
            "reminder %s: %s addresses refused (%s), attempt %s%s",
            reminder.pk,
            len(problems),
            problems[0],
            reminder.attempts,
            ", given up" if given_up else "",
        )
        return 0
    reminder.sent_at = now
    if not addresses:
        reminder.last_error = gettext("nobody to send it to")
        logger.warning("reminder %s (%s): nobody to send it to", reminder.pk, reminder.kind)
    else:
        reminder.last_error = ""
    return 1
