"""Reads of the contract register. Every query starts from the user's region scope
(``contracts_visible_to``), so no page can forget it; each function runs a fixed number of
queries whatever the number of contracts."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import TruncMonth
from django.shortcuts import get_object_or_404

from hap_contracting.core.listing import Sorts
from hap_contracting.core.months import months_from
from hap_contracting.core.scoping import scoped_to_region
from hap_contracting.procedure.constants import UNFINISHED_STATES
from hap_contracting.tariffs.models import Act, InsurerTariff
from hap_contracting.tariffs.selectors import insurer_tariffs_on

from .models import (
    Breach,
    BreachAction,
    Contract,
    ContractDocument,
    ContractEvent,
    ContractRate,
    minimum_rate,
)

# The expiry chart looks this many months ahead, the current month included.
CHART_MONTHS = 18


def contract_covers(location, day):
    """Whether a contract covers ``location`` on ``day`` (an id and a date, or expressions such
    as ``OuterRef("location_id")`` and ``OuterRef("care_on")``), for ``filter``, ``exclude`` or
    ``annotate``. Two EXISTS rather than one with OR, so that each uses its own index."""
    active = Contract.objects.active_on(day)
    return Exists(active.filter(location=location)) | Exists(
        active.filter(other_locations=location)
    )


def contracts_visible_to(user) -> QuerySet[Contract]:
    """The contracts the user may see: their region's, or all for finance and administrators."""
    return scoped_to_region(Contract.objects.all(), user, "region_id")


def lapsed_unrenewed() -> Q:
    """Seed 004, 7.1: the contract ended (not terminated) without a completed renewal: its
    renewal is unfinished, or none could be opened (the location had another request open) and
    no later contract covers the location. Combine with ``end_date__lt=today``."""
    # Two NOT EXISTS (as ``contract_covers``): "covers" as one OR over the join with the
    # other locations read every later contract for each row.
    later = Contract.objects.filter(start_date__gt=OuterRef("start_date"))
    never_renewed = (
        Q(renewal_request__isnull=True, next_contract__isnull=True)
        & ~Exists(later.filter(location=OuterRef("location")))
        & ~Exists(later.filter(other_locations=OuterRef("location")))
    )
    return Q(terminated_on__isnull=True) & (
        Q(renewal_request__state__in=UNFINISHED_STATES) | never_renewed
    )


def _with_register_columns(queryset: QuerySet[Contract], today: datetime.date):
    return (
        queryset.with_status(today)
        .annotate(
            lapsed_unrenewed=Case(
                When(lapsed_unrenewed() & Q(end_date__lt=today), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .select_related("organisation", "location", "region", "renewal_request")
    )


# The register's sortable columns (``core.listing``): key -> the lookups it orders by.
CONTRACT_SORTS = Sorts(
    {
        "reference": ("pk",),
        "organisation": ("organisation__name", "location__name"),
        "region": ("region__name", "end_date"),
        "kind": ("kind", "end_date"),
        "start": ("start_date",),
        "end": ("end_date",),
        "status": ("status", "end_date"),
    },
    default="end",
    model=Contract,
)


@dataclass(frozen=True)
class RegisterFilters:
    status: str = ""
    kind: str = ""
    month: datetime.date | None = None  # first day of the expiry month
    region_id: int | None = None
    search: str = ""
    lapsed_only: bool = False
    sort: str = ""


def _scoped(user, region_id: int | None) -> QuerySet[Contract]:
    queryset = contracts_visible_to(user)
    if region_id and user.sees_all_regions:
        queryset = queryset.filter(region_id=region_id)
    return queryset


def contract_register(
    user, *, today: datetime.date, filters: RegisterFilters | None = None
) -> QuerySet[Contract]:
    """The register's rows, with the derived ``status`` and the ``lapsed_unrenewed`` flag;
    sorted by ``filters.sort`` (a key of ``CONTRACT_SORTS``), soonest end first otherwise. The
    page and its export both read this."""
    filters = filters or RegisterFilters()
    queryset = _with_register_columns(_scoped(user, filters.region_id), today)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.month:
        queryset = queryset.filter(
            end_date__gte=filters.month, end_date__lt=filters.month + relativedelta(months=1)
        )
    if filters.search:
        queryset = queryset.filter(
            Q(organisation__name__icontains=filters.search)
            | Q(location__name__icontains=filters.search)
        )
    if filters.lapsed_only:
        queryset = queryset.filter(lapsed_unrenewed=True)
    return queryset.order_by(*CONTRACT_SORTS.order_by(filters.sort))


def expiry_months(today: datetime.date, months: int = CHART_MONTHS) -> list[datetime.date]:
    """The first day of this month and of the ``months - 1`` months after it."""
    return months_from(today, months)


def contracts_ending_per_month(
    user, *, today: datetime.date, region_id: int | None = None
) -> list[tuple[datetime.date, int]]:
    """How many contracts (not terminated) end in each of the next 18 months, in one query.
    Months without an ending contract are there with 0."""
    months = expiry_months(today)
    rows = (
        _scoped(user, region_id)
        .filter(
            terminated_on__isnull=True,
            end_date__gte=months[0],
            end_date__lt=months[-1] + relativedelta(months=1),
        )
        .annotate(month=TruncMonth("end_date"))
        .order_by()
        .values("month")
        .annotate(number=Count("pk"))
    )
    counts = {}
    for row in rows:
        month = row["month"]
        # TruncMonth of a DateField is a date; some backends hand back a datetime.
        if isinstance(month, datetime.datetime):
            month = month.date()
        counts[month] = row["number"]
    return [(month, counts.get(month, 0)) for month in months]


def contract_for_user(user, pk: int, *, today: datetime.date) -> Contract:
    """One contract with everything its page shows, or 404 when it does not exist *or* lies
    outside the user's region. A fixed number of queries: one per prefetched relation."""
    queryset = _with_register_columns(contracts_visible_to(user), today).select_related(
        "location__hap_post",
        "location__region",
        "admission_request",
        "previous_contract",
        "next_contract",
    )
    queryset = queryset.prefetch_related(
        "other_locations",
        Prefetch("rates", queryset=ContractRate.objects.select_related("act")),
        Prefetch(
            "documents",
            queryset=ContractDocument.objects.select_related("uploaded_by").order_by("-version"),
        ),
        Prefetch(
            "breaches",
            queryset=Breach.objects.select_related("recorded_by").prefetch_related(
                Prefetch("actions", queryset=BreachAction.objects.select_related("recorded_by"))
            ),
        ),
        Prefetch("events", queryset=ContractEvent.objects.select_related("by")),
    )
    return get_object_or_404(queryset, pk=pk)


@dataclass(frozen=True)
class RateRow:
    act: Act
    amount: Decimal | None
    tariff: InsurerTariff | None
    minimum: Decimal | None

    @property
    def below_minimum(self) -> bool:
        return self.amount is not None and self.minimum is not None and self.amount < self.minimum


def _kept_tariffs(contract: Contract) -> dict[int, InsurerTariff]:
    """The contract's kept tariffs as (unsaved) tariff objects by act id. One query, for the
    acts; none when nothing was kept."""
    kept = {row["act"]: row for row in contract.tariffs_on_start or []}
    if not kept:
        return {}
    return {
        act.pk: InsurerTariff(
            act=act,
            amount=Decimal(kept[act.code]["amount"]),
            valid_from=datetime.date.fromisoformat(kept[act.code]["valid_from"]),
            valid_until=datetime.date.fromisoformat(kept[act.code]["valid_until"])
            if kept[act.code]["valid_until"]
            else None,
        )
        for act in Act.objects.filter(code__in=kept)
    }


def contract_rate_rows(contract: Contract) -> list[RateRow]:
    """Each agreed rate beside the insurer tariff on the contract's start date and the floor
    (seed 004, 7.2: with treatment at least 2 × the tariff). Acts with a tariff but no agreed
    rate are listed too. Needs ``rates`` prefetched; one query for the tariffs. The tariffs are
    those kept on the contract when it was made (``tariffs_on_start``), so a later change of a
    tariff does not change what the contract was checked against; a contract made before they
    were kept reads the tariff table."""
    tariffs = _kept_tariffs(contract) or insurer_tariffs_on(contract.start_date)
    rows = []
    agreed = {rate.act_id: rate for rate in contract.rates.all()}
    for rate in agreed.values():
        tariff = tariffs.get(rate.act_id)
        rows.append(RateRow(rate.act, rate.amount, tariff, minimum_rate(contract.kind, tariff)))
    for act_id, tariff in tariffs.items():
        if act_id not in agreed:
            rows.append(RateRow(tariff.act, None, tariff, minimum_rate(contract.kind, tariff)))
    return sorted(rows, key=lambda row: row.act.code)


def act_tariff_rows(day: datetime.date, kind: str) -> dict[str, tuple[InsurerTariff, Decimal]]:
    """By act code: the insurer tariff valid on ``day`` and the minimum for a contract of
    ``kind`` (None without a floor). One query."""
    return {
        tariff.act.code: (tariff, minimum_rate(kind, tariff))
        for tariff in insurer_tariffs_on(day).values()
    }


def lapsed_unrenewed_contracts(
    user, *, today: datetime.date, limit: int | None = None
) -> list[Contract]:
    """The region's contracts that ended without a completed renewal, the longest ended first
    (one query); the first ``limit`` of them when given."""
    contracts = (
        contracts_visible_to(user)
        .filter(lapsed_unrenewed(), end_date__lt=today)
        .select_related("organisation", "location", "renewal_request")
        .order_by("end_date", "pk")
    )
    return list(contracts if limit is None else contracts[:limit])


def contract_documents(contract: Contract) -> QuerySet[ContractDocument]:
    return ContractDocument.objects.filter(contract=contract)
