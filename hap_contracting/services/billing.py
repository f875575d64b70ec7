"""Investigation, invoices and the triage filter list (seed 004, 7.2 point 2).

Charge rule: a claim at a location with a Wlz admission with treatment and **no active ANW
contract on the date of care** is charged **2 × the act's insurer tariff valid on that date**;
the administrative costs valid on the invoice's month are added once per invoice. Amounts are
``Decimal``, rounded half up to cents. GP care is exempt from VAT (art. 11 lid 1 onderdeel g Wet
OB 1968), so the invoices carry no VAT and say why.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import rules as procedure_rules
from ..constants import (
    InvoiceKind,
    InvoiceState,
    NotificationChannel,
    TriageFilterReason,
    TriageVerdict,
)
from ..errors import DomainError
from ..models import (
    AddressInvestigation,
    AdministrativeCost,
    CareLocation,
    CareOrganisation,
    Claim,
    Contract,
    InsurerTariff,
    Invoice,
    InvoiceLine,
    InvoiceNumberSequence,
    TriageFilterEntry,
    User,
)
from ..validators import normalise_postcode
from .contracts import (
    WITH_TREATMENT_RATE_FACTOR,
    first_overlapping_period,
    money,
    period_check,
)

VAT_EXEMPTION = gettext_lazy(
    "Exempt from VAT: medical care by a general practitioner (art. 11, lid 1, onderdeel g, "
    "Wet op de omzetbelasting 1968)."
)
# From approval on a credit note cannot be deleted: the charges it reverses may be billed again.
CREDIT_NOTE_FINAL_STATES = (InvoiceState.APPROVED, InvoiceState.SENT)


def _require_finance(user: User) -> None:
    if not procedure_rules.can_bill.test(user):
        raise DomainError(_("Only finance does this."))


def administrative_costs_on(day: datetime.date) -> Decimal:
    cost = (
        AdministrativeCost.objects.filter(valid_from__lte=day)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        .order_by("-valid_from")
        .first()
    )
    return cost.amount if cost else Decimal("0.00")


def administrative_cost_save(
    *,
    amount: Decimal,
    valid_from: datetime.date,
    valid_until: datetime.date | None,
    cost: AdministrativeCost | None = None,
    note: str = "",
) -> AdministrativeCost:
    """Create or change a period of administrative costs; periods may not overlap, so every
    invoice month has one amount."""
    if amount is None or amount < 0:
        raise DomainError(_("The administrative costs cannot be negative."), field="amount")
    period_check(valid_from, valid_until)
    with transaction.atomic():
        # Locking the periods there are makes a second person saving at the same moment wait,
        # and then see this period in the check below.
        list(AdministrativeCost.objects.select_for_update().values_list("pk", flat=True))
        clash = first_overlapping_period(
            AdministrativeCost.objects.all(), valid_from, valid_until, own=cost
        )
        if clash is not None:
            raise DomainError(
                _("This period overlaps the administrative costs valid from %(start)s.")
                % {"start": clash.valid_from.strftime("%d-%m-%Y")},
                field="valid_from",
            )
        cost = cost or AdministrativeCost()
        cost.amount = money(amount)
        cost.valid_from = valid_from
        cost.valid_until = valid_until
        cost.note = (note or "").strip()[:200]
        cost.save()
    return cost


# --- Investigation --------------------------------------------------------------------------


def investigation_record_location(
    *,
    investigation: AddressInvestigation,
    by: User,
    location: CareLocation,
    organisation: CareOrganisation | None = None,
) -> AddressInvestigation:
    """The location manager (or programme manager) records which location this address is and
    which organisation runs it; the address's claims are matched to it."""
    if not procedure_rules.can_investigate.test(by, investigation.post):
        raise DomainError(_("Only the location manager of this post's region investigates."))
    if (location.postcode, location.house_number) != (
        investigation.postcode,
        investigation.house_number,
    ) or location.house_number_addition.upper() != investigation.house_number_addition:
        raise DomainError(_("This location has another address."), field="location")
    with transaction.atomic():
        if organisation is not None and location.organisation_id != organisation.pk:
            if location.organisation_id is not None:
                raise DomainError(
                    _("This location belongs to %(name)s already.")
                    % {"name": location.organisation.name},
                    field="organisation",
                )
            CareLocation.objects.filter(pk=location.pk).update(organisation=organisation)
            location.organisation = organisation
        if location.organisation_id is None:
            raise DomainError(
                _("Record which organisation runs this location."), field="organisation"
            )
        AddressInvestigation.objects.filter(pk=investigation.pk).update(
            location=location, resolved_at=timezone.now(), resolved_by=by
        )
        Claim.objects.filter(
            postcode=investigation.postcode,
            house_number=investigation.house_number,
            house_number_addition=investigation.house_number_addition,
        ).update(location=location)
    investigation.refresh_from_db()
    return investigation


def investigation_record_notification(
    *,
    investigation: AddressInvestigation,
    by: User,
    notified_on: datetime.date,
    notified_how: str,
    notes: str = "",
) -> AddressInvestigation:
    """When and how the organisation was told that this care will no longer be given."""
    if not procedure_rules.can_investigate.test(by, investigation.post):
        raise DomainError(_("Only the location manager of this post's region investigates."))
    if investigation.location_id is None:
        raise DomainError(_("Record the location and its organisation first."))
    if notified_how not in NotificationChannel.values:
        raise DomainError(_("Choose how the organisation was told."), field="notified_how")
    if notified_on > timezone.localdate():
        raise DomainError(_("This date lies in the future."), field="notified_on")
    AddressInvestigation.objects.filter(pk=investigation.pk).update(
        notified_on=notified_on, notified_how=notified_how, notes=notes.strip()
    )
    investigation.refresh_from_db()
    return investigation


# --- Invoices -------------------------------------------------------------------------------


def chargeable_claims(period_start: datetime.date, period_end: datetime.date):
    """Claims of the period that the charge rule bills, annotated with the tariff on the date of
    care; claims without a tariff that day are left out (and reported by the caller)."""
    contracted = Contract.objects.filter(
        Q(location=OuterRef("location_id")) | Q(other_locations=OuterRef("location_id")),
        start_date__lte=OuterRef("care_on"),
        end_date__gte=OuterRef("care_on"),
    ).exclude(terminated_on__lte=OuterRef("care_on"))
    tariff = (
        InsurerTariff.objects.filter(act=OuterRef("act_id"), valid_from__lte=OuterRef("care_on"))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=OuterRef("care_on")))
        .values("amount")[:1]
    )
    charged = InvoiceLine.objects.filter(claim=OuterRef("pk"), is_credit=False)
    # A charge stands until a credit note reversing its invoice is approved; a draft credit note
    # can still be deleted, so its claims are not billable again yet.
    reversed_by_credit_note = Invoice.objects.filter(
        corrects=OuterRef("invoice_id"), state__in=CREDIT_NOTE_FINAL_STATES
    )
    charges_before = charged.values("claim").annotate(count=Count("pk")).values("count")
    return (
        Claim.objects.filter(
            care_on__gte=period_start,
            care_on__lte=period_end,
            location__wlz_treatment_admission=True,
            location__organisation__isnull=False,
        )
        .exclude(Exists(contracted))
        .exclude(Exists(charged.exclude(Exists(reversed_by_credit_note))))
        .annotate(
            tariff=Subquery(tariff),
            billing_round=Coalesce(Subquery(charges_before), Value(0)),
        )
    )


def _month(period: datetime.date) -> tuple[datetime.date, datetime.date]:
    start = period.replace(day=1)
    following = (start + datetime.timedelta(days=32)).replace(day=1)
    return start, following - datetime.timedelta(days=1)


def invoices_generate(*, by: User, period: datetime.date) -> dict:
    """Draft invoices per organisation for the month of ``period``. Run again, it rebuilds the
    month's drafts from today's data and adds claims not billed yet; approved and sent invoices
    stay as they are. Returns counts for the page."""
    _require_finance(by)
    start, end = _month(period)
    if end >= timezone.localdate():
        raise DomainError(_("Only a month that has ended can be billed."), field="period")
    try:
        return _invoices_generate(start, end)
    except IntegrityError as error:
        # Someone generated the same month at the same moment; nothing was billed twice.
        raise DomainError(
            _("Invoices for this month are being made by someone else right now; try again.")
        ) from error


def _invoices_generate(start: datetime.date, end: datetime.date) -> dict:
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
        # The invoice that still stands per organisation (a credited one is history), locked:
        # one made by a concurrent run, or approved meanwhile, is seen as it is now.
        standing = {
            invoice.organisation_id: invoice
            for invoice in months_invoices.select_for_update(of=("self",)).exclude(
                Exists(
                    Invoice.objects.filter(
                        corrects=OuterRef("pk"), state__in=CREDIT_NOTE_FINAL_STATES
                    )
                )
            )
        }
        # An invoice with a number is final: claims that arrive after its approval are counted
        # for finance, never added to it.
        closed = {pk for pk, invoice in standing.items() if invoice.state != InvoiceState.DRAFT}
        in_closed = sum(1 for row in rows if row[2] in closed)
        rows = [row for row in rows if row[2] not in closed]
        organisations = {row[2] for row in rows}
        # Where no invoice stands, the new one bills the month's next round.
        credited_before = dict(
            months_invoices.filter(organisation_id__in=organisations)
            .order_by()  # an ordering would join the GROUP BY and count each invoice alone
            .values("organisation_id")
            .annotate(count=Count("pk"))
            .values_list("organisation_id", "count")
        )
        administrative = administrative_costs_on(start)
        new = [
            Invoice(
                organisation_id=organisation_id,
                period=start,
                administrative_costs=administrative,
                reason=str(VAT_EXEMPTION),
                billing_round=credited_before.get(organisation_id, 0),
            )
            for organisation_id in sorted(organisations)
            if organisation_id not in standing
        ]
        Invoice.objects.bulk_create(new)
        invoices = {
            **{org: invoice for org, invoice in standing.items() if org in organisations},
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
                amount=money(tariff * WITH_TREATMENT_RATE_FACTOR),
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
        Invoice.objects.filter(pk__in=billed).update(administrative_costs=administrative)
        _recompute_totals(billed)
    on_drafts_now = {row[0] for row in rows}
    return {
        "invoices": len(organisations),
        "lines": len(on_drafts_now - on_drafts_before),
        "lines_removed": len(on_drafts_before - on_drafts_now),
        "drafts_removed": len(emptied),
        "claims_without_tariff": without_tariff,
        "claims_after_approval": in_closed,
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


def _next_number(year: int) -> tuple[int, str]:
    """The next gapless number of ``year``: the year's row is locked until the approval
    commits, so a second approver waits and takes the following number."""
    InvoiceNumberSequence.objects.get_or_create(year=year)
    sequence = InvoiceNumberSequence.objects.select_for_update().get(year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return sequence.last_number, f"{year}-{sequence.last_number:05d}"


def invoice_approve(*, invoice: Invoice, by: User) -> Invoice:
    """Finance approves a draft: it gets its number, and the locations billed go on the triage
    filter list (seed 004, 7.2: "without an agreement, no emergency GP care")."""
    _require_finance(by)
    with transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update(of=("self",))
            .order_by("pk")
            .filter(pk=invoice.pk)
            .first()
        )
        if invoice is None:
            # Generating the month again removed the draft: none of its claims was chargeable.
            raise DomainError(_("This draft no longer exists; its claims are not chargeable."))
        if invoice.state != InvoiceState.DRAFT:
            raise DomainError(_("Only a draft invoice can be approved."))
        if not invoice.lines.exists():
            raise DomainError(_("This invoice has no lines."))
        year = timezone.localdate().year
        sequence, number = _next_number(year)
        invoice.approve()
        invoice.year, invoice.sequence, invoice.number = year, sequence, number
        invoice.approved_at, invoice.approved_by = timezone.now(), by
        invoice.save()
        if invoice.kind == InvoiceKind.INVOICE:
            triage_filter_list_billed(invoice)
    return invoice


def invoice_send(*, invoice: Invoice, by: User) -> Invoice:
    _require_finance(by)
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if invoice.state != InvoiceState.APPROVED:
            raise DomainError(_("Only an approved invoice can be sent."))
        invoice.send()
        invoice.sent_at = timezone.now()
        invoice.save()
    return invoice


def invoice_delete_draft(*, invoice: Invoice, by: User) -> None:
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


def invoice_credit(*, invoice: Invoice, by: User, reason: str) -> Invoice:
    """A sent invoice is never changed: a credit note with the opposite amounts corrects it."""
    _require_finance(by)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for the credit note."), field="reason")
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


def triage_filter_list_billed(invoice: Invoice) -> int:
    """Put the billed Wlz-with-treatment locations of ``invoice`` on the list (once)."""
    locations = (
        InvoiceLine.objects.filter(invoice=invoice, location__wlz_treatment_admission=True)
        .values_list("location_id", flat=True)
        .distinct()
    )
    today = timezone.localdate()
    created = TriageFilterEntry.objects.bulk_create(
        [
            TriageFilterEntry(
                location_id=location_id,
                reason=TriageFilterReason.BILLED_WITHOUT_CONTRACT,
                listed_on=today,
            )
            for location_id in locations
        ],
        ignore_conflicts=True,
    )
    return len(created)


def triage_verdict(*, postcode: str, house_number: int, addition: str = "") -> str:
    """What triage does for a call from this address (seed 004, 7.2 and section 7).

    Only a Wlz-with-treatment location without a contract that is on the list is refused
    (referred to the institution's own physician). A location without treatment admission is
    never refused: its residents are registered (ION) patients of the cooperative's GPs.
    """
    try:
        postcode = normalise_postcode(postcode)
    except Exception:  # noqa: BLE001  (any bad postcode is simply not a known address)
        return TriageVerdict.UNKNOWN
    today = timezone.localdate()
    location = (
        CareLocation.objects.filter(
            postcode=postcode,
            house_number=house_number,
            house_number_addition__iexact=(addition or "").strip(),
        )
        .annotate(
            # Two EXISTS rather than one with OR: each can use its own index.
            contracted=Exists(Contract.objects.active_on(today).filter(location=OuterRef("pk")))
            | Exists(Contract.objects.active_on(today).filter(other_locations=OuterRef("pk"))),
            listed=Exists(
                TriageFilterEntry.objects.filter(location=OuterRef("pk"), delisted_on__isnull=True)
            ),
        )
        .values("wlz_treatment_admission", "contracted", "listed")
        .first()
    )
    if location is None:
        return TriageVerdict.UNKNOWN
    if location["contracted"]:
        return TriageVerdict.CONTRACTED
    if location["wlz_treatment_admission"] and location["listed"]:
        return TriageVerdict.NO_CARE_WITHOUT_AGREEMENT
    return TriageVerdict.UNKNOWN
