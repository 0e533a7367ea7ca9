"""Which documents the dictation decision model and the dictation filters treat as dictated notes."""

from pipeline.code.rank.dictation_calibration import is_dictation
from pipeline.extract.types import Entity


def _entity(section: str) -> Entity:
    return Entity(0, 4, "skin", "PROBLEM", section=section)


def test_a_note_under_section_headings_is_a_dictation():
    assert is_dictation([_entity("hpi"), _entity("assessment")])
    assert not is_dictation([_entity("untitled"), _entity("untitled")])


def test_a_template_of_body_system_headings_is_a_dictation():
    """A review-of-systems template's "GENITOURINARY:" and "SKIN:" are no section extraction names, but the
    note is laid out under headings all the same; a case report's prose is not."""
    template = "GENITOURINARY: , Normal. Negative for dysuria.\nSKIN: , Normal; Negative for rashes.\nMUSCULOSKELETAL: , Normal."
    assert is_dictation([_entity("untitled")], template)
    report = "A 45-year-old man presented with fever. Chest CT: bilateral infiltrates. He recovered."
    assert not is_dictation([_entity("untitled")], report)
