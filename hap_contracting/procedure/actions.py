"""The steps a user can take on a request, shared by the app's pages and the Django admin.

Each action pairs a form with the service that performs it. Whether an action is offered comes
from the state machine itself (the transitions this user may take now); the service checks again.
An action of another app (completing contracting makes a contract) names its own page instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from accounts.selectors import location_managers_of_region
from hap_contracting.core.errors import DomainError
from hap_contracting.core.forms import Confirmation, confirmation_needed, going_back

from . import forms
from .constants import AdviceStep
from .models import AdmissionRequest, positive_advice_blockers
from .selectors.admission import (
    advice_choices,
    blocked_transitions,
    may_take,
    outcomes_ending_procedure,
    unmet_conditions,
)
from .services import admission as admission_services


@dataclass(frozen=True)
class StepResult:
    """What became of a POST to a step: its form (bound, with any refusal on it), whether the
    step was taken, and the confirmation still to ask for (an irreversible choice)."""

    form: object
    taken: bool = False
    confirmation: Confirmation | None = None


@dataclass(frozen=True)
class Action:
    slug: str
    label: str
    transitions: tuple[str, ...]
    form_class: type[forms.ServiceForm] | None = None
    perform: Callable[[AdmissionRequest, object, dict], object] | None = None
    form_kwargs: Callable[[AdmissionRequest, object], dict] = field(
        default=lambda request, user: {}
    )
    # What the page shows beside the form, e.g. the checklist items that block a positive advice.
    context: Callable[[AdmissionRequest], dict] = field(default=lambda request: {})
    button_class: str = "btn-primary"
    # The page of another app that takes this step (instead of a form here).
    view_name: str = ""

    def build_form(self, admission_request: AdmissionRequest, user, data=None):
        return self.form_class(data, **self.form_kwargs(admission_request, user))

    def take(self, admission_request: AdmissionRequest, user, data=None) -> StepResult:
        """The step's form bound to ``data`` (None: a blank form), and whether the step was
        taken: the form was valid, an irreversible choice was confirmed (``confirmation_needed``)
        and the service agreed; its refusal is put on the form. "Back" on the confirmation page
        shows the form filled in again."""
        form = self.build_form(admission_request, user, data)
        if data is None or going_back(data) or not form.is_valid():
            return StepResult(form)
        confirmation = confirmation_needed(form, data)
        if confirmation is not None:
            return StepResult(form, confirmation=confirmation)
        try:
            self.perform(admission_request, user, form.service_arguments())
        except DomainError as error:
            form.add_domain_error(error)
            return StepResult(form)
        return StepResult(form, taken=True)


def _advice_action(slug, label, step, transitions, context=lambda request: {}) -> Action:
    return Action(
        slug=slug,
        label=label,
        transitions=transitions,
        form_class=forms.AdviceForm,
        form_kwargs=lambda request, user: {
            "outcomes": advice_choices(request, user, step),
            "ending_procedure": outcomes_ending_procedure(step),
            "admission_request": request,
        },
        context=context,
        perform=lambda request, user, data: admission_services.admission_request_advise(
            admission_request=request, by=user, step=step, **data
        ),
    )


ACTIONS: dict[str, Action] = {
    action.slug: action
    for action in (
        Action(
            slug="forward",
            label=_("Forward to location manager"),
            transitions=("forward_to_location_manager",),
            form_class=forms.ForwardForm,
            form_kwargs=lambda request, user: {
                "location_managers": location_managers_of_region(request.location.region_id)
            },
            perform=lambda request, user, data: admission_services.admission_request_forward(
                admission_request=request, by=user, **data
            ),
        ),
        _advice_action(
            "advise-location-manager",
            _("Give pre-assessment advice"),
            AdviceStep.LOCATION_MANAGER,
            ("location_manager_advise_positive", "location_manager_advise_negative"),
            context=lambda request: {"blockers": positive_advice_blockers(request)},
        ),
        _advice_action(
            "advise-quality-team",
            _("Give the quality team's advice"),
            AdviceStep.QUALITY_TEAM,
            (
                "quality_team_advise_positive",
                "quality_team_advise_negative",
                "quality_team_send_back",
            ),
        ),
        _advice_action(
            "decide-council",
            _("Record the council's decision"),
            AdviceStep.REGIONAL_COUNCIL,
            ("council_approve", "council_reject"),
        ),
        Action(
            slug="record-outcome",
            label=_("Record the outcome"),
            transitions=("record_outcome",),
            form_class=forms.OutcomeForm,
            perform=lambda request, user, data: admission_services.admission_request_record_outcome(
                admission_request=request, by=user, **data
            ),
        ),
        Action(
            slug="complete-contracting",
            label=_("Complete contracting"),
            transitions=("complete_contracting",),
            view_name="contracts:complete_contracting",
        ),
        Action(
            slug="withdraw",
            label=_("Withdraw"),
            transitions=("withdraw",),
            form_class=forms.WithdrawForm,
            perform=lambda request, user, data: admission_services.admission_request_withdraw(
                admission_request=request, by=user, **data
            ),
            button_class="btn-outline-danger",
        ),
    )
}


def available_actions(admission_request: AdmissionRequest, user) -> list[Action]:
    """The actions whose transitions this user may take on this request right now: at its
    state, allowed to the user's role and region, and their conditions met. As django-fsm's
    ``get_available_user_state_transitions``, but the conditions (the checklist's verdict, a
    query or more) are evaluated only for the transitions the user may take."""
    return [
        action
        for action in ACTIONS.values()
        if any(
            may_take(admission_request, user, name)
            and not unmet_conditions(admission_request, name)
            for name in action.transitions
        )
    ]


@dataclass(frozen=True)
class BlockedAction:
    action: Action
    reasons: list[str]


def blocked_actions(admission_request: AdmissionRequest, user) -> list[BlockedAction]:
    """The actions this user would take now but that wait for something (all their transitions'
    conditions fail), with the reasons from those conditions: e.g. completing contracting waits
    for the location manager's outcome. Shown where the action's button would be."""
    available = {action.slug for action in available_actions(admission_request, user)}
    blocked = []
    for action in ACTIONS.values():
        if action.slug in available:
            continue
        reasons = blocked_transitions(admission_request, user, action.transitions)
        if reasons:
            blocked.append(
                BlockedAction(action, [text for texts in reasons.values() for text in texts])
            )
    return blocked


def action_blockers(admission_request: AdmissionRequest, user, slug: str) -> list[str]:
    """Why this user's step ``slug`` can't be taken yet; empty when nothing blocks it."""
    return next(
        (b.reasons for b in blocked_actions(admission_request, user) if b.action.slug == slug), []
    )
