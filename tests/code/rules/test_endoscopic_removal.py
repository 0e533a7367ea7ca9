"""Polyps and lesions an endoscopy report narrates as removed, destroyed or biopsied
(pipeline.code.rules.endoscopic_removal), and the inspection they make part of the procedure
(guideline_filters.inspection_within_a_procedure)."""

from __future__ import annotations

from pipeline.code.rules.endoscopic_removal import narrated_procedures, segments_named
from pipeline.code.rules.guideline_filters import FilterContext, apply_filters
from pipeline.code.types import PCS, CodeProposal, Evidence, Reason, ReasonKind

COLONOSCOPY = "PROCEDURE: Colonoscopy.\nFINDINGS: The scope was advanced to the cecum. "


def codes(text: str) -> list[str]:
    return [p.code for p in narrated_procedures(text)]


def test_each_segment_and_root_operation_is_one_code():
    text = COLONOSCOPY + (
        "The first was a 7-mm sessile polyp in the mid transverse colon, removed with the snare. "
        "The second was a small lesion in the sigmoid colon, also removed with the snare and retrieved."
    )
    assert codes(text) == ["0DBL8ZZ", "0DBN8ZZ"]
    found = narrated_procedures(text)[0]
    assert text[found.start : found.end].startswith("The first was a 7-mm sessile polyp") and "B3.2a" in found.why


def test_a_verb_without_a_segment_reads_the_one_the_sentence_before_named():
    text = COLONOSCOPY + (
        "There were five very small polyps in the rectum. One was resected using the electrocautery snare "
        "and the other four were ablated using the snare and cautery."
    )
    assert codes(text) == ["0DBP8ZZ", "0D5P8ZZ"]  # Excision and Destruction of the rectum


def test_a_biopsy_is_diagnostic_and_the_body_part_key_names_the_segment():
    text = "PROCEDURE: EGD.\nFINDINGS: Mild gastritis. Biopsies were taken of the pyloric antrum."
    assert codes(text) == ["0DB78ZX"]  # Body Part Key: pyloric antrum, use Stomach, Pylorus
    assert segments_named("polyp at the hepatic flexure") == ["L"]  # use Transverse Colon
    assert segments_named("colonic polyps in the transverse colon and sigmoid colon") == ["L", "N"]
    assert segments_named("biopsies of gastric and colonic mucosa") == ["6", "E"]


def test_negated_past_and_non_endoscopic_words_code_nothing():
    assert codes(COLONOSCOPY + "No polyps were removed. The sigmoid colon was normal.") == []
    assert codes(COLONOSCOPY + "Polyps were removed from the sigmoid colon in 2005.") == []
    assert codes("HISTORY: A polyp was removed from the sigmoid colon.") == []  # no endoscopy in this report
    assert codes(COLONOSCOPY + "The sigmoid colon and rectum were normal.") == []


def pcs(code: str) -> CodeProposal:
    return CodeProposal(PCS, code, code, 0.9, [Evidence(0, 5, "words")], (Reason(ReasonKind.INDEX_MATCH, (), "why"),))


def test_the_inspection_is_part_of_a_procedure_through_the_same_approach():
    ctx = FilterContext("inpatient", rule_codes=frozenset({"0DJD8ZZ", "0DBN8ZZ", "0DJ08ZZ", "0DJ68ZZ"}))
    shown, moved = apply_filters([pcs("0DJD8ZZ"), pcs("0DBN8ZZ"), pcs("0DJ08ZZ")], ctx)
    # the colonoscopy's inspection is the polypectomy's; the upper endoscopy's is coded (B3.11a)
    assert [p.code for p in shown] == ["0DBN8ZZ", "0DJ08ZZ"]
    assert "B3.11a" in moved[0].rationale
    # through another approach (a laparoscopy beside the colonoscopy) the inspection stays (B3.11c)
    assert [p.code for p in apply_filters([pcs("0DJD8ZZ"), pcs("0DBN4ZZ")], ctx)[0]] == ["0DJD8ZZ", "0DBN4ZZ"]
