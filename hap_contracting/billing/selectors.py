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

from django.core.exceptions import FieldDoesNotExist
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
from stdnum import iso11649

from hap_contracting.core.listing import Sorts
from hap_contracting.core.predicates import is_location_manager, is_programme_manager
from hap_contracting.core.scoping import scoped_to_region
from hap_contracting.organisations.models import CareLocation
from hap_contracting.organisations.selectors import locations_at_address

from . import rules as billing_rules
from .constants import OVERDUE, InvoiceKind, InvoiceState, PaymentState
from .models import (
    AddressInvestigation,
    AdministrativeCost,
    BankStatementEntry,
    BankStatementImport,
    Claim,
    ClaimImport,
    ClaimImportError,
    Invoice,
    InvoiceLine,
    Payment,
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
    claims = (
        Claim.objects.filter(**_same_address())
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
    """The claims at the address (claim data: the caller logs the read)."""
    return list(
        Claim.objects.filter(
            postcode=investigation.postcode,
            house_number=investigation.house_number,
            house_number_addition=investigation.house_number_addition,
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
    return (
        _by_payment_state(invoices, filters.payment_state)
        .select_related("organisation", "corrects")
        .annotate(
            line_count=Count("lines"),
            credited=Exists(Invoice.objects.filter(corrects=OuterRef("pk"))),
        )
        .order_by(*INVOICE_SORTS.order_by(filters.sort))
    )


def invoice_for_user(user, pk: int) -> Invoice:
    invoice = (
        invoices_visible_to(user)
        .select_related("organisation", "corrects", "approved_by")
        .filter(pk=pk)
        .first()
    )
    if invoice is None:
        raise Http404
    return invoice


def invoice_actions(invoice: Invoice, user) -> list[tuple[str, str]]:
    """(action, label) of each step this user may take on the invoice now: the transitions its
    state, the user's role and their conditions allow (``Invoice``)."""
    return [
        (transition.custom["action"], transition.custom["label"])
        for transition in invoice.get_available_user_state_transitions(user)
    ]


def invoice_lines(invoice: Invoice) -> QuerySet[InvoiceLine]:
    return (
        InvoiceLine.objects.filter(invoice=invoice)
        .select_related("location", "act")
        .annotate(claim_reference=claim_reference_expression())
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


# --- Payments -------------------------------------------------------------------------------

ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=12, decimal_places=2))
# A credit note lowers what is owed from its approval on (as it frees its claims for billing).
CREDIT_NOTE_COUNTS_FROM = (InvoiceState.APPROVED, InvoiceState.SENT)
# The invoices that can be paid: approved or sent invoices (a draft has no number yet; a credit
# note is not paid).
PAYABLE = Q(kind=InvoiceKind.INVOICE, state__in=(InvoiceState.APPROVED, InvoiceState.SENT))


def _money(expression):
    """An amount computed in SQL, rounded to cents (SQLite computes decimals as floats)."""
    return ExpressionWrapper(
        Round(expression, 2), output_field=DecimalField(max_digits=12, decimal_places=2)
    )


def due_date_field() -> str | None:
    """Hook for the invoice's due date (the invoice document's work adds it): the field's name
    once ``Invoice`` has a ``due_date``, None until then. Without a due date nothing is
    overdue."""
    try:
        Invoice._meta.get_field("due_date")
    except FieldDoesNotExist:
        return None
    return "due_date"


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
    # The state as the user reads it, in the active language.
    queryset = queryset.annotate(
        payment_state_label=Case(
            *(
                When(payment_state=value, then=Value(str(label)))
                for value, label in PaymentState.choices
            ),
            default=Value(""),
            output_field=CharField(),
        )
    )
    due_date = due_date_field()
    if due_date is None:
        overdue = Value(False)
    else:
        overdue = Case(
            When(
                Q(payment_state__in=(PaymentState.OPEN, PaymentState.PARTLY_PAID))
                & Q(**{f"{due_date}__lt": today}),
                then=Value(True),
            ),
            default=Value(False),
        )
    return queryset.annotate(is_overdue=ExpressionWrapper(overdue, output_field=BooleanField()))


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
