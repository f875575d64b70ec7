"""Writes of the contract register: completing contracting makes the contract with its rates;
signed documents and termination."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hap_contracting.core.derived import refresh_derived
from hap_contracting.core.errors import DomainError
from hap_contracting.core.money import euro, money
from hap_contracting.core.text import TextLimit, checked_text
from hap_contracting.procedure.constants import RequestKind
from hap_contracting.procedure.services.admission import admission_request_complete_contracting
from hap_contracting.tariffs.models import Act
from hap_contracting.tariffs.selectors import insurer_tariffs_on

from .. import rules as contract_rules
from ..constants import ContractEventKind, ContractKind
from ..models import Contract, ContractDocument, ContractEvent, ContractRate, minimum_rate

# --- Contracts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractTerms:
    kind: str
    start_date: datetime.date
    end_date: datetime.date | None = None
    # Agreed rate per act code.
    rates: dict[str, Decimal] | None = None
    other_locations: tuple = ()


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
                    "Agree a rate for %(act)s (at least %(minimum)s)."
                ) % {"act": tariff.act.name, "minimum": euro(minimum_rate(terms.kind, tariff))}
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
                "insurer tariff valid on %(date)s: at least %(minimum)s (2 × %(tariff)s)."
            ) % {
                "act": act.name,
                "date": terms.start_date.strftime("%d-%m-%Y"),
                "minimum": euro(floor),
                "tariff": euro(tariffs[act.pk].amount),
            }
            continue
        checked.append((act, money(amount)))
    if errors:
        raise DomainError(" ".join(errors.values()), errors=errors)
    return checked


def _tariff_snapshot(start_date: datetime.date) -> list[dict]:
    """The insurer tariffs valid on the start date, as plain values: what the contract's rates
    were checked against (seed 004, 7.2), kept on the contract so that it can be explained
    after finance changed the tariffs."""
    return [
        {
            "act": tariff.act.code,
            "name": tariff.act.name,
            "amount": str(tariff.amount),
            "valid_from": tariff.valid_from.isoformat(),
            "valid_until": tariff.valid_until.isoformat() if tariff.valid_until else None,
        }
        for tariff in sorted(insurer_tariffs_on(start_date).values(), key=lambda t: t.act.code)
    ]


def default_end_date(start_date: datetime.date) -> datetime.date:
    """A contract runs the default term: its last day is the day before the anniversary."""
    return start_date + relativedelta(months=settings.CONTRACT_DEFAULT_TERM_MONTHS, days=-1)


def contracting_complete(
    *,
    admission_request,
    by,
    completed_on: datetime.date,
    terms: ContractTerms,
    note: str = "",
    at: datetime.datetime | None = None,
):
    """Step 5 of the procedure: the regional secretariat completes contracting once the location
    manager recorded the outcome; this makes the ANW contract in the same transaction. ``at``:
    when, if not now (the procedure's services check it); the contract's history row gets it."""
    return admission_request_complete_contracting(
        admission_request=admission_request,
        by=by,
        completed_on=completed_on,
        note=note,
        at=at,
        make_contract=lambda: contract_create_for_request(
            admission_request=admission_request, by=by, terms=terms, at=at
        ),
    )


def contract_create_for_request(
    *, admission_request, by, terms: ContractTerms, at: datetime.datetime | None = None
) -> Contract:
    """The contract that completing a procedure creates. Runs inside the completion's
    transaction (``contracting_complete``): both happen or neither."""
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
        tariffs_on_start=_tariff_snapshot(terms.start_date),
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
    refresh_derived(
        "triage.verdicts",
        location_ids=[location.pk, *(other.pk for other in terms.other_locations)],
    )
    ContractRate.objects.bulk_create(
        ContractRate(contract=contract, act=act, amount=amount) for act, amount in rates
    )
    ContractEvent.objects.create(
        contract=contract,
        kind=ContractEventKind.CREATED,
        by=by,
        at=at or timezone.now(),
        description=_("From request %(reference)s, %(start)s to %(end)s.")
        % {
            "reference": admission_request.reference,
            "start": terms.start_date.strftime("%d-%m-%Y"),
            "end": end_date.strftime("%d-%m-%Y"),
        },
    )
    return contract


def require_contract_permission(user, contract: Contract, predicate) -> None:
    if not predicate.test(user, contract):
        raise DomainError(
            _("You may not change this contract: it belongs to another role or another region.")
        )


def contract_document_upload(
    *, contract: Contract, by, uploaded_file: UploadedFile, note: str = ""
) -> ContractDocument:
    """Add the next version of the signed contract; earlier versions stay."""
    require_contract_permission(by, contract, contract_rules.can_manage_contract)
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
    *, contract: Contract, by, terminated_on: datetime.date, reason: str
) -> Contract:
    require_contract_permission(by, contract, contract_rules.can_manage_contract)
    reason = checked_text(
        reason,
        field="reason",
        limit=TextLimit.REASON,
        required_message=_("Give the reason for terminating."),
    )
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
        refresh_derived(
            "triage.verdicts",
            location_ids=[
                contract.location_id,
                *contract.other_locations.values_list("pk", flat=True),
            ],
        )
        ContractEvent.objects.create(
            contract=contract,
            kind=ContractEventKind.TERMINATED,
            by=by,
            description=_("Per %(date)s: %(reason)s")
            % {"date": terminated_on.strftime("%d-%m-%Y"), "reason": reason},
        )
    contract.refresh_from_db()
    return contract
