"""Reads of billing: administrative costs, imports, investigations and invoices.

Every query starts from what the user may see (finance sees every region; location and
programme managers their own region's posts), and every list runs a fixed number of queries
whatever its length. Nothing here returns a patient reference except ``investigation_claims``,
whose caller writes the access log.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat, LPad, Round
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import iso11649

from hap_contracting.contracts.selectors import contract_covers
from hap_contracting.core.listing import Sorts
from hap_contracting.core.predicates import is_location_manager, is_programme_manager
from hap_contracting.core.scoping import scoped_to_region
from hap_contracting.organisations.models import CareLocation
from hap_contracting.organisations.selectors import locations_at_address

from . import rules as billing_rules
from .constants import (
    CREDIT_NOTE_FINAL_STATES,
    OVERDUE,
    ClaimOutcome,
    InvoiceKind,
    InvoiceState,
    PaymentReminderKind,
    PaymentState,
)
from .models import (
    INVOICE_SENDER_PK,
    AddressInvestigation,
    AdministrativeCost,
    BankStatementEntry,
    BankStatementImport,
    BillableReasonCode,
    Claim,
    ClaimImport,
    ClaimImportError,
    Invoice,
    InvoiceDelivery,
    InvoiceLine,
    InvoiceSender,
    Payment,
    PaymentReminder,
)


def administrative_costs_on(day: datetime.date) -> Decimal:
    """The administrative costs an invoice of the month of ``day`` adds (0 without a period)."""
    cost = AdministrativeCost.objects.valid_on(day).order_by("-valid_from").first()
    return cost.amount if cost else Decimal("0.00")


def claim_reference_expression(field: str = "claim_id"):
    """``Claim.reference`` in SQL ('D-0000042'), so lists and exports need not join the claim
    (and never load its patient reference)."""
    return Concat(
        Value("D-"), LPad(Cast(field, CharField()), 7, Value("0")), output_field=CharField()
    )


# --- Claims imports (finance) ---------------------------------------------------------------


def claim_imports() -> QuerySet[ClaimImport]:
    return ClaimImport.objects.select_related("uploaded_by")


def claim_import_errors(claim_import: ClaimImport) -> QuerySet[ClaimImportError]:
    return ClaimImportError.objects.filter(claim_import=claim_import).order_by("line_number", "pk")


# --- What became of a claim -----------------------------------------------------------------


def billable_reason_code(reason_code=None) -> QuerySet[BillableReasonCode]:
    """The billable reason code a claim (``OuterRef``) carries, if any: compared without case."""
    return BillableReasonCode.objects.filter(
        code__iexact=reason_code if reason_code is not None else OuterRef("reason_code")
    )


def standing_charges(claim=None) -> QuerySet[InvoiceLine]:
    """The charges of a claim (``OuterRef("pk")``) that stand: a charge stands until a credit
    note reversing its invoice is approved (a draft credit note can still be deleted)."""
    reversed_by_credit_note = Invoice.objects.filter(
        corrects=OuterRef("invoice_id"), state__in=CREDIT_NOTE_FINAL_STATES
    )
    return InvoiceLine.objects.filter(
        claim=claim if claim is not None else OuterRef("pk"), is_credit=False
    ).exclude(Exists(reversed_by_credit_note))


def claim_outcome():
    """What became of a claim, in SQL: exactly one ``ClaimOutcome`` per claim, the first that
    applies in the order of ``ClaimOutcome`` (a billed claim stays billed whatever is recorded
    since). ``services.invoices.chargeable_claims`` bills on the same conditions."""
    return Case(
        When(duplicate_of__isnull=False, then=Value(ClaimOutcome.DUPLICATE)),
        When(Exists(standing_charges()), then=Value(ClaimOutcome.BILLED)),
        When(~Exists(billable_reason_code()), then=Value(ClaimOutcome.REASON_NOT_BILLABLE)),
        When(
            Q(location__isnull=True) | Q(location__organisation__isnull=True),
            then=Value(ClaimOutcome.UNDER_INVESTIGATION),
        ),
        When(
            location__wlz_treatment_admission=False,
            then=Value(ClaimOutcome.NO_TREATMENT_ADMISSION),
        ),
        When(
            contract_covers(OuterRef("location_id"), OuterRef("care_on")),
            then=Value(ClaimOutcome.CONTRACTED),
        ),
        default=Value(ClaimOutcome.NOT_BILLED_YET),
        output_field=CharField(),
    )


@dataclass(frozen=True)
class ClaimImportSummary:
    """The import's claims by outcome: ``counts`` has every outcome (0 included), in order;
    ``claims`` the claims themselves, with their outcome and invoice (no patient data)."""

    counts: tuple[tuple[ClaimOutcome, int], ...]
    claims: QuerySet[Claim]

    @property
    def total(self) -> int:
        return sum(count for _outcome, count in self.counts)


def claim_import_summary(claim_import: ClaimImport) -> ClaimImportSummary:
    """One query for the counts; the list is a lazy queryset (one query per page, plus its count)
    that never loads the patient reference. The list is patient-linked: the caller logs it."""
    claims = Claim.objects.filter(claim_import=claim_import).annotate(outcome=claim_outcome())
    counted = dict(
        claims.order_by().values("outcome").annotate(n=Count("pk")).values_list("outcome", "n")
    )
    charge = standing_charges().order_by("pk")
    listed = (
        claims.select_related("post", "act", "location")
        .only(
            "pk",
            "line_number",
            "care_on",
            "reason_code",
            "post__name",
            "act__code",
            "location__name",
        )
        .annotate(
            claim_reference=claim_reference_expression("pk"),
            invoice_id=Subquery(charge.values("invoice_id")[:1]),
            invoice_number=Subquery(charge.values("invoice__number")[:1]),
        )
        .order_by("line_number", "pk")
    )
    return ClaimImportSummary(
        counts=tuple((outcome, counted.get(outcome.value, 0)) for outcome in ClaimOutcome),
        claims=listed,
    )


def claim_patient_references(claim_ids) -> list[str]:
    """For the access log only: the distinct patients of these claims."""
    return list(
        Claim.objects.filter(pk__in=claim_ids)
        .order_by("patient_reference")
        .values_list("patient_reference", flat=True)
        .distinct()
    )


# --- Investigations -------------------------------------------------------------------------


def investigations_visible_to(user) -> QuerySet[AddressInvestigation]:
    """The investigations of the user's region's posts; all for finance and administrators
    without a region. Users who may not investigate see none."""
    queryset = AddressInvestigation.objects.all()
    if not user.is_authenticated or not (
        user.sees_all_regions or is_location_manager.test(user) or is_programme_manager.test(user)
    ):
        return queryset.none()
    return scoped_to_region(queryset, user, "post__region_id")


def _same_address(prefix: str = "") -> dict:
    return {
        f"{prefix}postcode": OuterRef("postcode"),
        f"{prefix}house_number": OuterRef("house_number"),
        f"{prefix}house_number_addition": OuterRef("house_number_addition"),
    }


# The investigation list's sortable columns (``core.listing``): key -> the lookups it orders by.
# Not yet told sorts as the smallest: open ones first by default.
INVESTIGATION_SORTS = Sorts(
    {
        "address": ("postcode", "house_number", "house_number_addition"),
        "post": ("post__name", "opened_on"),
        "opened": ("opened_on",),
        "claims": ("claim_count", "opened_on"),
        "location": ("location__name", "opened_on"),
        "told": ("notified_on", "opened_on"),
    },
    default="told",
)


@dataclass(frozen=True)
class InvestigationFilters:
    open_only: bool = False
    region_id: int | None = None
    opened_from: datetime.date | None = None
    opened_until: datetime.date | None = None
    search: str = ""
    sort: str = ""

    def describe(self) -> str:
        parts = [
            "open" if self.open_only else "",
            f"region={self.region_id}" if self.region_id else "",
            f"from={self.opened_from:%Y-%m-%d}" if self.opened_from else "",
            f"until={self.opened_until:%Y-%m-%d}" if self.opened_until else "",
            f"search={self.search}" if self.search else "",
        ]
        return " ".join(part for part in parts if part) or "all"


def investigation_list(
    user, filters: InvestigationFilters = InvestigationFilters()
) -> QuerySet[AddressInvestigation]:
    """Each with its number of claims, counted in the same query; open ones first (not yet
    told), oldest first, unless ``filters.sort`` (a key of ``INVESTIGATION_SORTS``) says
    otherwise. The page and its export both read this."""
    # A duplicate repeats a claim counted already.
    claims = (
        Claim.objects.filter(**_same_address(), duplicate_of__isnull=True)
        .order_by()
        .values("postcode")
        .annotate(n=Count("pk"))
        .values("n")
    )
    queryset = (
        investigations_visible_to(user)
        .select_related("post", "location__organisation")
        .annotate(claim_count=Coalesce(Subquery(claims), Value(0)))
    )
    if filters.open_only:
        queryset = queryset.filter(notified_on__isnull=True)
    if filters.region_id and user.sees_all_regions:
        queryset = queryset.filter(post__region_id=filters.region_id)
    if filters.opened_from:
        queryset = queryset.filter(opened_on__gte=filters.opened_from)
    if filters.opened_until:
        queryset = queryset.filter(opened_on__lte=filters.opened_until)
    if filters.search:
        term = filters.search
        queryset = queryset.filter(
            Q(postcode__icontains=term)
            | Q(location__name__icontains=term)
            | Q(location__organisation__name__icontains=term)
        )
    return queryset.order_by(*INVESTIGATION_SORTS.order_by(filters.sort))


def investigation_for_user(user, pk: int) -> AddressInvestigation:
    """404 outside the user's region: its existence is not revealed."""
    return get_object_or_404(
        investigations_visible_to(user).select_related(
            "post__region", "location__organisation", "resolved_by"
        ),
        pk=pk,
    )


def investigation_claims(investigation: AddressInvestigation) -> list[Claim]:
    """The claims at the address, without duplicates (claim data: the caller logs the read)."""
    return list(
        Claim.objects.filter(
            postcode=investigation.postcode,
            house_number=investigation.house_number,
            house_number_addition=investigation.house_number_addition,
            duplicate_of__isnull=True,
        )
        .select_related("act", "post")
        .order_by("-care_at", "pk")
    )


def investigation_candidate_locations(
    investigation: AddressInvestigation,
) -> QuerySet[CareLocation]:
    """Registered locations at the investigated address in the post's region."""
    return (
        locations_at_address(
            postcode=investigation.postcode,
            house_number=investigation.house_number,
            addition=investigation.house_number_addition,
        )
        .filter(region_id=investigation.post.region_id)
        .select_related("organisation")
    )


# --- Invoices -------------------------------------------------------------------------------


def invoices_visible_to(user) -> QuerySet[Invoice]:
    """Finance bills for the whole cooperative (seed 004, 7.2: F&C); nobody else sees invoices,
    finance bound to one region neither (``rules.can_bill``)."""
    if not billing_rules.can_bill.test(user):
        return Invoice.objects.none()
    return Invoice.objects.all()


# The invoice list's sortable columns (``core.listing``): key -> the lookups it orders by.
INVOICE_SORTS = Sorts(
    {
        "number": ("number", "period"),
        "kind": ("kind", "-period", "organisation__name"),
        "organisation": ("organisation__name", "-period", "kind"),
        "month": ("period", "organisation__name", "kind"),
        "state": ("state", "-period", "organisation__name"),
        "lines": ("line_count", "-period"),
        "total": ("total", "-period"),
    },
    default="-month",
    model=Invoice,
)


@dataclass(frozen=True)
class InvoiceFilters:
    month: datetime.date | None = None
    state: str = ""
    kind: str = ""
    search: str = ""
    sort: str = ""
    # A ``PaymentState`` or ``OVERDUE`` (``with_payment_state``).
    payment_state: str = ""

    def describe(self) -> str:
        parts = [
            f"month={self.month:%Y-%m}" if self.month else "",
            f"state={self.state}" if self.state else "",
            f"kind={self.kind}" if self.kind else "",
            f"payment={self.payment_state}" if self.payment_state else "",
            f"search={self.search}" if self.search else "",
        ]
        return " ".join(part for part in parts if part) or "all"


def _filtered(queryset: QuerySet[Invoice], filters: InvoiceFilters) -> QuerySet[Invoice]:
    if filters.month:
        queryset = queryset.filter(period=filters.month)
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.search:
        term = filters.search
        queryset = queryset.filter(
            Q(organisation__name__icontains=term)
            | Q(organisation__kvk_number=term)
            | Q(number__icontains=term)
        )
    return queryset


def invoice_list(
    user, filters: InvoiceFilters = InvoiceFilters(), *, today: datetime.date | None = None
) -> QuerySet[Invoice]:
    """Newest month first unless ``filters.sort`` (a key of ``INVOICE_SORTS``) says otherwise,
    each with its payment state on ``today`` (``with_payment_state``). The page and its export
    both read this."""
    invoices = with_payment_state(
        _filtered(invoices_visible_to(user), filters), today=today or timezone.localdate()
    )
    # The lines counted in a subquery, not with a join and GROUP BY: grouped, PostgreSQL
    # computes every invoice's payment subqueries before it can sort and take one page, and
    # the page's count groups them all again; ungrouped it computes them for the page's rows.
    line_count = (
        InvoiceLine.objects.filter(invoice=OuterRef("pk"))
        .order_by()
        .values("invoice")
        .annotate(number=Count("pk"))
        .values("number")
    )
    return (
        _by_payment_state(invoices, filters.payment_state)
        .select_related("organisation", "corrects")
        .annotate(
            line_count=Coalesce(Subquery(line_count), 0),
            credited=Exists(Invoice.objects.filter(corrects=OuterRef("pk"))),
        )
        .order_by(*INVOICE_SORTS.order_by(filters.sort))
    )


def invoice_for_user(user, pk: int) -> Invoice:
    invoice = (
        invoices_visible_to(user)
        .select_related("organisation", "corrects", "approved_by", "created_by")
        .filter(pk=pk)
        .first()
    )
    if invoice is None:
        raise Http404
    return invoice


def invoice_drafts_to_approve(user) -> QuerySet[Invoice]:
    """The drafts the bulk approval chooses from (the service checks each: four eyes)."""
    return invoices_visible_to(user).filter(state=InvoiceState.DRAFT).select_related("organisation")


def not_made_by(user) -> Q:
    """``rules.can_approve_invoice``'s four eyes as a filter, for counts ("drafts to approve"):
    invoices another user made, or whose maker is not known."""
    return Q(created_by__isnull=True) | ~Q(created_by=user)


def may_approve(invoice: Invoice, user) -> bool:
    """Whether the list offers the invoice for approval: a draft, and the four-eyes rule
    (``rules.can_approve_invoice``, which the approval service enforces) lets this user. No
    query."""
    return invoice.state == InvoiceState.DRAFT and billing_rules.can_approve_invoice.test(
        user, invoice
    )


def invoice_actions(invoice: Invoice, user) -> list[tuple[str, str]]:
    """(action, label) of each step this user may take on the invoice now: the transitions its
    state, the user's role and their conditions allow (``Invoice``)."""
    return [
        (transition.custom["action"], transition.custom["label"])
        for transition in invoice.get_available_user_state_transitions(user)
    ]


def invoice_deliveries(invoice: Invoice) -> QuerySet[InvoiceDelivery]:
    """Every e-mail of the invoice, oldest first, with who sent it and what became of it."""
    return (
        InvoiceDelivery.objects.filter(invoice=invoice)
        .select_related("sent_by", "outcome")
        .order_by("sent_at", "pk")
    )


def invoice_lines(invoice: Invoice) -> QuerySet[InvoiceLine]:
    return (
        InvoiceLine.objects.filter(invoice=invoice)
        .select_related("location", "act")
        .annotate(
            claim_reference=claim_reference_expression(),
            twice_tariff=ExpressionWrapper(
                F("tariff") * Value(2), output_field=DecimalField(max_digits=10, decimal_places=2)
            ),
        )
        .order_by("care_on", "pk")
    )


def patient_references_of(lines: QuerySet[InvoiceLine]) -> QuerySet:
    """For the access log only: the distinct patients whose claims these lines are."""
    return (
        Claim.objects.filter(pk__in=lines.values("claim_id"))
        .values_list("patient_reference", flat=True)
        .distinct()
    )


def invoice_patient_references(lines: QuerySet[InvoiceLine]) -> list[str]:
    return list(patient_references_of(lines).order_by("patient_reference"))


def export_lines(user, filters: InvoiceFilters = InvoiceFilters()) -> QuerySet[InvoiceLine]:
    """The invoice lines of the invoices the user may see and filtered on, with every export
    column annotated (no patient reference): one query, streamed by the CSV export."""
    invoices = _filtered(invoices_visible_to(user), filters)
    if filters.payment_state:
        invoices = _by_payment_state(
            with_payment_state(invoices, today=timezone.localdate()), filters.payment_state
        ).values("pk")
    return (
        InvoiceLine.objects.filter(invoice__in=invoices)
        .annotate(claim_reference=claim_reference_expression())
        .select_related("invoice__organisation", "location", "act")
        .order_by("invoice__period", "invoice__organisation__name", "invoice_id", "care_on", "pk")
    )


# --- The invoice as a document ----------------------------------------------------------------


def invoice_sender() -> InvoiceSender | None:
    """The sender's details, or None while an administrator has not entered them."""
    return InvoiceSender.objects.filter(pk=INVOICE_SENDER_PK).first()


def sender_details(sender: InvoiceSender | None) -> dict:
    """What the invoices show of the sender, as plain values (kept on an invoice at approval).
    The postal address is the visiting address unless another is given."""
    if sender is None:
        return {}
    postal = bool(sender.postal_address)
    return {
        "legal_name": sender.legal_name,
        "visiting_address": sender.visiting_address,
        "visiting_postcode": sender.visiting_postcode,
        "visiting_city": sender.visiting_city,
        "postal_address": sender.postal_address if postal else sender.visiting_address,
        "postal_postcode": sender.postal_postcode if postal else sender.visiting_postcode,
        "postal_city": sender.postal_city if postal else sender.visiting_city,
        "kvk_number": sender.kvk_number,
        "vat_number": sender.vat_number,
        "vat_exemption_text": sender.vat_exemption_text,
        "iban": sender.iban,
        "bic": sender.bic,
        "contact_name": sender.contact_name,
        "contact_email": sender.contact_email,
        "contact_phone": sender.contact_phone,
        "logo": sender.logo.name if sender.logo else "",
    }


def recipient_details(organisation) -> dict:
    """What the invoices show of the recipient (kept on an invoice at approval)."""
    return {
        "name": organisation.name,
        "kvk_number": organisation.kvk_number,
        "address": organisation.invoice_address,
        "postcode": organisation.invoice_postcode,
        "city": organisation.invoice_city,
        "attention": organisation.invoice_attention,
        "reference": organisation.invoice_reference,
        "email": organisation.invoice_email,
    }


def invoice_parties(invoice: Invoice) -> tuple[dict, dict]:
    """(sender, recipient) of an invoice: as they were at approval, or today's for a draft."""
    kept = invoice.issued_parties or {}
    if kept.get("sender") and kept.get("recipient"):
        return kept["sender"], kept["recipient"]
    return sender_details(invoice_sender()), recipient_details(invoice.organisation)


def invoice_document_gaps(sender: dict, recipient: dict) -> list[str]:
    """What is missing before the invoice can be sent as a document and an e-invoice."""
    gaps = []
    if not sender:
        gaps.append(str(_("the sender's details (an administrator enters them in the admin)")))
    if not (recipient.get("address") and recipient.get("postcode") and recipient.get("city")):
        gaps.append(str(_("the organisation's invoice address (under Care organisations)")))
    return gaps


# --- Payments -------------------------------------------------------------------------------

ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=12, decimal_places=2))
# A credit note lowers what is owed from its approval on (as it frees its claims for billing).
CREDIT_NOTE_COUNTS_FROM = (InvoiceState.APPROVED, InvoiceState.SENT)
# The invoices that can be paid: approved or sent invoices (a draft has no number yet; a credit
# note is not paid).
PAYABLE = Q(kind=InvoiceKind.INVOICE, state__in=(InvoiceState.APPROVED, InvoiceState.SENT))


def _money(expression):
    """An amount computed in SQL, in cents. Rounded on SQLite only, which computes decimals as
    floats: PostgreSQL's numeric sums and differences of amounts in cents are exact, and its
    ROUND cast and copied the expression it wrapped while compiling. The payment state repeats
    its amounts a dozen times; the rounding made a fifth of its query's time, compiled and
    run."""
    if connection.vendor == "sqlite":
        expression = Round(expression, 2)
    return ExpressionWrapper(expression, output_field=DecimalField(max_digits=12, decimal_places=2))


def with_payment_state(queryset: QuerySet[Invoice], *, today: datetime.date) -> QuerySet[Invoice]:
    """Each invoice with ``amount_paid`` (its payments, reversals included), ``amount_credited``
    (its approved or sent credit notes, negative), ``amount_owed`` (total plus credited),
    ``outstanding`` (owed minus paid), ``payment_state`` (a ``PaymentState``, empty for drafts
    and credit notes) and ``is_overdue`` (open or partly paid after the due date; never without
    a due date): all in the same query, however many invoices.

    The state: more paid than owed is *paid too much* (also a credited invoice that was paid);
    nothing owed any more because of a credit note is *credited*; paid exactly is *paid*; some
    paid is *partly paid*; else *open*."""
    paid = (
        Payment.objects.filter(invoice=OuterRef("pk"))
        .order_by()
        .values("invoice")
        .annotate(sum=Sum("amount"))
        .values("sum")
    )
    credited = (
        Invoice.objects.filter(corrects=OuterRef("pk"), state__in=CREDIT_NOTE_COUNTS_FROM)
        .order_by()
        .values("corrects")
        .annotate(sum=Sum("total"))
        .values("sum")
    )
    queryset = queryset.annotate(
        amount_paid=_money(Coalesce(Subquery(paid), ZERO)),
        amount_credited=_money(Coalesce(Subquery(credited), ZERO)),
    ).annotate(amount_owed=_money(F("total") + F("amount_credited")))
    queryset = queryset.annotate(
        outstanding=_money(F("amount_owed") - F("amount_paid")),
        payment_state=Case(
            When(~PAYABLE, then=Value("")),
            When(amount_paid__gt=F("amount_owed"), then=Value(PaymentState.OVERPAID)),
            When(amount_owed__lte=0, then=Value(PaymentState.CREDITED)),
            When(amount_paid=F("amount_owed"), then=Value(PaymentState.PAID)),
            When(amount_paid__gt=0, then=Value(PaymentState.PARTLY_PAID)),
            default=Value(PaymentState.OPEN),
            output_field=CharField(),
        ),
    )
    # Open or partly paid after the due date (an invoice without one, approved before due
    # dates existed, is never overdue). Written on the amounts, not on ``payment_state``: Django
    # repeats a referenced annotation's whole expression, and the state's subqueries repeated
    # in every condition made PostgreSQL take seconds for a handful of invoices.
    overdue = Case(
        When(
            PAYABLE
            & Q(amount_owed__gt=0)
            & Q(amount_paid__lt=F("amount_owed"))
            & Q(due_date__lt=today),
            then=Value(True),
        ),
        default=Value(False),
    )
    # The day the daily job listed it for collection (``services.payment_reminders``), or None.
    listed = PaymentReminder.objects.filter(
        invoice=OuterRef("pk"), kind=PaymentReminderKind.COLLECTION
    ).values("due_on")[:1]
    return queryset.annotate(
        is_overdue=ExpressionWrapper(overdue, output_field=BooleanField()),
        collection_listed_on=Subquery(listed),
    )


def _by_payment_state(queryset: QuerySet[Invoice], payment_state: str) -> QuerySet[Invoice]:
    """``queryset`` (with ``with_payment_state``) in one payment state, or overdue."""
    if not payment_state:
        return queryset
    if payment_state == OVERDUE:
        return queryset.filter(is_overdue=True)
    return queryset.filter(payment_state=payment_state)


def invoice_payment_state(invoice: Invoice, *, today: datetime.date | None = None) -> Invoice:
    """The invoice again, with its payment state (``with_payment_state``): one query."""
    return with_payment_state(
        Invoice.objects.filter(pk=invoice.pk), today=today or timezone.localdate()
    ).get()


def invoice_payments(invoice: Invoice) -> list[Payment]:
    """The invoice's payments in the order they were paid, each with who recorded it and its
    reversal, if any: one query."""
    return list(
        Payment.objects.filter(invoice=invoice)
        .select_related("recorded_by", "reverses", "reversal")
        .order_by("paid_on", "recorded_at", "pk")
    )


# An invoice number in a bank description: 2026-00042, also written 2026 00042, 2026/00042 or
# 202600042, not inside a longer number.
INVOICE_NUMBER_IN_TEXT = re.compile(r"(?<!\d)(20\d{2})[\s./-]?(\d{5})(?!\d)")
# A structured creditor reference (ISO 11649) of digits, as typed or printed in groups:
# RF18202600042, RF18 2026 0004 2.
CREDITOR_REFERENCE_IN_TEXT = re.compile(r"RF\d{2}(?: ?\d){1,21}", re.IGNORECASE)
INVOICE_NUMBER_DIGITS = re.compile(r"^(20\d{2})(\d{5})$")


def payment_reference_candidates(text: str) -> set[str]:
    """The invoice numbers that ``text`` (a bank description or structured reference) may name:
    an invoice number as people write it, or a valid creditor reference (ISO 11649) whose digits
    are an invoice number's (the payment reference made at approval is one of those)."""
    text = text or ""
    numbers = {f"{year}-{number}" for year, number in INVOICE_NUMBER_IN_TEXT.findall(text)}
    for found in CREDITOR_REFERENCE_IN_TEXT.findall(text):
        reference = iso11649.compact(found)
        if iso11649.is_valid(reference) and (digits := INVOICE_NUMBER_DIGITS.match(reference[4:])):
            numbers.add(f"{digits[1]}-{digits[2]}")
    return numbers


def invoices_for_payment_references(texts) -> dict[str, Invoice | None]:
    """``invoice_for_payment_reference`` for many texts at once, in one query."""
    candidates = {text: payment_reference_candidates(text) for text in texts}
    numbers = set().union(*candidates.values()) if candidates else set()
    found = (
        {
            invoice.number: invoice
            for invoice in Invoice.objects.filter(kind=InvoiceKind.INVOICE, number__in=numbers)
        }
        if numbers
        else {}
    )
    result = {}
    for text, names in candidates.items():
        invoices = [found[name] for name in sorted(names) if name in found]
        result[text] = invoices[0] if len(invoices) == 1 else None
    return result


def invoice_for_payment_reference(text: str) -> Invoice | None:
    """The invoice whose payment reference ``text`` holds; None when it names none, or more
    than one (those are matched by hand). The one place that knows what a payment reference
    is: today the invoice number (``payment_reference_candidates``)."""
    return invoices_for_payment_references([text])[text]


def bank_imports() -> QuerySet[BankStatementImport]:
    return BankStatementImport.objects.select_related("uploaded_by").order_by("-uploaded_at", "-pk")


def bank_import_for_user(user, pk: int) -> BankStatementImport:
    if not billing_rules.can_bill.test(user):
        raise Http404
    return get_object_or_404(bank_imports(), pk=pk)


def standing_payments() -> QuerySet[Payment]:
    """Payments that count: not a reversal, and not reversed."""
    return Payment.objects.filter(reverses__isnull=True, reversal__isnull=True)


def bank_import_entries(statement_import: BankStatementImport) -> QuerySet[BankStatementEntry]:
    """The import's entries, each with the invoice its standing payment went to (empty:
    unmatched), in one query."""
    payment = standing_payments().filter(bank_entry=OuterRef("pk")).order_by("pk")
    return (
        BankStatementEntry.objects.filter(statement_import=statement_import)
        .annotate(
            invoice_id=Subquery(payment.values("invoice_id")[:1]),
            invoice_number=Subquery(payment.values("invoice__number")[:1]),
        )
        .order_by("booked_on", "line_number", "pk")
    )


def invoices_open_for_payment(*, today: datetime.date | None = None) -> QuerySet[Invoice]:
    """Approved and sent invoices with something still to pay, for matching an entry by hand."""
    return (
        with_payment_state(
            Invoice.objects.filter(PAYABLE).select_related("organisation"),
            today=today or timezone.localdate(),
        )
        .filter(payment_state__in=(PaymentState.OPEN, PaymentState.PARTLY_PAID))
        .order_by("number")
    )
