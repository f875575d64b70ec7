"""Reads of billing: imports, investigations, invoices and the triage filter list.

Every query starts from what the user may see (finance sees every region; location and
programme managers their own region's posts), and every list runs a fixed number of queries
whatever its length. Nothing here returns a patient reference except ``investigation_claims``,
whose caller writes the access log.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Concat, LPad
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .. import rules as procedure_rules
from ..models import (
    AddressInvestigation,
    CareLocation,
    Claim,
    ClaimImport,
    Contract,
    Invoice,
    InvoiceLine,
    TriageFilterEntry,
    User,
)


def claim_reference_expression(field: str = "claim_id"):
    """``Claim.reference`` in SQL ('D-0000042'), so lists and exports need not join the claim
    (and never load its patient reference)."""
    return Concat(
        Value("D-"), LPad(Cast(field, CharField()), 7, Value("0")), output_field=CharField()
    )


# --- Claims imports (finance) ---------------------------------------------------------------


def claim_imports() -> QuerySet[ClaimImport]:
    return ClaimImport.objects.select_related("uploaded_by")


# --- Investigations -------------------------------------------------------------------------


def investigations_visible_to(user: User) -> QuerySet[AddressInvestigation]:
    """The investigations of the user's region's posts; all for finance and administrators
    without a region. Users who may not investigate see none."""
    queryset = AddressInvestigation.objects.all()
    if not user.is_authenticated:
        return queryset.none()
    if not (
        procedure_rules.is_location_manager.test(user)
        or procedure_rules.is_programme_manager.test(user)
        or user.sees_all_regions
    ):
        return queryset.none()
    if user.sees_all_regions:
        return queryset
    return queryset.filter(post__region_id=user.region_id)


def _same_address(prefix: str = "") -> dict:
    return {
        f"{prefix}postcode": OuterRef("postcode"),
        f"{prefix}house_number": OuterRef("house_number"),
        f"{prefix}house_number_addition": OuterRef("house_number_addition"),
    }


def investigation_list(user: User, *, open_only: bool = False) -> QuerySet[AddressInvestigation]:
    """Open ones first (not yet told), oldest first; each with its number of claims, counted
    in the same query."""
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
        .order_by(F("notified_on").asc(nulls_first=True), "opened_on", "pk")
    )
    if open_only:
        queryset = queryset.filter(notified_on__isnull=True)
    return queryset


def investigation_for_user(user: User, pk: int) -> AddressInvestigation:
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
    return CareLocation.objects.filter(
        region_id=investigation.post.region_id,
        postcode=investigation.postcode,
        house_number=investigation.house_number,
        house_number_addition__iexact=investigation.house_number_addition,
    ).select_related("organisation")


# --- Invoices -------------------------------------------------------------------------------


def invoices_visible_to(user: User) -> QuerySet[Invoice]:
    """Finance bills for the whole cooperative (seed 004, 7.2: F&C); nobody else sees invoices,
    finance bound to one region neither (``rules.can_bill``)."""
    if not procedure_rules.can_bill.test(user):
        return Invoice.objects.none()
    return Invoice.objects.all()


@dataclass(frozen=True)
class InvoiceFilters:
    month: datetime.date | None = None
    state: str = ""
    kind: str = ""
    search: str = ""

    def describe(self) -> str:
        parts = [
            f"month={self.month:%Y-%m}" if self.month else "",
            f"state={self.state}" if self.state else "",
            f"kind={self.kind}" if self.kind else "",
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


def invoice_list(user: User, filters: InvoiceFilters = InvoiceFilters()) -> QuerySet[Invoice]:
    return (
        _filtered(invoices_visible_to(user), filters)
        .select_related("organisation", "corrects")
        .annotate(
            line_count=Count("lines"),
            credited=Exists(Invoice.objects.filter(corrects=OuterRef("pk"))),
        )
        .order_by("-period", "organisation__name", "kind", "pk")
    )


def invoice_for_user(user: User, pk: int) -> Invoice:
    invoice = (
        invoices_visible_to(user)
        .select_related("organisation", "corrects", "approved_by")
        .filter(pk=pk)
        .first()
    )
    if invoice is None:
        raise Http404
    return invoice


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


def export_lines(user: User, filters: InvoiceFilters = InvoiceFilters()) -> QuerySet[InvoiceLine]:
    """The invoice lines of the invoices the user may see and filtered on, with every export
    column annotated (no patient reference): one query, streamed by the CSV export."""
    invoices = _filtered(invoices_visible_to(user), filters)
    return (
        InvoiceLine.objects.filter(invoice__in=invoices)
        .annotate(claim_reference=claim_reference_expression())
        .select_related("invoice__organisation", "location", "act")
        .order_by("invoice__period", "invoice__organisation__name", "invoice_id", "care_on", "pk")
    )


# --- Triage filter list ---------------------------------------------------------------------


def triage_entries_visible_to(user: User) -> QuerySet[TriageFilterEntry]:
    if not procedure_rules.can_download_triage_list.test(user):
        return TriageFilterEntry.objects.none()
    queryset = TriageFilterEntry.objects.select_related("location")
    if user.sees_all_regions:
        return queryset
    return queryset.filter(location__region_id=user.region_id)


def triage_open_entries(user: User) -> QuerySet[TriageFilterEntry]:
    """The addresses triage refers elsewhere: the same rule as ``triage_verdict`` — listed,
    Wlz with treatment, and no contract active today."""
    today = timezone.localdate()
    active = Contract.objects.active_on(today)
    return (
        triage_entries_visible_to(user)
        .filter(delisted_on__isnull=True, location__wlz_treatment_admission=True)
        .exclude(Exists(active.filter(location=OuterRef("location_id"))))
        .exclude(Exists(active.filter(other_locations=OuterRef("location_id"))))
        .order_by(
            "location__postcode", "location__house_number", "location__house_number_addition", "pk"
        )
    )
