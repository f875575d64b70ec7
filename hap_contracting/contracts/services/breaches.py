"""Breaches of a contract's agreements and the actions taken on them (seed 004, 7.1), along the
national escalation route (seed 001): care organisation, zorgkantoor, RHO, regional table."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hap_contracting.core.errors import DomainError
from hap_contracting.core.text import TextLimit, checked_text

from .. import rules as contract_rules
from ..constants import BreachActionKind, ContractEventKind, EscalationStep
from ..models import Breach, BreachAction, Contract, ContractEvent
from .contracts import require_contract_permission

ESCALATION_ORDER = list(EscalationStep.values)


def breach_record(
    *,
    contract: Contract,
    by,
    observed_on: datetime.date,
    agreement: str,
    description: str,
    escalation_step: str = EscalationStep.CARE_ORGANISATION,
) -> Breach:
    require_contract_permission(by, contract, contract_rules.can_record_breach)
    if observed_on > timezone.localdate():
        raise DomainError(_("This date lies in the future."), field="observed_on")
    if observed_on < contract.start_date:
        raise DomainError(_("The contract had not started on this date."), field="observed_on")
    agreement = checked_text(
        agreement,
        field="agreement",
        limit=Breach._meta.get_field("agreement").max_length,
        required_message=_("Say which agreement was not kept."),
    )
    description = checked_text(
        description,
        field="description",
        limit=TextLimit.DESCRIPTION,
        required_message=_("Describe what happened."),
    )
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


def breach_escalate(*, breach: Breach, by, escalation_step: str, note: str) -> Breach:
    """Seed 001: care organisation → zorgkantoor → RHO → regional table; only forward."""
    require_contract_permission(by, breach.contract, contract_rules.can_record_breach)
    if escalation_step not in ESCALATION_ORDER:
        raise DomainError(_("Choose an escalation step."), field="escalation_step")
    if ESCALATION_ORDER.index(escalation_step) <= ESCALATION_ORDER.index(breach.escalation_step):
        raise DomainError(
            _("Escalation only goes forward: choose a step after the current one."),
            field="escalation_step",
        )
    note = checked_text(note, field="note", limit=TextLimit.REASON)
    with transaction.atomic():
        Breach.objects.filter(pk=breach.pk).update(escalation_step=escalation_step)
        ContractEvent.objects.create(
            contract=breach.contract,
            kind=ContractEventKind.BREACH_ESCALATED,
            by=by,
            description=f"{EscalationStep(escalation_step).label}. {note}".strip(),
        )
    breach.refresh_from_db()
    return breach


def breach_action_record(
    *,
    breach: Breach,
    by,
    kind: str,
    description: str,
    deadline: datetime.date | None = None,
) -> BreachAction:
    require_contract_permission(by, breach.contract, contract_rules.can_record_breach)
    if kind not in BreachActionKind.values:
        raise DomainError(_("Choose the action."), field="kind")
    description = checked_text(
        description,
        field="description",
        limit=TextLimit.DESCRIPTION,
        required_message=_("Describe the action."),
    )
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
    *, action: BreachAction, by, completed_on: datetime.date, note: str = ""
) -> BreachAction:
    contract = action.breach.contract
    require_contract_permission(by, contract, contract_rules.can_record_breach)
    if completed_on > timezone.localdate():
        raise DomainError(_("This date lies in the future."), field="completed_on")
    note = checked_text(note, field="note", limit=TextLimit.REMARK)
    with transaction.atomic():
        if not BreachAction.objects.filter(pk=action.pk, completed_on__isnull=True).update(
            completed_on=completed_on
        ):
            raise DomainError(_("This action has been completed already."))
        ContractEvent.objects.create(
            contract=contract,
            kind=ContractEventKind.ACTION_COMPLETED,
            by=by,
            description=f"{action.get_kind_display()} ({completed_on:%d-%m-%Y}). {note}",
        )
    action.refresh_from_db()
    return action
