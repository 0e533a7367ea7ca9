"""An implanted venous access port read as the PCS tables word it (pipeline.code.rules.vascular_access)."""

from __future__ import annotations

import pytest

from pipeline.code.coder import propose_codes
from pipeline.code.rules.vascular_access import port_query
from pipeline.code.types import PCS
from pipeline.extract.pipeline import extract

INSERTION_CHEST = (
    "insertion of totally implantable vascular access device into chest subcutaneous tissue and fascia open approach"
)


@pytest.mark.parametrize(
    ("mention", "preceding", "query"),
    [
        ("Left subclavian vein MediPort placement", "", INSERTION_CHEST),
        ("Port-A-Cath placement", "", INSERTION_CHEST),
        ("implanted venous access port", "Insertion of an ", INSERTION_CHEST),
        (
            "Port-A-Cath",
            "Removal of ",
            "removal of totally implantable vascular access device from trunk subcutaneous tissue and fascia open approach",
        ),
        (
            "right arm power port placement",
            "",
            "insertion of totally implantable vascular access device into right upper arm subcutaneous tissue and fascia open approach",
        ),
        # a laparoscopy's ports are trocars, and a device named with no operation on it is no procedure
        ("Port placement", "", None),
        ("Port-A-Cath", "She has a ", None),
    ],
)
def test_a_port_is_a_totally_implantable_vascular_access_device(mention: str, preceding: str, query: str | None):
    assert port_query(mention, preceding) == query


def test_a_mediport_placement_is_coded_to_the_chest_subcutaneous_tissue():
    text = "PREOPERATIVE DIAGNOSIS: Rhabdomyosarcoma of the left orbit.\nPROCEDURE: Left subclavian vein MediPort placement.\n"
    result = propose_codes(extract(text), setting="inpatient", text=text)
    assert "0JH60WZ" in [p.code for p in result.proposals if p.system == PCS], [p.code for p in result.proposals]
