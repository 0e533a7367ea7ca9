"""Tests for the ``mrt_sections`` and ``mrt_context`` spaCy components."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Span

import pipeline.extract.context  # noqa: F401  (registers mrt_context)
import pipeline.extract.sections  # noqa: F401  (registers mrt_sections)
from pipeline.extract.context import DEFAULT_RULES, load_rules

ROOT = Path(__file__).resolve().parents[2]
NEGEX_DIR = Path("/work/shared/data/negex")

TERMS = [
    "chest pain",
    "pneumonia",
    "fever",
    "chills",
    "night sweats",
    "pain",
    "colon cancer",
    "myocardial infarction",
    "pulmonary embolism",
    "hypertension",
    "diabetes",
    "breast cancer",
    "asthma",
    "cough",
    "appendectomy",
    "shortness of breath",
    "bacteremia",
]


@pytest.fixture(scope="module")
def nlp() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PROBLEM", "pattern": [{"LOWER": w} for w in t.split()]} for t in TERMS])
    nlp.add_pipe("mrt_sections")
    nlp.add_pipe("mrt_context")
    return nlp


def ents(nlp: Language, text: str) -> dict[str, Span]:
    return {e.text.lower(): e for e in nlp(text).ents}


def flags(span: Span) -> set[str]:
    return {f for f in ("negated", "uncertain", "historical", "hypothetical", "family") if getattr(span._, f)}


@pytest.mark.parametrize(
    ("text", "concept", "expected"),
    [
        ("Patient denies chest pain.", "chest pain", {"negated"}),
        ("No evidence of pneumonia.", "pneumonia", {"negated"}),
        ("Pneumonia was ruled out.", "pneumonia", {"negated"}),
        ("There is no increase in pain.", "pain", set()),
        ("Family history of colon cancer in his father.", "colon cancer", {"family"}),
        ("History of myocardial infarction in 2015.", "myocardial infarction", {"historical"}),
        ("Possible pneumonia.", "pneumonia", {"uncertain"}),
        ("We will rule out pulmonary embolism.", "pulmonary embolism", {"uncertain"}),
        ("Return if she develops fever.", "fever", {"hypothetical"}),
        ("The patient has chest pain.", "chest pain", set()),
        ("She was found to have bacteremia and no pneumonia.", "bacteremia", set()),
        ("Pulmonary embolism cannot be excluded.", "pulmonary embolism", {"uncertain"}),
        ("Pulmonary embolism has not been ruled out.", "pulmonary embolism", {"uncertain"}),
        ("Breast cancer in her mother.", "breast cancer", {"family"}),
        ("He doesn't have chest pain.", "chest pain", {"negated"}),
        # a negation ends where a new clause of the history begins
        ("A man without known allergies, with a history of hypertension and asthma.", "asthma", {"historical"}),
        ("No fever, presenting with cough.", "cough", set()),
        ("No fever, presenting with cough.", "fever", {"negated"}),
        # "was negative for" reaches forward, past "was negative" (backward, the earlier match)
        ("The serology was negative for pneumonia.", "pneumonia", {"negated"}),
        ("A breast mass without ruling out breast cancer.", "breast cancer", {"uncertain"}),
        # a hedged finding is uncertain (Guidelines II.H, "other similar terms"); a plain one is not
        ("There appears to be pneumonia in the right lower lobe.", "pneumonia", {"uncertain"}),
        ("This seems to be asthma.", "asthma", {"uncertain"}),
        ("There is pneumonia in the right lower lobe.", "pneumonia", set()),
        # a consent discussion's risks may happen; risk factors are the patient's conditions
        ("The risks such as infection, bleeding and pneumonia were discussed.", "pneumonia", {"hypothetical"}),
        ("Risk factors include hypertension and diabetes.", "hypertension", set()),
        # what may yet be needed is not done
        ("We discussed the possible need for an appendectomy.", "appendectomy", {"hypothetical"}),
        ("He had an appendectomy.", "appendectomy", set()),
        # imaging that shows an earlier operation
        ("Postsurgical changes compatible with the appendectomy are noted.", "appendectomy", {"historical"}),
        # the present illness ends a history's reach; a long history is the condition's course so far
        ("A girl with no relevant past medical history presented with cough.", "cough", set()),
        ("He has a history of hypertension and presents with chest pain.", "chest pain", set()),
        ("He has a history of hypertension and presents with chest pain.", "hypertension", {"historical"}),
        ("She has a long history of asthma since childhood.", "asthma", set()),
        # an earlier stay's condition is past; this stay's is not
        ("She recently had an admission for pneumonia and improved.", "pneumonia", {"historical"}),
        # a past medical history told in the prose
        (
            "A woman whose past medical condition includes hypertension, asthma, and breast cancer.",
            "breast cancer",
            {"historical"},
        ),
        ("Past medical history is significant for diabetes and pulmonary embolism.", "pulmonary embolism", {"historical"}),
        ("She was admitted for pneumonia.", "pneumonia", set()),
        # a relative's clause stays the relative's; "who" still ends a negation
        ("Also a paternal grandfather who had colon cancer.", "colon cancer", {"family"}),
        ("Her grandmother, who was diagnosed with breast cancer at 86.", "breast cancer", {"family"}),
        ("No fever in a man who now has cough.", "cough", set()),
        # a relative who cares for the patient does not make the finding theirs
        ("He was discharged in the care of his mother with a diagnosis of cough.", "cough", set()),
        # a new clause with its own verb ends a denial
        ("No fever and has a cough.", "cough", set()),
        ("No fever or chills and has a cough.", "chills", {"negated"}),
        # a condition dated by a year is a past episode; one "since" a year goes on
        ("Impression: breast cancer in 1992.", "breast cancer", {"historical"}),
        ("Breast cancer since 2005, on tamoxifen.", "breast cancer", set()),
        # ... or by a past month
        ("Additional diagnoses: pneumonia in 11/07.", "pneumonia", {"historical"}),
        ("Impression: breast cancer in March 2007.", "breast cancer", {"historical"}),
        ("He had an appendectomy performed in August of 2003, by Dr. S.", "appendectomy", {"historical"}),
        ("He had an appendectomy performed in the emergency room.", "appendectomy", set()),
        ("She had an appendectomy done in 1999.", "appendectomy", {"historical"}),
        ("Impression: pneumonia in 3/4 of the lobe.", "pneumonia", set()),
        # the cause an uncertain statement names is uncertain too; a denial still ends at it
        ("The cough could be secondary to pneumonia.", "pneumonia", {"uncertain"}),
        ("The cough could be secondary to pneumonia.", "cough", set()),
        ("Rule out pulmonary embolism due to hypertension.", "hypertension", {"uncertain"}),
        ("No fever secondary to pneumonia.", "pneumonia", set()),
    ],
)
def test_assertion_flags(nlp: Language, text: str, concept: str, expected: set[str]) -> None:
    span = ents(nlp, text)[concept]
    assert flags(span) == expected, (text, span._.context_cues)


def test_negated_list(nlp: Language) -> None:
    found = ents(nlp, "She denies fever, chills, or night sweats.")
    assert {k for k, v in found.items() if v._.negated} == {"fever", "chills", "night sweats"}
    assert found["night sweats"]._.context_cues == ["denies"]


def test_termination(nlp: Language) -> None:
    found = ents(nlp, "She has hypertension but no diabetes.")
    assert not found["hypertension"]._.negated
    assert found["diabetes"]._.negated
    found = ents(nlp, "No fever, but reports chest pain.")
    assert found["fever"]._.negated and not found["chest pain"]._.negated


def test_scope_stays_in_sentence(nlp: Language) -> None:
    found = ents(nlp, "No fever. Chest pain since yesterday.")
    assert found["fever"]._.negated and not found["chest pain"]._.negated


def test_cues_and_defaults(nlp: Language) -> None:
    span = ents(nlp, "The patient has asthma.")["asthma"]
    assert span._.context_cues == [] and not flags(span)


def test_dictated_sections(nlp: Language) -> None:
    text = (
        "History of present illness. The patient is a 50-year-old man with cough. "
        "He says the patient's family history is unremarkable. "
        "Past medical history, significant for asthma. Past surgical history, appendectomy. "
        "Family history. Father had colon cancer. Assessment and plan. Pneumonia."
    )
    doc = nlp(text)
    names = [name for _, _, name in doc._.sections]
    assert names == ["hpi", "past_medical_history", "past_surgical_history", "family_history", "assessment_and_plan"]
    assert doc._.sections[0][0] == 0 and doc._.sections[-1][1] == len(text)
    by = {e.text.lower(): e for e in doc.ents}
    assert by["cough"]._.section == "hpi" and not flags(by["cough"])
    assert by["asthma"]._.section == "past_medical_history" and by["asthma"]._.historical
    assert "section:past_medical_history" in by["asthma"]._.context_cues
    assert by["appendectomy"]._.historical
    assert by["colon cancer"]._.family
    assert by["pneumonia"]._.section == "assessment_and_plan" and not flags(by["pneumonia"])


def test_review_of_symptoms_is_the_review_of_systems(nlp: Language) -> None:
    doc = nlp("HISTORY OF PRESENT ILLNESS: Cough.\nREVIEW OF SYMPTOMS: Positive for fever.\nASSESSMENT: Pneumonia.")
    assert [n for _, _, n in doc._.sections] == ["hpi", "review_of_systems", "assessment"]
    assert {e.text.lower(): e for e in doc.ents}["fever"]._.section == "review_of_systems"


def test_a_summarys_pathology_is_its_own_section_not_the_labs(nlp: Language) -> None:
    doc = nlp("LABORATORY: PSA 32.1.\nPATHOLOGY: Prostate biopsy: adenocarcinoma of the prostate.\nPLAN: Radiation.")
    assert [n for _, _, n in doc._.sections] == ["labs", "pathology", "plan"]


def test_a_heading_whose_line_break_a_transcript_wrote_as_a_comma(nlp: Language) -> None:
    doc = nlp("SOCIAL HISTORY: She lives in assisted living.  ,MEDICATIONS, Dilantin 300 mg daily. Aspirin.")
    assert [n for _, _, n in doc._.sections] == ["social_history", "medications"]
    # a word in capitals inside a sentence is no heading
    doc = nlp("SOCIAL HISTORY: She lives alone, MEDICATIONS, and food are brought in.")
    assert [n for _, _, n in doc._.sections] == ["social_history"]


def test_the_one_letter_headings_of_a_soap_note(nlp: Language) -> None:
    text = "S -, A 50-year-old man with cough.\nO - ,Lungs clear.\nA - ,1.  Asthma.\nP: Albuterol.\n"
    doc = nlp(text)
    assert [n for _, _, n in doc._.sections] == ["hpi", "physical_exam", "assessment", "plan"]
    assert {e.text.lower(): e for e in doc.ents}["asthma"]._.section == "assessment"
    # a letter heading alone is none: "P: 72" is a pulse, "A 50-year-old" a sentence
    doc = nlp("VITAL SIGNS:\nT: 98.6\nP: 72\nA 50-year-old man with cough.\n")
    assert [n for _, _, n in doc._.sections] == ["vital_signs"]


def test_an_operative_reports_operations_are_its_procedures(nlp: Language) -> None:
    doc = nlp("POSTOPERATIVE DIAGNOSIS: Hernia.\nOPERATIONS: Herniorrhaphy.\nANESTHESIA: General.\n")
    assert [n for _, _, n in doc._.sections] == ["postoperative_diagnosis", "procedure", "anesthesia"]
    doc = nlp("HISTORY OF PRESENT ILLNESS: Cough.\nOPERATIONS: Appendectomy.\n")  # a history's are past surgery
    assert [n for _, _, n in doc._.sections] == ["hpi", "past_surgical_history"]
    doc = nlp("POSTOPERATIVE DIAGNOSIS: Hernia.\nOPERATIONS PERFORMED: Herniorrhaphy.\n")
    assert [n for _, _, n in doc._.sections] == ["postoperative_diagnosis", "procedure"]


def test_written_sections_and_family_section(nlp: Language) -> None:
    text = "FAMILY HISTORY: Mother with breast cancer. The patient has diabetes.\nSOCIAL HISTORY: No tobacco.\nA/P: Asthma."
    doc = nlp(text)
    assert [n for _, _, n in doc._.sections] == ["family_history", "social_history", "assessment_and_plan"]
    by = {e.text.lower(): e for e in doc.ents}
    assert by["breast cancer"]._.family and by["breast cancer"]._.section == "family_history"
    assert not by["diabetes"]._.family  # the sentence is about the patient
    assert by["asthma"]._.section == "assessment_and_plan" and not flags(by["asthma"])


def test_family_section_entity_without_relative(nlp: Language) -> None:
    span = ents(nlp, "Family history: colon cancer.")["colon cancer"]
    assert span._.family and span._.context_cues == ["section:family_history"]


def test_untitled_and_prose_header(nlp: Language) -> None:
    doc = nlp("He reports that his past medical history is notable for asthma.")
    assert doc._.sections == [(0, len(doc.text), "untitled")]
    assert doc.ents[0]._.section == "untitled"
    doc = nlp("Exam was normal. Plan is to discharge.")
    assert [n for _, _, n in doc._.sections] == ["untitled"]


def test_rules_file_is_self_contained() -> None:
    rules = load_rules(DEFAULT_RULES)
    assert len(rules) > 500
    literals = {(r.literal, r.category, r.direction) for r in rules}
    assert ("no increase", "negated", "pseudo") in literals
    assert ("denies", "negated", "forward") in literals
    assert ("but", "all", "terminate") in literals


def test_config_overrides() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("entity_ruler").add_patterns([{"label": "P", "pattern": "cough"}])
    nlp.add_pipe("mrt_context", config={"max_scope": 2, "list_scope": False})
    doc = nlp("No fever, chills, nausea, vomiting or cough.")
    assert not doc.ents[0]._.negated  # out of the 2-word scope
    assert nlp.get_pipe("mrt_context").max_scope == 2
    listed = spacy.blank("en")
    listed.add_pipe("sentencizer")
    listed.add_pipe("entity_ruler").add_patterns([{"label": "P", "pattern": "cough"}])
    listed.add_pipe("mrt_context", config={"max_scope": 2})
    assert listed("No fever, chills, nausea, vomiting or cough.").ents[0]._.negated  # the list carries the negation


def _load_eval():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("eval_context", ROOT / "scripts" / "eval_context.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["eval_context"] = module
    spec.loader.exec_module(module)
    return module


def test_negex_gold_slice() -> None:
    gold = NEGEX_DIR / "annotations-reports-1-60.tsv"
    if not gold.exists():
        pytest.skip(f"NegEx gold set not available at {gold}; evaluation test skipped")
    ev = _load_eval()
    rows = ev.load_gold(gold)[:200]
    res = ev.evaluate(rows)
    neg = res["negation"]
    assert neg["n"] == 200
    assert neg["accuracy"] >= 0.94 and neg["ppv"] > 0.845 and neg["sensitivity"] > 0.778, neg


def test_a_review_of_systems_list_of_negatives(nlp: Language) -> None:
    """ "Negative bleeding, negative lymph node enlargement, negative bruisability": each item after ",
    negative" is negated; a "gram-negative" organism negates nothing."""
    found = ents(nlp, "REVIEW OF SYSTEMS: Fever, negative chills, negative night sweats, negative cough.")
    assert {k for k, e in found.items() if e._.negated} == {"chills", "night sweats", "cough"}
    assert not found["fever"]._.negated
    found = ents(nlp, "Blood cultures grew gram-negative rods. She has gram negative bacteremia.")
    assert not found["bacteremia"]._.negated
