"""The official SI-UBL 2.0 rules (NLCIUS with the EN 16931 UBL rules), an XSLT 2.0 file in
``SHARED_DIR/validators/si-ubl-2.0/`` run with saxonche: compiled once per test session (it is
large). Skipped where the file is absent; under REQUIRE_SERVICES=1 (CI) that fails instead."""

from pathlib import Path

import pytest
from django.conf import settings
from lxml import etree

from tests.conftest import skip_or_fail

SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}


@pytest.fixture(scope="session")
def si_ubl_rules():
    """``si_ubl_rules(xml_bytes)``: the SVRL report of the document, as an lxml element."""
    path = Path(settings.SHARED_DIR) / "validators" / "si-ubl-2.0" / "si-ubl-2.0.xsl"
    if not path.exists():
        skip_or_fail(f"the SI-UBL 2.0 rules are not at {path} (set SHARED_DIR)")
    try:
        from saxonche import PySaxonProcessor
    except ImportError:
        skip_or_fail("saxonche is not installed (pip install -e '.[dev]')")
    processor = PySaxonProcessor(license=False)
    executable = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(path))

    def validate(xml: bytes) -> etree._Element:
        node = processor.parse_xml(xml_text=xml.decode("utf-8"))
        return etree.fromstring(executable.transform_to_string(xdm_node=node).encode("utf-8"))

    return validate


def failed(report: etree._Element, flag: str) -> list[str]:
    """The failed assertions with this flag ("fatal", "warning"): each rule's id and text."""
    return [
        f"{item.get('id')}: {' '.join(item.findtext('svrl:text', namespaces=SVRL).split())}"
        for item in report.iterfind(".//svrl:failed-assert", SVRL)
        if item.get("flag") == flag
    ]
