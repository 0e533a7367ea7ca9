"""Extraction components added on top of the lexicon: abbreviation resolution, the procedure
recognizer, the entity linker (ranked ICD-10 candidates), and the eval/bench commands."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mrt_eval.extract.procedures import load_dev, score
from pipeline.extract.pipeline import extract, shared_extractor


def by_text(entities):
    return {e.text: e for e in entities}


# ------------------------------------------------------------------ abbreviations
def test_ambiguous_abbreviation_resolved_by_context():
    ents = by_text(extract("CTA of the chest confirmed PE. Started heparin drip."))
    assert ents["PE"].label == "PROBLEM" and ents["PE"].long_form == "pulmonary embolism"
    assert ents["PE"].abbreviation_senses == []
    ents = by_text(extract("Echocardiogram shows severe MS with a mean gradient of 12 across the mitral valve."))
    assert ents["MS"].long_form == "mitral stenosis"


def test_abbreviation_that_is_not_a_finding_is_dropped():
    ents = by_text(extract("Saturating 95% on RA. PE: lungs clear, heart regular rate, abdomen soft."))
    assert "RA" not in ents and "PE" not in ents


def test_unresolved_abbreviation_is_flagged_not_guessed():
    ents = by_text(extract("MS is stable."))
    ms = ents["MS"]
    assert ms.long_form is None
    assert set(ms.abbreviation_senses) == {"multiple sclerosis", "mitral stenosis", "morphine sulfate"}
    assert ms.candidates == []  # no code candidates for a mention whose meaning is unknown


def test_lexicon_abbreviations_and_in_text_definitions():
    ents = by_text(extract("Admitted with NSTEMI. History of CHF. s/p CABG."))
    assert ents["NSTEMI"].long_form == "non-ST elevation myocardial infarction"
    assert ents["CHF"].historical and ents["CABG"].label == "PROCEDURE" and ents["CABG"].historical
    # defined in the text (scispaCy's detector): later short forms take the long form's label and words
    text = "She has hepatic encephalopathy (HE). Lactulose was increased and HE improved."
    he = [e for e in extract(text) if e.text == "HE"]
    assert len(he) == 2 and all(e.label == "PROBLEM" and e.long_form == "hepatic encephalopathy" for e in he)


# ------------------------------------------------------------------ procedures
@pytest.mark.parametrize(
    "text, expected",
    [
        ("PROCEDURE PERFORMED: Right carpal tunnel release.", "Right carpal tunnel release"),
        ("Excision of left breast mass and revision of scar.", "Excision of left breast mass"),
        ("Laparoscopic repair of incisional hernia.", "Laparoscopic repair of incisional hernia"),
        ("Total abdominal hysterectomy and bilateral salpingo-oophorectomy.", "bilateral salpingo-oophorectomy"),
        (
            "Open reduction internal fixation of the left distal radius fracture.",
            "Open reduction internal fixation of the left distal radius fracture",
        ),
        ("She underwent incision and drainage of the abscess.", "incision and drainage of the abscess"),
    ],
)
def test_procedure_phrases(text, expected):
    procs = [e.text for e in extract(text) if e.label == "PROCEDURE"]
    assert expected in procs


def test_coordinated_procedures_are_separate_and_steps_are_not_procedures():
    procs = [
        e.text
        for e in extract("Tonsillectomy and adenoidectomy. A skin incision was made and closure was done.")
        if e.label == "PROCEDURE"
    ]
    assert procs == ["Tonsillectomy", "adenoidectomy"]


def test_procedure_dev_set_is_large_enough_and_consistent():
    docs = load_dev()
    mentions = [(d["text"], s, e, t) for d in docs for s, e, t in d["procedures"]]
    assert len(mentions) >= 100
    assert all(text[s:e] == t for text, s, e, t in mentions)


def test_procedure_scoring():
    res = score([[(0, 5), (10, 20)]], [[(0, 5), (12, 18), (30, 31)]])
    assert (res["exact"]["tp"], res["exact"]["fp"], res["exact"]["fn"]) == (1, 2, 1)
    assert (res["overlap"]["tp"], res["overlap"]["fp"], res["overlap"]["fn"]) == (2, 1, 0)


# ------------------------------------------------------------------ linking
COMMON_DIAGNOSES = [
    ("essential hypertension", "I10"),
    ("type 2 diabetes mellitus", "E11.9"),
    ("community acquired pneumonia", "J18.9"),
    ("acute myocardial infarction", "I21.9"),
    ("atrial fibrillation", "I48.91"),
    ("congestive heart failure", "I50.9"),
    ("COPD", "J44.9"),
    ("urinary tract infection", "N39.0"),
    ("major depressive disorder", "F32.9"),
    ("hypothyroidism", "E03.9"),
    ("gastroesophageal reflux disease", "K21.9"),
    ("acute kidney injury", "N17.9"),
    ("asthma", "J45.909"),
    ("hyperlipidemia", "E78.5"),
    ("iron deficiency anemia", "D50.9"),
    ("cellulitis of left lower leg", "L03.116"),
    ("low back pain", "M54.50"),
    ("obstructive sleep apnea", "G47.33"),
    ("BPH", "N40.0"),
    ("chest pain", "R07.9"),
]


def test_linker_ranks_the_right_code_in_its_top_three():
    texts = [f"Assessment: {mention}." for mention, _ in COMMON_DIAGNOSES]
    misses = []
    for (mention, code), doc in zip(COMMON_DIAGNOSES, shared_extractor().nlp.pipe(texts)):
        ent = next(e for e in doc.ents if e.text == mention)
        top3 = [c for c, _ in ent._.kb_candidates[:3]]
        if code not in top3:
            misses.append((mention, code, top3))
    assert not misses


def test_linker_candidates_reach_the_entity_and_procedures_get_pcs_codes():
    ents = by_text(extract("Laparoscopic cholecystectomy for acute cholecystitis."))
    proc, dx = ents["Laparoscopic cholecystectomy"], ents["acute cholecystitis"]
    assert proc.candidates and all(len(code) == 7 for code, _ in proc.candidates)  # ICD-10-PCS
    assert dx.candidates[0][0].startswith("K81") and dx.candidates[0][1] >= dx.candidates[-1][1]


def test_linker_shares_the_coders_index():
    from pipeline.code.coder import Coder
    from pipeline.extract.pipeline import shared_extractor

    linker = shared_extractor().nlp.get_pipe("mrt_linker")
    assert linker.index_for("ICD-10-CM") is Coder().index("ICD-10-CM")


# ------------------------------------------------------------------ commands
def test_eval_context_command_on_a_slice():
    from mrt_eval.extract.ner_corpora import shared_data_root
    from pipeline.cli import app

    if not (shared_data_root() / "negex").is_dir():
        pytest.skip("NegEx gold set not available (../shared/data)")
    result = CliRunner().invoke(app, ["eval", "context", "--split", "dev", "--limit", "300", "--json"])
    assert result.exit_code == 0, result.output
    neg = json.loads(result.stdout.strip().splitlines()[-1])["negation"]
    assert neg["n"] == 300 and neg["accuracy"] >= 0.94 and neg["ppv"] > 0.845 and neg["sensitivity"] > 0.778


def test_eval_procedures_command():
    from pipeline.cli import app

    result = CliRunner().invoke(app, ["eval", "procedures", "--split", "test", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["gold"] >= 50 and report["overlap"]["f1"] > 0.7


def test_bench_extract_command_on_a_few_reports(tmp_path):
    from mrt_eval.extract.ner_corpora import shared_data_root
    from pipeline.cli import app

    if not (shared_data_root() / "mtsamples" / "mtsamples.csv").is_file():
        pytest.skip("MTSamples not available (../shared/data)")
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(app, ["bench", "extract", "--docs", "5", "--json", str(out)])
    assert result.exit_code == 0, result.output
    figures = json.loads(out.read_text())
    assert figures["documents"] == 5 and figures["words"] > 500 and figures["words_per_cpu_s"] > 0
    assert "mrt_linker" in figures["component_s"] and "mrt_ner" in figures["component_s"]


# ------------------------------------------------------------------ assertions through the whole pipeline
@pytest.mark.parametrize(
    "text, concept, expected",
    [
        ("No evidence of pneumonia on the chest x-ray.", "pneumonia", {"negated"}),
        ("Pulmonary embolism was ruled out.", "Pulmonary embolism", {"negated"}),
        ("She denies fever, chills, nausea or vomiting.", "vomiting", {"negated"}),
        ("She denies fever, chills, nausea or vomiting.", "fever", {"negated"}),
        ("Family history of breast cancer in her mother.", "breast cancer", {"family"}),
        ("History of myocardial infarction in 2015.", "myocardial infarction", {"historical"}),
        ("Possible hepatotoxicity from isoniazid.", "hepatotoxicity", {"uncertain"}),  # a span from the NER model
        ("Return if she develops a rash.", "rash", {"hypothetical"}),
        ("Assessment: acute cholecystitis.", "acute cholecystitis", set()),
    ],
)
def test_assertions_with_the_product_pipeline(text, concept, expected):
    ents = by_text(extract(text))
    e = ents[concept]
    got = {f for f in ("negated", "uncertain", "historical", "hypothetical", "family") if getattr(e, f)}
    assert got == expected, (text, e.cues)


# ------------------------------------------------------------------ the lexicon
def test_the_shipped_lexicon_is_what_its_script_builds(tmp_path):
    """``scripts/build_lexicon.py`` rebuilds ``terms.tsv.gz`` byte for byte from the code sets and the
    hand-kept lists, so a term added to ``curated_terms.tsv`` ships only with the file rebuilt."""
    import subprocess
    import sys

    from conftest import ROOT, SHARED_DATA

    source = SHARED_DATA / "icd10"
    if not source.is_dir():
        pytest.skip("the code-set sources (../shared/data/icd10) are not here")
    out = tmp_path / "terms.tsv.gz"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_lexicon.py"), "--source", str(source), "--out", str(out)], check=True
    )
    assert out.read_bytes() == (ROOT / "pipeline" / "extract" / "data" / "terms.tsv.gz").read_bytes()


def test_a_vitamin_named_by_its_letter_is_a_finding():
    ents = extract("ASSESSMENT:\n1.  B12 deficiency.\n2.  Osteoporosis.")
    assert "B12 deficiency" in by_text(ents), [e.text for e in ents]


# ------------------------------------------------------------------ diagnosis lists
def test_a_diagnosis_list_item_no_recognizer_marked_is_read_through_the_index():
    # "Diverticula": a spelling under the Index's "Diverticulosis" (K57.90) that no recognizer marks in prose
    text = (
        "HOSPITAL COURSE: He did well. Diverticula was mentioned by his sister.\n"
        "DISCHARGE DIAGNOSES:\n1.  End-stage renal disease, on hemodialysis.\n3.  Diverticula.\n"
        "7.  Protein malnourishment.\n8.  Doing well overall."
    )
    ents = extract(text)
    listed = {e.text: e for e in ents if e.section == "discharge_diagnosis"}
    assert {"Diverticula", "Protein malnourishment"} <= listed.keys(), [e.text for e in ents]
    assert all(e.label == "PROBLEM" and not e.negated for e in (listed["Diverticula"], listed["Protein malnourishment"]))
    # prose outside a diagnosis heading, an item the Index does not read word for word, and the heading: no span
    assert not any(e.text == "Diverticula" and e.section == "hospital_course" for e in ents)
    assert not any("Doing well" in e.text or "DIAGNOSES" in e.text for e in ents)


def test_a_diagnosis_list_item_taken_for_a_drug_is_a_diagnosis_when_the_index_names_it():
    ents = extract("ASSESSMENT:\n1.  Atrial fibrillation.\n2.  Coagulopathy, induced by Coumadin.\n3.  Coumadin.")
    labels = {(e.text, e.label) for e in ents}
    assert ("Coagulopathy", "PROBLEM") in labels, labels
    assert ("Coumadin", "MEDICATION") in labels and ("Coumadin", "PROBLEM") not in labels  # a drug stays a drug
