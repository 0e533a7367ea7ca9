"""The coding rules on a tiny candidate index (a few dozen aliases built in a fixture, as scispaCy's
linker tests use a tiny knowledge base): no full index build, no extraction model, no re-ranker.
The rules still read the shipped code-set tables (titles, the Alphabetic Index)."""

from __future__ import annotations

import pytest

from pipeline.code.coder import Coder, guideline_required
from pipeline.code.lookup._exact import ExactIndex
from pipeline.code.lookup.candidates import CodeIndex
from pipeline.code.lookup.codeset import get_codeset
from pipeline.code.rules import specificity
from pipeline.code.types import CM, PCS, ReasonKind
from pipeline.extract.types import Entity
from pipeline.settings import Settings

ALIASES = {
    CM: {
        "type 2 diabetes mellitus": "E11.9",
        "type 2 diabetes": "E11.9",
        "diabetes mellitus type 2": "E11.9",
        "chronic kidney disease": "N18.9",
        "chronic kidney disease stage 3a": "N18.31",
        "chronic kidney disease stage 3": "N18.30",
        "essential hypertension": "I10",
        "hypertension": "I10",
        "congestive heart failure": "I50.9",
        "heart failure": "I50.9",
        "fracture of distal radius": "S52.509A",
        "distal radius fracture": "S52.509A",
        "bunion": "M21.619",
        "bunions": "M21.619",
        "bunion of unspecified foot": "M21.619",
        "fracture of left distal radius": "S52.502A",
        "fracture of right distal radius": "S52.501A",
        "breast cancer": "C50.919",
        "malignant neoplasm of breast": "C50.919",
        "pneumonia": "J18.9",
        "pneumonia unspecified organism": "J18.9",
        "myocardial infarction": "I21.9",
        "acute myocardial infarction": "I21.9",
        "chest pain": "R07.9",
        "chest pain unspecified": "R07.9",
        "cough": "R05.9",
        "acute bronchitis": "J20.9",
        "asthma": "J45.909",
        "chronic obstructive pulmonary disease": "J44.9",
        "copd": "J44.9",
    },
    PCS: {
        "laparoscopic cholecystectomy": "0FT44ZZ",
        "resection of gallbladder percutaneous endoscopic approach": "0FT44ZZ",
        "appendectomy": "0DTJ0ZZ",
        "resection of appendix open approach": "0DTJ0ZZ",
    },
}


class SmallIndexes:
    """Stands in for :class:`pipeline.code.lookup.indexes.CodeIndexes`: a tiny index per system."""

    def __init__(self, directory) -> None:
        cs = get_codeset()
        self.loaded = {}
        for system, entries in ALIASES.items():
            aliases = sorted(entries)
            index, kept = ExactIndex.fit(aliases, min_df=1)
            assert all(kept)
            describe = cs.cm_description if system == CM else cs.pcs_description
            self.loaded[system] = CodeIndex(
                system,
                directory,
                index,
                aliases,
                [(entries[a],) for a in aliases],
                {c: describe(c) or c for c in entries.values()},
            )

    def get(self, system: str) -> CodeIndex:
        return self.loaded[system]


@pytest.fixture(scope="module")
def coder(tmp_path_factory) -> Coder:
    return Coder(Settings(rerank=False), indexes=SmallIndexes(tmp_path_factory.mktemp("small-index")))


def mentions(text: str, *spans: tuple[str, str, dict]) -> list[Entity]:
    """Entities for the given (words, label, flags) found in ``text``."""
    out = []
    for words, label, flags in spans:
        start = text.index(words)
        out.append(Entity(start, start + len(words), words, label, **flags))
    return out


def by_code(result) -> dict:
    return {p.code: p for p in result.proposals + result.alternatives}


def test_the_small_index_is_what_the_coder_reads(coder):
    (cands,) = coder.index(CM).candidates(["type 2 diabetes"], k=3)
    assert cands[0].code == "E11.9" and cands[0].score == pytest.approx(1.0)
    assert coder.reranker is None  # Settings(rerank=False)


def test_negated_hypothetical_and_outpatient_uncertain_findings_are_not_coded(coder):
    text = "No chest pain. Rule out pneumonia. Watch for asthma."
    ents = mentions(
        text,
        ("chest pain", "SYMPTOM", {"negated": True}),
        ("pneumonia", "PROBLEM", {"uncertain": True}),
        ("asthma", "PROBLEM", {"hypothetical": True}),
    )
    result = coder.propose(ents, "outpatient", text)
    assert not result.proposals and not result.alternatives
    assert [s.text for s in result.skipped] == ["chest pain", "pneumonia", "asthma"]
    # inpatient: the uncertain diagnosis is coded as if established (Guidelines II.H), and says so
    inpatient = by_code(coder.propose(ents, "inpatient", text))
    assert set(inpatient) == {"J18.9"}
    assert inpatient["J18.9"].has(ReasonKind.UNCERTAIN_CODED_AS_ESTABLISHED)


def test_a_relatives_condition_becomes_its_family_history_code(coder):
    text = "Family history: mother had breast cancer."
    result = coder.propose(mentions(text, ("breast cancer", "PROBLEM", {"family": True})), "outpatient", text)
    codes = by_code(result)
    assert "C50.919" not in codes and "Z80.3" in codes
    (reason,) = [r for r in codes["Z80.3"].reasons if r.kind is ReasonKind.FAMILY_HISTORY]
    assert reason.codes == ("C50.919",)
    assert result.proposals[0].code == "Z80.3"  # family history codes are required whatever the score


def test_history_of_a_resolved_condition_is_its_personal_history_code(coder):
    text = "History of myocardial infarction."
    codes = by_code(coder.propose(mentions(text, ("myocardial infarction", "PROBLEM", {"historical": True})), "inpatient", text))
    assert "I25.2" in codes and not any(c.startswith("I21") for c in codes)
    assert codes["I25.2"].has(ReasonKind.PERSONAL_HISTORY)


def test_stated_laterality_makes_the_specific_code_and_a_missing_side_is_noted(coder):
    text = "Left distal radius fracture."
    (p,) = coder.propose(mentions(text, ("Left distal radius fracture", "PROBLEM", {})), "inpatient", text).proposals
    assert p.code == "S52.502A" and not p.has(ReasonKind.MISSING_LATERALITY)
    text = "Distal radius fracture."
    codes = by_code(coder.propose(mentions(text, ("Distal radius fracture", "PROBLEM", {})), "inpatient", text))
    assert codes["S52.509A"].has(ReasonKind.MISSING_LATERALITY)
    assert "missing: laterality" in codes["S52.509A"].rationale


def test_a_bilateral_condition_without_a_bilateral_code_is_coded_for_each_side(coder):
    # Guidelines I.B.13: M21.61- has right, left and unspecified foot, no bilateral code
    text = "Bilateral bunions."
    result = coder.propose(mentions(text, ("Bilateral bunions", "PROBLEM", {})), "outpatient", text)
    codes = by_code(result)
    assert {"M21.611", "M21.612"} <= set(codes) and "M21.619" not in {p.code for p in result.proposals}
    assert codes["M21.612"].has(ReasonKind.BOTH_SIDES) and codes["M21.611"].score == codes["M21.612"].score
    assert [ev.text for ev in codes["M21.612"].evidence] == ["Bilateral bunions"]
    # where the category has a bilateral code, that one code, however its title words the side
    assert specificity.lateral("H66.91", "chronic ear infections bilateral") == ("H66.93", None)
    assert specificity.other_side("H66.93", "chronic ear infections bilateral") is None
    text = "Left bunion."  # one side stated: that side only
    codes = by_code(coder.propose(mentions(text, ("Left bunion", "PROBLEM", {})), "outpatient", text))
    assert "M21.612" in codes and "M21.611" not in codes


def test_a_site_the_sentence_states_replaces_an_unspecified_site():
    assert specificity.stated_site("M54.10", "left cervical radiculopathy") == "M54.12"
    assert specificity.stated_site("M54.10", "lumbar radiculitis") == "M54.16"
    assert specificity.stated_site("M48.00", "spinal stenosis of the cervical spine") == "M48.02"
    assert specificity.stated_site("M54.10", "radiculopathy") is None  # no site stated: the code stays
    assert specificity.stated_site("I10", "hypertension, cervical") is None  # no unspecified site in its title


def test_a_finding_an_endoscopy_shows_is_in_the_organ_it_examines():
    """The Index reads the organ one level below the finding's entry (Diverticulosis, large intestine)."""
    sentence = "Colonoscopy did reveal diverticulosis as well as polyp, which was resected."
    assert specificity.examined_organ("diverticulosis", sentence) == "colon"
    assert specificity.examined_organ("polyp", sentence) == "colon"  # Polyp, colon, K63.5
    # no endoscope in the sentence, or the Index reads nothing more for the organ
    assert specificity.examined_organ("diverticulosis", "CT showed diverticulosis.") is None
    assert specificity.examined_organ("internal hemorrhoids", sentence) is None
    # two scopes in one sentence: no one organ
    assert specificity.examined_organ("ulcer", "EGD and colonoscopy and cystoscopy showed an ulcer.") is None


def test_diabetes_with_ckd_is_one_combination_code_keeping_the_stage(coder):
    text = "Type 2 diabetes with chronic kidney disease stage 3a."
    ents = mentions(text, ("Type 2 diabetes", "PROBLEM", {}), ("chronic kidney disease stage 3a", "PROBLEM", {}))
    result = coder.propose(ents, "inpatient", text)
    codes = by_code(result)
    assert "E11.22" in codes and "E11.9" not in codes, list(codes)
    e1122 = codes["E11.22"]
    assert e1122.has(ReasonKind.COMBINATION) and len(e1122.evidence) == 2
    kept = [r for r in e1122.reasons if r.kind is ReasonKind.KEPT_ALONGSIDE]
    assert kept and kept[0].codes == ("N18.31",)
    # both are required (the use-additional code with its combination code), so both are proposed
    assert {"E11.22", "N18.31"} <= {p.code for p in result.proposals}


def test_hypertension_with_heart_failure_is_presumed_linked(coder):
    text = "Hypertension. Congestive heart failure."
    ents = mentions(text, ("Hypertension", "PROBLEM", {}), ("Congestive heart failure", "PROBLEM", {}))
    first, _, _, _ = coder.first_pass(ents, "inpatient", text)
    codes = {p.code: p for p in first}
    assert "I11.0" in codes and "I10" not in codes, list(codes)
    assert codes["I11.0"].has(ReasonKind.COMBINATION)
    assert [r.codes for r in codes["I11.0"].reasons if r.kind is ReasonKind.KEPT_ALONGSIDE] == [("I50.-",)]
    # "use additional code ... I50.-": the heart failure code is required beside the combination code
    assert {"I11.0", "I50.9"} <= guideline_required(first)


def test_outpatient_procedures_are_alternatives_only(coder):
    text = "Procedure: Laparoscopic cholecystectomy."
    ents = mentions(text, ("Laparoscopic cholecystectomy", "PROCEDURE", {"section": "procedure"}))
    inpatient = coder.propose(ents, "inpatient", text)
    assert [p.code for p in inpatient.proposals] == ["0FT44ZZ"]
    outpatient = coder.propose(ents, "outpatient", text)
    assert "0FT44ZZ" not in [p.code for p in outpatient.proposals]
    moved = next(p for p in outpatient.alternatives if p.code == "0FT44ZZ")
    assert moved.reasons[-1].kind is ReasonKind.NOT_PROPOSED and "CPT/HCPCS" in moved.rationale


def test_the_rationale_is_the_reasons_rendered(coder):
    text = "Distal radius fracture."
    p = by_code(coder.propose(mentions(text, ("Distal radius fracture", "PROBLEM", {})), "inpatient", text))["S52.509A"]
    assert p.rationale == "; ".join(r.text for r in p.reasons)
    assert p.reasons[0].kind is ReasonKind.INDEX_MATCH and p.rationale.startswith('"Distal radius fracture" matches ')
    assert p.to_dict()["rationale"] == p.rationale and "reasons" not in p.to_dict()
