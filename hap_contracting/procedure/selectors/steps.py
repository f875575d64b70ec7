"""The procedure in the office's words: its steps, who acts in each, what they decide and where
each decision leads. The steps and their exits are read from the transitions in the code; only
the wording lives here, once, and a test fails when a transition has none."""

import datetime
import re
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMFieldMixin

from hap_contracting.core.roles import Role

from ..constants import TERMINAL_STATES, RequestState
from ..models import AdmissionRequest

S = RequestState

STEP_NAMES = {
    S.RECEIVED: _("Request received"),
    S.PRE_ASSESSMENT: _("Pre-assessment"),
    S.QUALITY_REVIEW: _("Advice of the quality team"),
    S.COUNCIL_REVIEW: _("Decision of the regional council"),
    S.CONTRACTING: _("Contracting"),
}

STEP_TASKS = {
    S.RECEIVED: _("Check the request and forward it to a location manager of the region."),
    S.PRE_ASSESSMENT: _(
        "Visit the location, fill in the checklist and give a pre-assessment advice."
    ),
    S.QUALITY_REVIEW: _(
        "Assess the checklist and the pre-assessment, and advise the regional council."
    ),
    S.COUNCIL_REVIEW: _("Decide on the admission, with the advice of the quality team."),
    S.CONTRACTING: _(
        "The location manager agrees the contract with the care organisation and records the "
        "outcome; the secretariat then records the signed contract."
    ),
}

# What each transition means to the people who take it or wait for it.
TRANSITION_MEANINGS = {
    "forward_to_location_manager": _("Forwarded to a location manager: the pre-assessment starts."),
    "withdraw": _("Withdrawn on the requester's behalf: the procedure ends."),
    "withdraw_by_requester": _("Withdrawn by the requester through the status link."),
    "location_manager_advise_positive": _("Positive advice: the quality team assesses next."),
    "location_manager_advise_negative": _(
        "Negative advice: the procedure ends and the location gets no ANW contract."
    ),
    "quality_team_send_back": _(
        "More information needed: back to the location manager, who completes the checklist."
    ),
    "quality_team_advise_positive": _("Positive advice: the regional council decides next."),
    "quality_team_advise_negative": _(
        "Negative advice: the procedure ends and the location gets no ANW contract."
    ),
    "council_approve": _("Positive decision: contracting starts."),
    "council_reject": _(
        "Negative decision: the procedure ends and the location gets no ANW contract."
    ),
    "record_outcome": _("The location manager records the outcome of the contract talks."),
    "complete_contracting": _(
        "The secretariat records the signed contract: the location is contracted."
    ),
}

REQUESTER = _("The requester")
_ROLE_IN_RULE = re.compile(r"has_role:(\w+)")


@dataclass(frozen=True)
class Exit:
    """One way out of a step: who takes it, what it means, where it leads."""

    transition: str
    actor: str
    meaning: str
    target: str
    ends_procedure: bool
    goes_back: bool

    @property
    def target_label(self) -> str:
        return RequestState(self.target).label


@dataclass(frozen=True)
class Step:
    number: int
    state: str
    name: str
    actors: tuple[str, ...]
    task: str
    exits: tuple[Exit, ...]

    @property
    def onward(self) -> tuple[Exit, ...]:
        return tuple(e for e in self.exits if not e.ends_procedure and not e.goes_back)


def _actor(transition) -> str:
    """Who takes a transition, read from its permission rule (none: the requester)."""
    rule = getattr(transition.permission, "rule_name", None)
    if rule is None:
        return str(REQUESTER)
    roles = _ROLE_IN_RULE.findall(rule)
    return str(Role(roles[0]).label) if roles else str(REQUESTER)


def procedure_steps() -> list[Step]:
    """The steps from a received request to a contract, in order, each with its exits."""
    field = next(f for f in AdmissionRequest._meta.fields if isinstance(f, FSMFieldMixin))
    order = list(RequestState.values)
    exits_by_state: dict[str, list[Exit]] = {}
    for transition in field.get_all_transitions(AdmissionRequest):
        exits_by_state.setdefault(transition.source, []).append(
            Exit(
                transition=transition.name,
                actor=_actor(transition),
                meaning=str(TRANSITION_MEANINGS[transition.name]),
                target=transition.target,
                ends_procedure=transition.target in TERMINAL_STATES
                and transition.target != S.CONTRACTED,
                goes_back=order.index(transition.target) < order.index(transition.source),
            )
        )
    steps, state = [], S.RECEIVED.value
    while state not in TERMINAL_STATES:
        # A withdrawal is possible at every step before the decision: the page says so once.
        exits = sorted(
            (e for e in exits_by_state.get(state, []) if e.target != S.WITHDRAWN),
            key=lambda e: (e.ends_procedure, e.goes_back, e.target != state, e.transition),
        )
        steps.append(
            Step(
                number=len(steps) + 1,
                state=state,
                name=str(STEP_NAMES[state]),
                actors=tuple(dict.fromkeys(e.actor for e in exits if e.actor != REQUESTER)),
                task=str(STEP_TASKS[state]),
                exits=tuple(exits),
            )
        )
        onward = [e for e in exits if e.target != state and not e.ends_procedure]
        onward = [e for e in onward if not e.goes_back]
        state = onward[0].target
    return steps


@dataclass(frozen=True)
class Withdrawal:
    """Who may withdraw a request, and until which step."""

    steps: tuple[str, ...]
    exits: tuple[Exit, ...]


def withdrawal() -> Withdrawal:
    """The withdrawals, read from the transitions: from which steps, by whom."""
    steps = procedure_steps()
    field = next(f for f in AdmissionRequest._meta.fields if isinstance(f, FSMFieldMixin))
    withdrawals = [
        t for t in field.get_all_transitions(AdmissionRequest) if t.target == S.WITHDRAWN
    ]
    sources = {t.source for t in withdrawals}
    exits = {
        t.name: Exit(t.name, _actor(t), str(TRANSITION_MEANINGS[t.name]), t.target, True, False)
        for t in withdrawals
    }
    return Withdrawal(
        steps=tuple(step.name for step in steps if step.state in sources),
        exits=tuple(exits[name] for name in sorted(exits)),
    )


@dataclass(frozen=True)
class StepMark:
    step: Step
    status: str  # "done", "current", "ended" (the procedure ended here) or "todo"


@dataclass(frozen=True)
class Progress:
    """Where a request stands: the steps marked, since when, who acts and what they must do."""

    marks: tuple[StepMark, ...]
    current: Step | None
    ended: bool
    since: datetime.datetime
    waiting_days: int
    task: str


def request_progress(admission_request: AdmissionRequest, history, today=None) -> Progress:
    """The step indicator of one request. ``history``: its transition log in order (the page
    has it already), which says at which step a rejected or withdrawn request ended."""
    today = today or timezone.localdate()
    steps = procedure_steps()
    state = admission_request.state
    since = admission_request.state_entered_at
    waiting_days = max((today - timezone.localtime(since).date()).days, 0)
    by_state = {step.state: step for step in steps}
    if state == S.CONTRACTED:
        return Progress(tuple(StepMark(s, "done") for s in steps), None, True, since, 0, "")
    if state in by_state:
        current, status_here = by_state[state], "current"
    else:
        # Rejected or withdrawn: the procedure ended at the step the request was in.
        ended_from = next(
            (entry.source_state for entry in reversed(list(history)) if entry.state == state),
            S.RECEIVED,
        )
        current, status_here = by_state.get(ended_from, steps[0]), "ended"
    marks = tuple(
        StepMark(
            step,
            "done"
            if step.number < current.number
            else status_here
            if step.number == current.number
            else "todo",
        )
        for step in steps
    )
    if status_here == "ended":
        return Progress(marks, None, True, since, 0, "")
    task = current.task
    if state == S.CONTRACTING:
        task = (
            _("Record the signed contract (the regional secretariat).")
            if admission_request.outcome_recorded_at
            else _(
                "Agree the contract with the care organisation and record the outcome "
                "(the location manager)."
            )
        )
    return Progress(marks, current, False, since, waiting_days, str(task))
