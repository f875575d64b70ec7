"""The state graph in docs/ is generated from the code; this fails when the two drift apart."""

from pathlib import Path

from django.utils import translation
from django_fsm.management.commands.graph_transitions import generate_dot, one_fsm_fields_data

from hap_contracting.procedure.models import AdmissionRequest

DOT_FILE = Path(__file__).resolve().parents[2] / "docs" / "state-graph.dot"


def generated_dot() -> str:
    with translation.override(None):
        return generate_dot([one_fsm_fields_data(AdmissionRequest, "state")]).source


def test_the_documented_state_graph_matches_the_code():
    documented = sorted(DOT_FILE.read_text().splitlines())

    assert documented == sorted(generated_dot().splitlines()), "run `make graph` to regenerate"
