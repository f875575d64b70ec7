"""Invoices and credit notes for uncontracted care (seed 004, 7.2 point 2).

Charge rule: a claim at a location with a Wlz admission with treatment and **no active ANW
contract on the date of care** is charged **2 × the act's insurer tariff valid on that date**;
the administrative costs valid on the invoice's month are added once per invoice. Amounts are
``Decimal``, rounded half up to cents. GP care is exempt from VAT (art. 11 lid 1 onderdeel g Wet
OB 1968), so the invoices carry no VAT and say why.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, Exists, F, OuterRef, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum import iso11649 as stdnum_iso11649
from stdnum.iso7064 import mod_97_10

from hap_contracting.audit.constants import AccessAction
from hap_contracting.audit.services import access_log_record_many
from hap_contracting.contracts.selectors import contract_covers
from hap_contracting.core.errors import DomainError
from hap_contracting.core.fsm_log import log_transitions
from hap_contracting.core.jobs import enqueue_on_commit
from hap_contracting.core.months import month_bounds
from hap_contracting.core.text import TextLimit, checked_text
from hap_contracting.tariffs.models import twice_the_tariff
from hap_contracting.tariffs.selectors import insurer_tariff_amount_on
from hap_contracting.triage.constants import TriageFilterReason
from hap_contracting.triage.services import triage_filter_list

from .. import rules as billing_rules
from ..constants import CREDIT_NOTE_FINAL_STATES, DeliveryStatus, InvoiceKind, InvoiceState
from ..models import (
    Claim,
    Invoice,
    InvoiceDelivery,
    InvoiceDeliveryOutcome,
    InvoiceLine,
    InvoiceNumberSequence,
)
from ..selectors import (
    administrative_costs_on,
    billable_reason_code,
    invoice_document_gaps,
    invoice_parties,
    invoice_sender,
    patient_references_of,
    recipient_details,
    sender_details,
    standing_charges,
)

VAT_EXEMPTION = gettext_lazy(
    "Exempt from VAT: medical care by a general practitioner (art. 11, lid 1, onderdeel g, "
    "Wet op de omzetbelasting 1968)."
)


def _require_finance(user) -> None:
    if not billing_rules.can_bill.test(user):
        raise DomainError(_("Only finance does this."))


def chargeable_claims(period_start: datetime.date, period_end: datetime.date):
    """Claims of the period that the charge rule bills, annotated with the tariff on the date of
    care; claims without a tariff that day are left out (and reported by the caller)."""
    tariff = insurer_tariff_amount_on(OuterRef("act_id"), OuterRef("care_on"))
    charged = InvoiceLine.objects.filter(claim=OuterRef("pk"), is_credit=False)
    charges_before = charged.values("claim").annotate(count=Count("pk")).values("count")
    # The same conditions as the import's summary (``selectors.claim_outcome``).
    return (
        Claim.objects.filter(
            Exists(billable_reason_code()),
            care_on__gte=period_start,
            care_on__lte=period_end,
            duplicate_of__isnull=True,
            location__wlz_treatment_admission=True,
            location__organisation__isnull=False,
        )
        .exclude(contract_covers(OuterRef("location_id"), OuterRef("care_on")))
        .exclude(Exists(standing_charges()))
        .annotate(
            tariff=Subquery(tariff),
            billing_round=Coalesce(Subquery(charges_before), Value(0)),
        )
    )


def invoices_generate(*, by, period: datetime.date) -> dict:
    """Draft invoices per organisation for the month of ``period``. Run again, it rebuilds the
    month's drafts from today's data and adds claims not billed yet; approved and sent invoices
    stay as they are: claims that arrive for the month after its invoice was approved go on a
    supplementary invoice. ``by`` is recorded as who made every draft it makes or rebuilds (four
    eyes: another finance user approves them). Returns counts for the page."""
    _require_finance(by)
    start, end = month_bounds(period)
    if end >= timezone.localdate():
        raise DomainError(_("Only a month that has ended can be billed."), field="period")
    try:
        return _invoices_generate(start, end, by)
    except IntegrityError as error:
        # Someone generated the same month at the same moment; nothing was billed twice.
        raise DomainError(
            _("Invoices for this month are being made by someone else right now; try again.")
        ) from error


def _invoices_generate(start: datetime.date, end: datetime.date, by) -> dict:
    with transaction.atomic():
        # Ordered by key, not by the model's organisation name: a join would lock the care
        # organisations too (FOR UPDATE covers every table of the query unless told OF).
        months_invoices = Invoice.objects.filter(kind=InvoiceKind.INVOICE, period=start).order_by(
            "pk"
        )
        # Drafts are rebuilt from today's data: a contract, tariff, address or treatment flag
        # recorded since the last run changes what they charge.
        drafts = list(
            months_invoices.select_for_update(of=("self",)).filter(state=InvoiceState.DRAFT)
        )
        draft_lines = InvoiceLine.objects.filter(invoice__in=drafts)
        on_drafts_before = set(draft_lines.values_list("claim_id", flat=True))
        draft_lines.delete()

        rows = list(
            chargeable_claims(start, end).values_list(
                "pk",
                "location_id",
                "location__organisation_id",
                "act_id",
                "care_on",
                "tariff",
                "billing_round",
            )
        )
        without_tariff = sum(1 for row in rows if row[5] is None)
        rows = [row for row in rows if row[5] is not None]
        organisations = {row[2] for row in rows}
        # The invoices that still stand (a credited one is history), locked: one made by a
        # concurrent run, or approved meanwhile, is seen as it is now.
        standing = list(
            months_invoices.select_for_update(of=("self",)).exclude(
                Exists(
                    Invoice.objects.filter(
                        corrects=OuterRef("pk"), state__in=CREDIT_NOTE_FINAL_STATES
                    )
                )
            )
        )
        draft_of = {i.organisation_id: i for i in standing if i.state == InvoiceState.DRAFT}
        # An invoice with a number is final: claims that arrive after its approval go on a
        # supplementary invoice of the same round, never on it.
        closed = {i.organisation_id: i for i in standing if i.state != InvoiceState.DRAFT}
        # The last round and supplement per organisation, for the next invoice's place.
        last = {
            organisation_id: (billing_round, supplement)
            for organisation_id, billing_round, supplement in months_invoices.filter(
                organisation_id__in=organisations
            )
            .order_by("organisation_id", "billing_round", "supplement")
            .values_list("organisation_id", "billing_round", "supplement")
        }
        administrative = administrative_costs_on(start)

        def placed(organisation_id: int) -> dict:
            billing_round, supplement = last.get(organisation_id, (-1, 0))
            if organisation_id in closed:
                # The round stands: a supplementary invoice in it.
                return {"billing_round": billing_round, "supplement": supplement + 1}
            # Nothing stands (never billed, or every invoice credited): the next round.
            return {"billing_round": billing_round + 1, "supplement": 0}

        # A supplementary invoice adds no administrative costs: the round's invoice charged the
        # month's already.
        new = [
            Invoice(
                organisation_id=organisation_id,
                period=start,
                reason=str(VAT_EXEMPTION),
                created_by=by,
                **placed(organisation_id),
            )
            for organisation_id in sorted(organisations)
            if organisation_id not in draft_of
        ]
        Invoice.objects.bulk_create(new)
        invoices = {
            **{org: invoice for org, invoice in draft_of.items() if org in organisations},
            **{invoice.organisation_id: invoice for invoice in new},
        }
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                invoice=invoices[organisation_id],
                claim_id=claim_id,
                location_id=location_id,
                act_id=act_id,
                care_on=care_on,
                tariff=tariff,
                amount=twice_the_tariff(tariff),
                billing_round=billing_round,
            )
            for (
                claim_id,
                location_id,
                organisation_id,
                act_id,
                care_on,
                tariff,
                billing_round,
            ) in rows
        )
        emptied = [draft.pk for draft in drafts if draft.organisation_id not in organisations]
        Invoice.objects.filter(pk__in=emptied).delete()
        billed = [invoice.pk for invoice in invoices.values()]
        # Whoever rebuilds a draft made what it now charges.
        Invoice.objects.filter(pk__in=billed).update(
            administrative_costs=Case(
                When(supplement=0, then=Value(administrative)), default=Value(Decimal("0.00"))
            ),
            created_by=by,
        )
        _recompute_totals(billed)
    on_drafts_now = {row[0] for row in rows}
    return {
        "invoices": len(organisations),
        "lines": len(on_drafts_now - on_drafts_before),
        "lines_removed": len(on_drafts_before - on_drafts_now),
        "drafts_removed": len(emptied),
        "claims_without_tariff": without_tariff,
        "supplementary": sum(1 for invoice in new if invoice.supplement),
    }


def _recompute_totals(invoice_ids: list[int]) -> None:
    """Totals in two set-based UPDATEs, whatever the number of invoices."""
    summed = (
        InvoiceLine.objects.filter(invoice=OuterRef("pk"))
        .values("invoice")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    invoices = Invoice.objects.filter(pk__in=invoice_ids)
    invoices.update(lines_total=Coalesce(Subquery(summed), Value(Decimal("0.00"))))
    invoices.update(total=F("lines_total") + F("administrative_costs"))


def _take_numbers(year: int, count: int) -> int:
    """The first of ``count`` next gapless numbers of ``year``: the year's row is locked until
    the approval commits, so a second approver waits and takes the following numbers."""
    InvoiceNumberSequence.objects.get_or_create(year=year)
    sequence = InvoiceNumberSequence.objects.select_for_update().get(year=year)
    first = sequence.last_number + 1
    sequence.last_number += count
    sequence.save(update_fields=["last_number"])
    return first


def _moment(at: datetime.datetime | None) -> datetime.datetime:
    """Now, or ``at`` for a step recorded after the fact (the demo's history): never later."""
    now = timezone.now()
    if at is not None and at > now:
        raise DomainError(_("This moment lies in the future."))
    return at or now


def invoice_approve(*, invoice: Invoice, by, at: datetime.datetime | None = None) -> Invoice:
    """Finance approves a draft: it gets its number, and the locations billed go on the triage
    filter list (seed 004, 7.2: "without an agreement, no emergency GP care"). ``at``: when, if
    not now; the number's year and the listing date follow it. Four eyes: not by who made it."""
    return invoices_approve(invoice_ids=[invoice.pk], by=by, at=at)[0]


def _approval_refusal(invoice: Invoice, by) -> str:
    """Why ``by`` may not approve this invoice now ("" if they may)."""
    if invoice.state != InvoiceState.DRAFT:
        return _("Only a draft invoice can be approved.")
    if not invoice.has_lines:
        return _("This invoice has no lines.")
    if not billing_rules.can_approve_invoice.test(by, invoice):
        return _(
            "You made this invoice; another finance employee approves it (four-eyes principle)."
        )
    return ""


def invoices_approve(*, invoice_ids, by, at: datetime.datetime | None = None) -> list[Invoice]:
    """Approve several drafts at once, **all or none**: if any of them may not be approved
    (by this user, now), none is, and the message names each and why. Numbers are given in
    the order of the invoices' keys, gapless. A fixed number of queries, however many."""
    _require_finance(by)
    moment = _moment(at)
    invoice_ids = sorted(set(invoice_ids))
    if not invoice_ids:
        raise DomainError(_("Choose the draft invoices to approve."))
    with transaction.atomic():
        invoices = list(
            Invoice.objects.select_for_update(of=("self",))
            .select_related("organisation")
            .filter(pk__in=invoice_ids)
            .annotate(has_lines=Exists(InvoiceLine.objects.filter(invoice=OuterRef("pk"))))
            .order_by("pk")
        )
        if len(invoices) != len(invoice_ids):
            # Generating the month again removed a draft: none of its claims was chargeable.
            raise DomainError(_("This draft no longer exists; its claims are not chargeable."))
        refusals = [(invoice, _approval_refusal(invoice, by)) for invoice in invoices]
        refusals = [(invoice, reason) for invoice, reason in refusals if reason]
        if len(invoices) == 1 and refusals:
            raise DomainError(refusals[0][1])
        if refusals:
            raise DomainError(
                _("Nothing was approved. %(reasons)s")
                % {
                    "reasons": " ".join(
                        f"{invoice.organisation.name} ({invoice}): {reason}"
                        for invoice, reason in refusals
                    )
                }
            )
        year = timezone.localdate(moment).year
        first = _take_numbers(year, len(invoices))
        sender = sender_details(invoice_sender())
        state = Invoice._meta.get_field("state")
        for offset, invoice in enumerate(invoices):
            # The transition's checks were made above (``_approval_refusal``); the step itself
            # is taken for all in one UPDATE and its history rows in one INSERT.
            state.set_state(invoice, InvoiceState.APPROVED)
            invoice.year, invoice.sequence = year, first + offset
            invoice.number = f"{year}-{first + offset:05d}"
            invoice.approved_at, invoice.approved_by = moment, by
            _fix_document_details(invoice, timezone.localdate(moment), sender)
        Invoice.objects.bulk_update(
            invoices,
            [
                "state",
                "year",
                "sequence",
                "number",
                "approved_at",
                "approved_by",
                *DOCUMENT_DETAIL_FIELDS,
            ],
        )
        log_transitions(
            invoices,
            name="approve",
            source=InvoiceState.DRAFT,
            target=InvoiceState.APPROVED,
            by=by,
            at=moment,
        )
        _list_billed_locations(
            [invoice.pk for invoice in invoices if invoice.kind == InvoiceKind.INVOICE],
            timezone.localdate(moment),
        )
    return invoices


def payment_reference(number: str) -> str:
    """The structured creditor reference (ISO 11649, "RF" and two check digits) made of the
    invoice number's digits: a bank checks it as it is typed, and a statement line carries it
    back for matching the payment."""
    digits = "".join(c for c in number if c.isdigit())
    return stdnum_iso11649.compact("RF" + mod_97_10.calc_check_digits(digits + "RF") + digits)


# What approval fixes on the invoice as a document.
DOCUMENT_DETAIL_FIELDS = ("invoice_date", "due_date", "payment_reference", "issued_parties")


def _fix_document_details(invoice: Invoice, invoice_date: datetime.date, sender: dict) -> None:
    """At approval: the invoice date, the due date after the payment term (an invoice; a credit
    note is paid back, not due), the payment reference, and the sender's and recipient's details
    as they are now, so that the document stays the same when they change."""
    invoice.invoice_date = invoice_date
    if invoice.kind == InvoiceKind.INVOICE:
        invoice.due_date = invoice_date + datetime.timedelta(
            days=settings.INVOICE_PAYMENT_TERM_DAYS
        )
    invoice.payment_reference = payment_reference(invoice.number)
    invoice.issued_parties = {
        "sender": sender,
        "recipient": recipient_details(invoice.organisation),
    }


def invoice_send(*, invoice: Invoice, by, at: datetime.datetime | None = None) -> Invoice:
    """Send an approved invoice or credit note: it becomes final (sent), and once the step has
    committed a task e-mails its PDF and e-invoice to the organisation's invoice address
    (``InvoiceDelivery``). Refused, with nothing changed, while that address or a document
    detail is missing. ``at``: when it was sent, if not now (the demo's history)."""
    _require_finance(by)
    moment = _moment(at)
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=invoice.pk)
        if invoice.state != InvoiceState.APPROVED:
            raise DomainError(_("Only an approved invoice can be sent."))
        if invoice.approved_at and moment < invoice.approved_at:
            raise DomainError(_("An invoice is sent after it was approved."))
        _delivery_record(invoice, by, moment)
        invoice.send()
        invoice.sent_at = moment
        invoice.save()
    return invoice


def invoice_resend(*, invoice: Invoice, by, at: datetime.datetime | None = None) -> Invoice:
    """E-mail a sent invoice or credit note again (lost, or sent to an address since
    corrected): a second ``InvoiceDelivery``, to the invoice address as it is now. The invoice
    itself does not change."""
    _require_finance(by)
    moment = _moment(at)
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=invoice.pk)
        if invoice.state != InvoiceState.SENT:
            raise DomainError(_("Only a sent invoice can be sent again."))
        if invoice.sent_at and moment < invoice.sent_at:
            raise DomainError(_("An invoice is sent again after it was first sent."))
        _delivery_record(invoice, by, moment)
    return invoice


def _delivery_record(invoice: Invoice, by, moment: datetime.datetime) -> InvoiceDelivery:
    """The e-mail recorded, and its task asked for once the transaction commits: a rollback
    sends nothing. The documents go out with claim references, so the access log names the
    patients (as for a download)."""
    organisation = invoice.organisation
    address = organisation.invoice_email
    if not address:
        raise DomainError(
            _(
                "Nothing was sent: %(organisation)s has no e-mail address for invoices. Enter it "
                "with the organisation first."
            )
            % {"organisation": organisation.name}
        )
    sender, recipient = invoice_parties(invoice)
    gaps = invoice_document_gaps(sender, recipient)
    if gaps:
        raise DomainError(_("Nothing was sent; missing: %(gaps)s.") % {"gaps": "; ".join(gaps)})
    delivery = InvoiceDelivery.objects.create(
        invoice=invoice, to=address, sent_by=by, sent_at=moment
    )
    lines = InvoiceLine.objects.filter(invoice=invoice)
    references = patient_references_of(lines)
    access_log_record_many(
        user=by,
        action=AccessAction.EXPORT,
        what=_("%(total)s patients: invoice %(invoice)s e-mailed to %(to)s")
        % {"total": references.count(), "invoice": invoice, "to": address},
        references=references,
    )
    enqueue_on_commit("billing.deliver_invoice", delivery.pk)
    return delivery


def invoice_delivery_run(*, delivery_id: int, send) -> str:
    """The task's work: ``send(delivery)`` e-mails it (raising ``DomainError`` or ``OSError``
    when it cannot), and what became of it is recorded once. The invoice's row is locked while
    it runs, so a second run of the task (acks late, a retry) waits, finds the outcome and sends
    nothing again. Returns the status."""
    with transaction.atomic():
        delivery = (
            InvoiceDelivery.objects.select_related("invoice__organisation", "invoice__corrects")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return ""
        # The delivery table is append-only (the database role may not UPDATE it, so not lock
        # its rows either): the invoice's row is locked instead.
        Invoice.objects.select_for_update(of=("self",)).filter(pk=delivery.invoice_id).first()
        done = InvoiceDeliveryOutcome.objects.filter(delivery=delivery).first()
        if done is not None:
            return done.status
        try:
            send(delivery)
        except DomainError as error:
            status, message = DeliveryStatus.FAILED, error.message
        except OSError as error:  # smtplib's errors, a refused connection
            status, message = DeliveryStatus.FAILED, str(error) or error.__class__.__name__
        else:
            status, message = DeliveryStatus.SENT, ""
        InvoiceDeliveryOutcome.objects.create(
            delivery=delivery, status=status, error=str(message)[:500]
        )
    return status


def invoice_delete_draft(*, invoice: Invoice, by) -> None:
    _require_finance(by)
    with transaction.atomic():
        # Locked, so an approval at the same moment either comes first (and this refuses) or
        # waits for the delete.
        draft = (
            Invoice.objects.select_for_update(of=("self",))
            .order_by("pk")
            .filter(pk=invoice.pk)
            .first()
        )
        if draft is None or draft.state != InvoiceState.DRAFT:
            raise DomainError(_("Only a draft can be deleted; a sent invoice is credited."))
        InvoiceLine.objects.filter(invoice_id=invoice.pk).delete()
        Invoice.objects.filter(pk=invoice.pk).delete()


def invoice_credit(*, invoice: Invoice, by, reason: str) -> Invoice:
    """A sent invoice is never changed: a credit note with the opposite amounts corrects it."""
    _require_finance(by)
    reason = checked_text(
        reason,
        field="reason",
        limit=TextLimit.REASON,
        required_message=_("Give the reason for the credit note."),
    )
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if invoice.kind != InvoiceKind.INVOICE or invoice.state != InvoiceState.SENT:
            raise DomainError(_("Only a sent invoice can be credited."))
        if invoice.credit_notes.exists():
            raise DomainError(_("This invoice has been credited already."))
        credit = Invoice.objects.create(
            organisation_id=invoice.organisation_id,
            period=invoice.period,
            kind=InvoiceKind.CREDIT_NOTE,
            corrects=invoice,
            created_by=by,
            lines_total=-invoice.lines_total,
            administrative_costs=-invoice.administrative_costs,
            total=-invoice.total,
            reason=reason,
        )
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                invoice=credit,
                claim_id=line.claim_id,
                location_id=line.location_id,
                act_id=line.act_id,
                care_on=line.care_on,
                tariff=line.tariff,
                amount=-line.amount,
                is_credit=True,
            )
            for line in invoice.lines.all()
        )
    return credit


# --- Triage filter list ---------------------------------------------------------------------


def _list_billed_locations(invoice_ids: list[int], today: datetime.date) -> int:
    """Put the billed Wlz-with-treatment locations of the invoices on the triage filter list
    (seed 004, 7.2: "without an agreement, no emergency GP care")."""
    if not invoice_ids:
        return 0
    locations = (
        InvoiceLine.objects.filter(
            invoice_id__in=invoice_ids, location__wlz_treatment_admission=True
        )
        .values_list("location_id", flat=True)
        .distinct()
    )
    return triage_filter_list(
        dict.fromkeys(locations, today), reason=TriageFilterReason.BILLED_WITHOUT_CONTRACT
    )
