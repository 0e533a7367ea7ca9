"""Extraction through the real spaCy pipeline (terminology, scispaCy abbreviations,
sections, ConText assertions, audio time)."""

from __future__ import annotations

from pipeline.extract.pipeline import extract, shared_extractor
from pipeline.transcribe.types import Segment, Transcript, Word


def by_text(entities):
    return {e.text.lower(): e for e in entities}


def test_pipeline_components_in_order():
    assert shared_extractor().nlp.pipe_names == [
        "sentencizer",
        "abbreviation_detector",
        "mrt_ner",
        "mrt_terminology",
        "mrt_procedures",
        "mrt_tobacco",
        "mrt_injury_statements",
        "mrt_external_causes",
        "mrt_social_history",
        "mrt_abbreviations",
        "mrt_sections",
        "mrt_diagnosis_lists",
        "mrt_context",
        "mrt_linker",
        "mrt_audio_time",
    ]


def test_negated_and_family_history_findings(sample):
    _, text, expected = sample("06")
    ents = by_text(extract(text))
    for finding in expected["negated"]:
        assert ents[finding].negated, finding
    for fh in expected["family_history"]:
        e = ents[fh["finding"]]
        assert e.family and not e.negated, fh
    assert ents["acute bronchitis"].asserted_present
    assert ents["acute bronchitis"].section in {"assessment_and_plan", "assessment"}
    assert ents["colon cancer"].section == "family_history"


def test_dictated_header_between_commas_ends_a_negation_scope():
    # Whisper often writes a dictated header mid-sentence, between commas.
    text = "She also denies fever or shortness of breath, family history, family history of colon cancer in her father."
    ents = by_text(extract(text))
    assert ents["fever"].negated and ents["shortness of breath"].negated
    assert ents["colon cancer"].family and not ents["colon cancer"].negated
    assert ents["colon cancer"].section == "family_history"
    # prose with one-word header names in a list stays prose
    ents = by_text(extract("No fever, plan, or cough."))
    assert ents["cough"].negated


def test_labels_history_uncertainty_and_abbreviations():
    text = (
        "Past medical history: History of myocardial infarction. "
        "Assessment: Possible pneumonia. She has COPD and type 2 diabetes mellitus on metformin. "
        "Status post laparoscopic cholecystectomy. Hemoglobin A1c ordered."
    )
    ents = by_text(extract(text))
    assert ents["myocardial infarction"].historical
    assert ents["pneumonia"].uncertain and not ents["pneumonia"].negated
    assert ents["copd"].long_form == "chronic obstructive pulmonary disease" and ents["copd"].label == "PROBLEM"
    assert ents["type 2 diabetes mellitus"].label == "PROBLEM" and ents["type 2 diabetes mellitus"].asserted_present
    assert ents["metformin"].label == "MEDICATION"
    assert ents["laparoscopic cholecystectomy"].label == "PROCEDURE"
    assert ents["hemoglobin a1c"].label == "TEST"


def test_cardiac_and_diabetes_abbreviations_are_findings_in_their_long_form():
    ents = by_text(extract("IMPRESSION: 1. PAF due to hypertension. 2. LVH. 3. NIDDM. 4. DJD of the knees."))
    assert ents["paf"].long_form == "paroxysmal atrial fibrillation"
    assert ents["lvh"].long_form == "left ventricular hypertrophy" and ents["lvh"].label == "PROBLEM"
    assert ents["niddm"].long_form == "non-insulin-dependent diabetes mellitus"


def test_entities_carry_audio_time_of_their_words():
    words1 = [Word(0.0, 0.5, "Patient"), Word(0.5, 0.9, "denies"), Word(0.9, 1.3, "chest", 0.95), Word(1.3, 1.8, "pain.", 0.4)]
    words2 = [
        Word(2.0, 2.6, "Essential"),
        Word(2.6, 3.4, "hypertension."),
    ]
    t = Transcript.from_segments(
        [Segment(0, 0.0, 1.8, "Patient denies chest pain.", words1), Segment(1, 2.0, 3.4, "Essential hypertension.", words2)],
        language="en",
        model="m",
        backend="b",
        duration=3.5,
    )
    ents = by_text(extract(t.text, t))
    cp = ents["chest pain"]
    assert (cp.audio_start, cp.audio_end, cp.word_prob) == (0.9, 1.8, 0.4)
    assert cp.negated
    eh = ents["essential hypertension"]
    assert (eh.audio_start, eh.audio_end) == (2.0, 3.4)


def test_icd_wording_without_complications_negates_nothing_after_it():
    # as Whisper hears it: no sentence punctuation between diagnoses
    text = "Assessment and plan Type 2 diabetes mellitus without complications, controlled on metformin Essential hypertension"
    ents = by_text(extract(text))
    assert not ents["type 2 diabetes mellitus"].negated and not ents["essential hypertension"].negated


def test_misheard_clinical_words_get_their_lexicon_form():
    # as tiny.en wrote sample 03; the evidence keeps the words as transcribed
    ents = by_text(extract("Procedure. Laperoscopic colesistectomy. Preoperative diagnosis. Acute calculus colesistitis."))
    proc = ents["laperoscopic colesistectomy"]
    assert proc.label == "PROCEDURE" and proc.long_form == "laparoscopic cholecystectomy"
    dx = next(e for e in ents.values() if e.text.endswith("colesistitis"))
    assert dx.label == "PROBLEM" and dx.long_form.lower().endswith("cholecystitis")
    # a correction inside a longer span is kept in the span's lexicon form
    ents = by_text(extract("Diagnosis: diabetes with diabetic nefropathy."))
    dx = next(e for e in ents.values() if e.text.endswith("nefropathy"))
    assert dx.long_form.lower().endswith("diabetic nephropathy"), dx
    # correctly spelled words the lexicon knows are never "corrected"
    ents = by_text(extract("Severe aortic stenosis. Subdural hematoma."))
    assert all(e.long_form is None for e in ents.values())


def test_an_organ_dictated_as_two_words_is_one_organ():
    """ "Gall Bladder Disease" is a disease of the gallbladder, not of the (urinary) bladder."""
    found = {e.text: e for e in extract("IMPRESSION: Gall Bladder Disease. Bladder distension.")}
    assert "Gall Bladder Disease" in found, list(found)
    assert found["Gall Bladder Disease"].query_text.lower() == "gallbladder disease"
