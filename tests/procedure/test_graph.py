"""The state graph in docs/ is generated from the code; these fail when the two drift apart."""

import re
from pathlib import Path

from django.utils import translation
from django_fsm.management.commands.graph_transitions import generate_dot, one_fsm_fields_data

from hap_contracting.procedure.constants import TERMINAL_STATES, RequestState
from hap_contracting.procedure.models import AdmissionRequest
from hap_contracting.procedure.selectors.graph import state_graph

DOCS = Path(__file__).resolve().parents[2] / "docs"
DOT_FILE = DOCS / "state-graph.dot"
ARCHITECTURE = DOCS / "architecture.md"
MERMAID_BLOCK = re.compile(r"(<!-- state graph: make graph -->\n```mermaid\n)(.*?)(```)", re.S)


def generated_dot() -> str:
    with translation.override(None):
        return generate_dot([one_fsm_fields_data(AdmissionRequest, "state")]).source


def generated_mermaid() -> str:
    """The procedure's transitions as a Mermaid state diagram, with who may take each."""
    with translation.override(None):
        lines = ["stateDiagram-v2", f"    [*] --> {RequestState.RECEIVED}"]
        for edge in state_graph():
            lines.append(
                f"    {edge.source} --> {edge.target}: {edge.transition} — {edge.permission}"
            )
        lines += [f"    {state} --> [*]" for state in TERMINAL_STATES]
        return "\n".join(lines) + "\n"


def architecture_with_graph() -> str:
    """docs/architecture.md with its state graph block regenerated."""
    return MERMAID_BLOCK.sub(
        lambda match: match.group(1) + generated_mermaid() + match.group(3),
        ARCHITECTURE.read_text(),
    )


def test_the_documented_state_graph_matches_the_code():
    documented = sorted(DOT_FILE.read_text().splitlines())

    assert documented == sorted(generated_dot().splitlines()), "run `make graph` to regenerate"


def test_the_architecture_page_shows_the_state_graph_of_the_code():
    assert MERMAID_BLOCK.search(ARCHITECTURE.read_text()), "the graph's block is missing"
    assert ARCHITECTURE.read_text() == architecture_with_graph(), "run `make graph`"
