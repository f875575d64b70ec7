"""Payments of invoices: recorded by hand, or from a CAMT.053 bank statement.

A payment is history: never changed or deleted (append-only on PostgreSQL); a mistake is undone
by a reversal, a second payment with the opposite amount. Payments go on approved and sent
invoices (an approved invoice has its number and payment reference, and money that arrives for
it is recorded even if "sent" was not clicked yet); not on drafts, not on credit notes. More
than is owed is recorded all the same and the invoice shows *paid too much*: the money was
received, what to do with it is finance's call.
"""

from __future__ import annotations

import datetime
import hashlib
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hap_contracting.core.errors import DomainError, full_clean_or_raise
from hap_contracting.core.money import money
from hap_contracting.core.text import TextLimit, checked_text

from .. import rules as billing_rules
from ..constants import InvoiceKind, InvoiceState, PaymentSource
from ..models import BankStatementEntry, BankStatementImport, Invoice, Payment
from ..selectors import (
    invoices_for_payment_references,
    standing_payments,
    with_payment_state,
)
from .camt053 import parse_statement

PAYABLE_STATES = (InvoiceState.APPROVED, InvoiceState.SENT)
# A day statement of a busy account is a few hundred kilobytes; this leaves room.
MAX_STATEMENT_BYTES = 20 * 1024 * 1024
REFERENCE_LENGTH = 140


def _require_finance(user) -> None:
    if not billing_rules.can_bill.test(user):
        raise DomainError(_("Only finance does this."))


def _moment(at: datetime.datetime | None) -> datetime.datetime:
    now = timezone.now()
    if at is not None and at > now:
        raise DomainError(_("This moment lies in the future."))
    return at or now


def _locked_invoice(invoice: Invoice) -> Invoice:
    """The invoice, locked: payments of one invoice are recorded one after the other, so what
    the page and the import see as outstanding is what it is."""
    return Invoice.objects.select_for_update(of=("self",)).order_by("pk").get(pk=invoice.pk)


def _check_payable(invoice: Invoice, paid_on: datetime.date, moment: datetime.datetime) -> None:
    if invoice.kind != InvoiceKind.INVOICE:
        raise DomainError(_("A credit note is not paid; record the payment on the invoice."))
    if invoice.state not in PAYABLE_STATES:
        raise DomainError(_("Only an approved or sent invoice can be paid."))
    if paid_on > timezone.localdate(moment):
        raise DomainError(_("The payment date lies in the future."), field="paid_on")
    if invoice.approved_at and paid_on < timezone.localdate(invoice.approved_at):
        raise DomainError(
            _("The payment date lies before the invoice was approved."), field="paid_on"
        )


def payment_record(
    *,
    invoice: Invoice,
    by,
    amount: Decimal,
    paid_on: datetime.date,
    reference: str,
    note: str = "",
    bank_entry: BankStatementEntry | None = None,
    at: datetime.datetime | None = None,
) -> Payment:
    """Finance records money received for ``invoice``: more than zero, paid on a day not in the
    future and not before the approval, with the bank's reference. ``bank_entry``: the
    statement line it comes from (matched by hand), which then counts as matched. ``at``: when
    it was recorded, if not now (the demo)."""
    _require_finance(by)
    moment = _moment(at)
    if amount is None or money(amount) <= 0:
        raise DomainError(_("The amount must be more than zero."), field="amount")
    reference = checked_text(
        reference,
        field="reference",
        limit=REFERENCE_LENGTH,
        required_message=_("Give the payment's reference (as on the bank statement)."),
    )
    note = checked_text(note, field="note", limit=TextLimit.REMARK)
    with transaction.atomic():
        invoice = _locked_invoice(invoice)
        _check_payable(invoice, paid_on, moment)
        if bank_entry is not None:
            bank_entry = BankStatementEntry.objects.select_for_update().get(pk=bank_entry.pk)
            if standing_payments().filter(bank_entry=bank_entry).exists():
                raise DomainError(_("This bank statement line has been matched already."))
        payment = Payment(
            invoice=invoice,
            amount=money(amount),
            paid_on=paid_on,
            reference=reference,
            note=note,
            source=PaymentSource.BANK if bank_entry else PaymentSource.MANUAL,
            bank_entry=bank_entry,
            recorded_by=by,
            recorded_at=moment,
        )
        full_clean_or_raise(payment)
        payment.save()
    return payment


def payment_reverse(
    *, payment: Payment, by, reason: str, at: datetime.datetime | None = None
) -> Payment:
    """A payment recorded by mistake (wrong invoice, wrong amount) is undone by a reversal: the
    opposite amount, dated today, with the reason. A bank line it came from can then be
    matched again."""
    _require_finance(by)
    moment = _moment(at)
    reason = checked_text(
        reason,
        field="reason",
        limit=TextLimit.REMARK,
        required_message=_("Give the reason for the reversal."),
    )
    with transaction.atomic():
        _locked_invoice(payment.invoice)
        payment = Payment.objects.get(pk=payment.pk)
        if payment.reverses_id is not None:
            raise DomainError(_("A reversal is not reversed; record the payment again."))
        if Payment.objects.filter(reverses=payment).exists():
            raise DomainError(_("This payment has been reversed already."))
        reversal = Payment(
            invoice_id=payment.invoice_id,
            amount=-payment.amount,
            paid_on=timezone.localdate(moment),
            reference=payment.reference,
            note=reason,
            source=payment.source,
            reverses=payment,
            recorded_by=by,
            recorded_at=moment,
        )
        full_clean_or_raise(reversal)
        try:
            with transaction.atomic():
                reversal.save()
        except IntegrityError as error:
            raise DomainError(_("This payment has been reversed already.")) from error
    return reversal


def bank_entry_reference(entry: BankStatementEntry) -> str:
    """What a payment from a bank line keeps as its reference: the payer's end-to-end id, else
    the description, else the statement."""
    return (entry.end_to_end_id or entry.remittance or entry.statement_id)[:REFERENCE_LENGTH]


def bank_entry_match(*, entry: BankStatementEntry, invoice: Invoice, by) -> Payment:
    """Finance matches an unmatched bank line to an invoice by hand: its amount and booking
    date are recorded as a payment of that invoice."""
    return payment_record(
        invoice=invoice,
        by=by,
        amount=entry.amount,
        paid_on=entry.booked_on,
        reference=bank_entry_reference(entry),
        bank_entry=entry,
    )


def bank_statement_import(
    *, by, uploaded_file, at: datetime.datetime | None = None
) -> BankStatementImport:
    """Import a CAMT.053 statement: its credits are kept; each whose description names an
    invoice's payment reference (``selectors.invoice_for_payment_reference``) and whose amount
    is what that invoice still owes is recorded as its payment; the others wait on the import's
    page to be matched by hand. Debits (and entries not booked yet) are counted and left out.
    Lines imported before (the same statement again, or a file that repeats them) are counted
    and not recorded again. A bad file stores nothing: the message names the line and the
    element."""
    _require_finance(by)
    moment = _moment(at)
    if uploaded_file.size > MAX_STATEMENT_BYTES:
        raise DomainError(_("The file is larger than 20 MB."), field="file")
    content = uploaded_file.read()
    statement = parse_statement(content)
    try:
        with transaction.atomic():
            return _import(statement, content, uploaded_file.name, by, moment)
    except IntegrityError as error:
        # The same statement is being imported at this moment by someone else.
        raise DomainError(
            _("This statement is being imported by someone else right now; try again."),
            field="file",
        ) from error


def _import(statement, content: bytes, name: str, by, moment) -> BankStatementImport:
    keys = [credit.key for credit in statement.credits]
    known = set(BankStatementEntry.objects.filter(key__in=keys).values_list("key", flat=True))
    new = [credit for credit in statement.credits if credit.key not in known]
    statement_import = BankStatementImport.objects.create(
        original_name=name[:255],
        sha256=hashlib.sha256(content).hexdigest(),
        statement_ids=", ".join(statement.statement_ids)[:500],
        account=statement.account[:34],
        uploaded_by=by,
        uploaded_at=moment,
        credit_count=len(statement.credits),
        new_count=len(new),
        known_count=len(statement.credits) - len(new),
        debit_count=statement.debit_count,
        unbooked_count=statement.unbooked_count,
    )
    entries = BankStatementEntry.objects.bulk_create(
        BankStatementEntry(
            statement_import=statement_import,
            key=credit.key,
            statement_id=credit.statement_id,
            amount=credit.amount,
            booked_on=credit.booked_on,
            remittance=credit.remittance,
            end_to_end_id=credit.end_to_end_id,
            debtor_name=credit.debtor_name,
            debtor_account=credit.debtor_account,
            line_number=credit.line_number,
        )
        for credit in new
    )
    payments = _matched_payments(entries, by, moment)
    Payment.objects.bulk_create(payments)
    statement_import.matched_count = len(payments)
    statement_import.save(update_fields=["matched_count"])
    return statement_import


def _matched_payments(entries: list[BankStatementEntry], by, moment) -> list[Payment]:
    """A payment for each entry that names one payable invoice and pays exactly what it still
    owes, in the statement's order (a second line for an invoice paid by the first stays
    unmatched). A fixed number of queries, however many lines."""
    invoices = invoices_for_payment_references({entry.remittance for entry in entries})
    ids = sorted({invoice.pk for invoice in invoices.values() if invoice is not None})
    # Locked, so a payment recorded by hand meanwhile is counted before the amounts compare.
    list(Invoice.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk"))
    owed = {
        invoice.pk: invoice
        for invoice in with_payment_state(
            Invoice.objects.filter(pk__in=ids), today=timezone.localdate(moment)
        )
    }
    payments = []
    for entry in entries:
        found = invoices.get(entry.remittance)
        invoice = owed.get(found.pk) if found is not None else None
        if (
            invoice is None
            or invoice.kind != InvoiceKind.INVOICE
            or invoice.state not in PAYABLE_STATES
            or entry.amount != money(invoice.outstanding)
            or (invoice.approved_at and entry.booked_on < timezone.localdate(invoice.approved_at))
            or entry.booked_on > timezone.localdate(moment)
        ):
            continue
        invoice.outstanding -= entry.amount
        payments.append(
            Payment(
                invoice=invoice,
                amount=entry.amount,
                paid_on=entry.booked_on,
                reference=bank_entry_reference(entry),
                source=PaymentSource.BANK,
                bank_entry=entry,
                recorded_by=by,
                recorded_at=moment,
            )
        )
    return payments
