"""The state graph, read from the transitions in the code (never drawn by hand)."""

from dataclasses import dataclass

from django_fsm import FSMFieldMixin

from ..constants import RequestState
from ..models import AdmissionRequest


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    transition: str
    permission: str

    @property
    def source_label(self) -> str:
        return RequestState(self.source).label

    @property
    def target_label(self) -> str:
        return RequestState(self.target).label


def state_graph() -> list[Edge]:
    field = next(f for f in AdmissionRequest._meta.fields if isinstance(f, FSMFieldMixin))
    edges = [
        Edge(
            t.source,
            t.target,
            t.name,
            getattr(t.permission, "rule_name", "requester, through the status link"),
        )
        for t in field.get_all_transitions(AdmissionRequest)
    ]
    order = {state: index for index, state in enumerate(RequestState.values)}
    return sorted(edges, key=lambda e: (order[e.source], order[e.target], e.transition))
