"""Writes of the contract register: contracts and their rates, signed documents, breaches and
their actions, termination, and the insurer tariffs the rates are checked against."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import rules as procedure_rules
from ..constants import (
    BreachActionKind,
    ContractEventKind,
    ContractKind,
    EscalationStep,
    RequestKind,
)
from ..errors import DomainError
from ..models import (
    Act,
    AdmissionRequest,
    Breach,
    BreachAction,
    CareLocation,
    Contract,
    ContractDocument,
    ContractEvent,
    ContractRate,
    InsurerTariff,
    TriageFilterEntry,
    User,
)

CENT = Decimal("0.01")
# Seed 004, 7.2: "De ondergrens hiervoor is 2* afgesproken tarief van de verrichtingen".
WITH_TREATMENT_RATE_FACTOR = Decimal(2)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --- Periods (insurer tariffs, administrative costs) -----------------------------------------


def period_check(valid_from: datetime.date, valid_until: datetime.date | None) -> None:
    if valid_until is not None and valid_until < valid_from:
        raise DomainError(_("The end of the period lies before its start."), field="valid_until")


def first_overlapping_period(
    periods: QuerySet, valid_from: datetime.date, valid_until: datetime.date | None, *, own=None
):
    """The earliest of ``periods`` (rows with ``valid_from``/``valid_until``, open-ended when
    empty) that overlaps the given one, leaving out the row being changed; or None."""
    overlapping = periods.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=valid_from))
    if valid_until is not None:
        overlapping = overlapping.filter(valid_from__lte=valid_until)
    if own is not None and own.pk:
        overlapping = overlapping.exclude(pk=own.pk)
    return overlapping.order_by("valid_from").first()


# --- Insurer tariffs ------------------------------------------------------------------------


def insurer_tariff_save(
    *,
    act: Act,
    amount: Decimal,
    valid_from: datetime.date,
    valid_until: datetime.date | None,
    tariff: InsurerTariff | None = None,
    note: str = "",
) -> InsurerTariff:
    """Create or change a tariff period; periods of one act may not overlap."""
    if amount is None or amount <= 0:
        raise DomainError(_("The tariff must be more than zero."), field="amount")
    period_check(valid_from, valid_until)
    with transaction.atomic():
        # Locking the act serialises everyone saving a period of this act, so two overlapping
        # periods can't both pass the check below.
        Act.objects.select_for_update().get(pk=act.pk)
        clash = first_overlapping_period(
            InsurerTariff.objects.filter(act=act), valid_from, valid_until, own=tariff
        )
        if clash is not None:
            raise DomainError(
                _("This period overlaps the tariff of %(act)s valid from %(start)s.")
                % {"act": act.name, "start": clash.valid_from.strftime("%d-%m-%Y")},
                field="valid_from",
            )
        tariff = tariff or InsurerTariff(act=act)
        tariff.amount = money(amount)
        tariff.valid_from = valid_from
        tariff.valid_until = valid_until
        tariff.note = (note or "").strip()[:200]
        tariff.save()
    return tariff


def insurer_tariffs_on(day: datetime.date) -> dict[int, InsurerTariff]:
    """The tariff of every act valid on ``day``, by act id."""
    return {
        tariff.act_id: tariff
        for tariff in InsurerTariff.objects.valid_on(day).select_related("act")
    }


# --- Contracts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractTerms:
    kind: str
    start_date: datetime.date
    end_date: datetime.date | None = None
    # Agreed rate per act code.
    rates: dict[str, Decimal] | None = None
    other_locations: tuple[CareLocation, ...] = ()


def minimum_rate(kind: str, tariff: InsurerTariff | None) -> Decimal | None:
    """The lowest rate the contract may agree for an act, or None when there is no floor."""
    if kind != ContractKind.WLZ_WITH_TREATMENT or tariff is None:
        return None
    return money(tariff.amount * WITH_TREATMENT_RATE_FACTOR)


def _checked_rates(terms: ContractTerms) -> list[tuple[Act, Decimal]]:
    """The rates of ``terms``, each checked against the floor on the start date.

    With treatment every act with an insurer tariff on the start date needs a rate of at least
    twice that tariff (seed 004, 7.2); without treatment the rates are optional.
    """
    tariffs = insurer_tariffs_on(terms.start_date)
    acts = {act.code: act for act in Act.objects.all()}
    given = {code: amount for code, amount in (terms.rates or {}).items() if amount is not None}
    errors: dict[str, str] = {}
    for code in given:
        if code not in acts:
            errors[f"rate_{code}"] = _("Unknown act code %(code)s.") % {"code": code}
    if terms.kind == ContractKind.WLZ_WITH_TREATMENT:
        if not tariffs:
            raise DomainError(
                _(
                    "There is no insurer tariff valid on %(date)s, so the minimum rates can't "
                    "be checked. Finance enters the tariffs first."
                )
                % {"date": terms.start_date.strftime("%d-%m-%Y")},
                field="start_date",
            )
        for tariff in tariffs.values():
            if tariff.act.code not in given:
                errors[f"rate_{tariff.act.code}"] = _(
                    "Agree a rate for %(act)s (at least € %(minimum)s)."
                ) % {"act": tariff.act.name, "minimum": minimum_rate(terms.kind, tariff)}
    checked = []
    for code, amount in given.items():
        act = acts.get(code)
        if act is None:
            continue
        if amount <= 0:
            errors[f"rate_{code}"] = _("A rate must be more than zero.")
            continue
        floor = minimum_rate(terms.kind, tariffs.get(act.pk))
        if floor is not None and money(amount) < floor:
            errors[f"rate_{code}"] = _(
                "For Wlz with treatment the rate for %(act)s may not be lower than twice the "
                "insurer tariff valid on %(date)s: at least € %(minimum)s (2 × € %(tariff)s)."
            ) % {
                "act": act.name,
                "date": terms.start_date.strftime("%d-%m-%Y"),
                "minimum": floor,
                "tariff": tariffs[act.pk].amount,
            }
            continue
        checked.append((act, money(amount)))
    if errors:
        raise DomainError(" ".join(errors.values()), errors=errors)
    return checked


def default_end_date(start_date: datetime.date) -> datetime.date:
    """A contract runs the default term: its last day is the day before the anniversary."""
    return start_date + relativedelta(months=settings.CONTRACT_DEFAULT_TERM_MONTHS, days=-1)


def contract_create_for_request(
    *, admission_request: AdmissionRequest, by: User, terms: ContractTerms
) -> Contract:
    """The contract that completing a procedure creates. Runs inside the completion's
    transaction (``admission_request_complete_contracting``): both happen or neither."""
    location = admission_request.location
    if location.organisation_id is None:
        raise DomainError(
            _("Record which organisation runs this location before the contract is made.")
        )
    if terms.kind not in ContractKind.values:
        raise DomainError(_("Choose the kind of contract."), field="kind")
    if location.wlz_treatment_admission and terms.kind != ContractKind.WLZ_WITH_TREATMENT:
        # Otherwise the 2 × tariff floor (seed 004, 7.2) could be avoided by picking a kind.
        raise DomainError(
            _("This location has a Wlz admission with treatment: the contract is of that kind."),
            field="kind",
        )
    end_date = terms.end_date or default_end_date(terms.start_date)
    if end_date <= terms.start_date:
        raise DomainError(_("The end date must lie after the start date."), field="end_date")
    for other in terms.other_locations:
        if other.organisation_id != location.organisation_id:
            raise DomainError(
                _("%(location)s belongs to another organisation.") % {"location": other.name},
                field="other_locations",
            )
    rates = _checked_rates(terms)
    contract = Contract.objects.create(
        organisation_id=location.organisation_id,
        location=location,
        region_id=location.region_id,
        kind=terms.kind,
        start_date=terms.start_date,
        end_date=end_date,
        admission_request=admission_request,
        previous_contract=admission_request.renews_contract
        if admission_request.kind == RequestKind.RENEWAL
        else None,
    )
    contract.other_locations.set(terms.other_locations)
    ContractRate.objects.bulk_create(
        ContractRate(contract=contract, act=act, amount=amount) for act, amount in rates
    )
    ContractEvent.objects.create(
        contract=contract,
        kind=ContractEventKind.CREATED,
        by=by,
        description=_("From request %(reference)s, %(start)s to %(end)s.")
        % {
            "reference": admission_request.reference,
            "start": terms.start_date.strftime("%d-%m-%Y"),
            "end": end_date.strftime("%d-%m-%Y"),
        },
    )
    if contract.start_date <= timezone.localdate():
        triage_filter_delist_contracted(timezone.localdate())
    return contract


def _require_contract_permission(user: User, contract: Contract, predicate) -> None:
    if not predicate.test(user, contract):
        raise DomainError(
            _("You may not change this contract: it belongs to another role or another region.")
        )


def contract_document_upload(
    *, contract: Contract, by: User, uploaded_file: UploadedFile, note: str = ""
) -> ContractDocument:
    """Add the next version of the signed contract; earlier versions stay."""
    _require_contract_permission(by, contract, procedure_rules.can_manage_contract)
    if uploaded_file.size > settings.CONTRACT_DOCUMENT_MAX_BYTES:
        raise DomainError(
            _("The file is larger than %(megabytes)s MB.")
            % {"megabytes": settings.CONTRACT_DOCUMENT_MAX_BYTES // (1024 * 1024)},
            field="file",
        )
    head = uploaded_file.read(5)
    uploaded_file.seek(0)
    if head != b"%PDF-":
        raise DomainError(_("Upload the signed contract as a PDF file."), field="file")
    with transaction.atomic():
        # The lock numbers concurrent uploads one after the other.
        Contract.objects.select_for_update().get(pk=contract.pk)
        latest = contract.documents.order_by("-version").values_list("version", flat=True).first()
        document = ContractDocument(
            contract=contract,
            version=(latest or 0) + 1,
            original_name=uploaded_file.name[:255],
            note=note.strip()[:200],
            uploaded_by=by,
        )
        document.file.save(f"v{document.version}.pdf", uploaded_file, save=False)
        document.save()
        ContractEvent.objects.create(
            contract=contract,
            kind=ContractEventKind.DOCUMENT_UPLOADED,
            by=by,
            description=_("Version %(version)s: %(name)s")
            % {"version": document.version, "name": document.original_name},
        )
    return document


def contract_terminate(
    *, contract: Contract, by: User, terminated_on: datetime.date, reason: str
) -> Contract:
    _require_contract_permission(by, contract, procedure_rules.can_manage_contract)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for terminating."), field="reason")
    if contract.terminated_on is not None:
        raise DomainError(_("This contract has been terminated already."))
    if not contract.start_date <= terminated_on <= contract.end_date:
        raise DomainError(
            _("The termination date must lie within the contract's term."), field="terminated_on"
        )
    with transaction.atomic():
        updated = Contract.objects.filter(pk=contract.pk, terminated_on__isnull=True).update(
            terminated_on=terminated_on, termination_reason=reason
        )
        if not updated:
            raise DomainError(_("This contract has been terminated already."))
        ContractEvent.objects.create(
            contract=contract,
            kind=ContractEventKind.TERMINATED,
            by=by,
            description=_("Per %(date)s: %(reason)s")
            % {"date": terminated_on.strftime("%d-%m-%Y"), "reason": reason},
        )
    contract.refresh_from_db()
    return contract


# --- Breaches -------------------------------------------------------------------------------

ESCALATION_ORDER = list(EscalationStep.values)


def breach_record(
    *,
    contract: Contract,
    by: User,
    observed_on: datetime.date,
    agreement: str,
    description: str,
    escalation_step: str = EscalationStep.CARE_ORGANISATION,
) -> Breach:
    _require_contract_permission(by, contract, procedure_rules.can_record_breach)
    if observed_on > timezone.localdate():
        raise DomainError(_("This date lies in the future."), field="observed_on")
    if observed_on < contract.start_date:
        raise DomainError(_("The contract had not started on this date."), field="observed_on")
    agreement, description = (agreement or "").strip(), (description or "").strip()
    if not agreement:
        raise DomainError(_("Say which agreement was not kept."), field="agreement")
    if not description:
        raise DomainError(_("Describe what happened."), field="description")
    if escalation_step not in ESCALATION_ORDER:
        raise DomainError(_("Choose an escalation step."), field="escalation_step")
    with transaction.atomic():
        breach = Breach.objects.create(
            contract=contract,
            observed_on=observed_on,
            agreement=agreement,
            description=description,
            escalation_step=escalation_step,
            recorded_by=by,
        )
        ContractEvent.objects.create(
            contract=contract,
            kind=ContractEventKind.BREACH_RECORDED,
            by=by,
            description=f"{observed_on:%d-%m-%Y}: {agreement} "
            f"({EscalationStep(escalation_step).label})",
        )
    return breach


def breach_escalate(*, breach: Breach, by: User, escalation_step: str, note: str) -> Breach:
    """Seed 001: care organisation → zorgkantoor → RHO → regional table; only forward."""
    _require_contract_permission(by, breach.contract, procedure_rules.can_record_breach)
    if escalation_step not in ESCALATION_ORDER:
        raise DomainError(_("Choose an escalation step."), field="escalation_step")
    if ESCALATION_ORDER.index(escalation_step) <= ESCALATION_ORDER.index(breach.escalation_step):
        raise DomainError(
            _("Escalation only goes forward: choose a step after the current one."),
            field="escalation_step",
        )
    with transaction.atomic():
        Breach.objects.filter(pk=breach.pk).update(escalation_step=escalation_step)
        ContractEvent.objects.create(
            contract=breach.contract,
            kind=ContractEventKind.BREACH_ESCALATED,
            by=by,
            description=f"{EscalationStep(escalation_step).label}. {note.strip()}".strip(),
        )
    breach.refresh_from_db()
    return breach


def breach_action_record(
    *,
    breach: Breach,
    by: User,
    kind: str,
    description: str,
    deadline: datetime.date | None = None,
) -> BreachAction:
    _require_contract_permission(by, breach.contract, procedure_rules.can_record_breach)
    if kind not in BreachActionKind.values:
        raise DomainError(_("Choose the action."), field="kind")
    description = (description or "").strip()
    if not description:
        raise DomainError(_("Describe the action."), field="description")
    if kind == BreachActionKind.WRITTEN_WARNING and deadline is None:
        raise DomainError(_("A written warning needs a term: give the deadline."), field="deadline")
    if deadline is not None and deadline < timezone.localdate():
        raise DomainError(_("The deadline lies in the past."), field="deadline")
    with transaction.atomic():
        action = BreachAction.objects.create(
            breach=breach, kind=kind, description=description, deadline=deadline, recorded_by=by
        )
        ContractEvent.objects.create(
            contract=breach.contract,
            kind=ContractEventKind.ACTION_RECORDED,
            by=by,
            description=(
                _("%(action)s: %(description)s (deadline %(deadline)s)")
                % {
                    "action": BreachActionKind(kind).label,
                    "description": description,
                    "deadline": deadline.strftime("%d-%m-%Y"),
                }
                if deadline
                else f"{BreachActionKind(kind).label}: {description}"
            ),
        )
    return action


def breach_action_complete(
    *, action: BreachAction, by: User, completed_on: datetime.date, note: str = ""
) -> BreachAction:
    contract = action.breach.contract
    _require_contract_permission(by, contract, procedure_rules.can_record_breach)
    if completed_on > timezone.localdate():
        raise DomainError(_("This date lies in the future."), field="completed_on")
    with transaction.atomic():
        if not BreachAction.objects.filter(pk=action.pk, completed_on__isnull=True).update(
            completed_on=completed_on
        ):
            raise DomainError(_("This action has been completed already."))
        ContractEvent.objects.create(
            contract=contract,
            kind=ContractEventKind.ACTION_COMPLETED,
            by=by,
            description=f"{action.get_kind_display()} ({completed_on:%d-%m-%Y}). {note.strip()}",
        )
    action.refresh_from_db()
    return action


# --- Triage filter list -----------------------------------------------------------------------


def triage_filter_delist_contracted(today: datetime.date) -> int:
    """Take locations off the list once a contract covering them has started (seed 004, 7.2)."""
    active = Contract.objects.active_on(today)
    contracted = Q(location__contracts__in=active) | Q(location__co_contracts__in=active)
    entries = TriageFilterEntry.objects.filter(delisted_on__isnull=True).filter(contracted)
    return TriageFilterEntry.objects.filter(pk__in=entries.values("pk")).update(
        delisted_on=today, delisted_because=_("A contract started.")
    )
