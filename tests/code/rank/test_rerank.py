"""The re-ranker: numpy tree walk equals scikit-learn, masking of findings the guidelines keep out,
the document-level model's evidence, and the shipped model's scores on real text."""

from __future__ import annotations

import numpy as np
import pytest

from mrt_eval.coding.metrics import ReliabilityBin, expected_calibration_error, level_key
from pipeline.code.rank.rerank import MODEL_PATH, gold_form, masked, mention_key
from pipeline.code.rank.trees import Isotonic, TreeEnsemble
from pipeline.code.types import CM, PCS, CodeProposal


def test_tree_ensemble_and_isotonic_equal_scikit_learn():
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.isotonic import IsotonicRegression

    rng = np.random.RandomState(0)
    x = rng.randn(600, 5)
    y = ((x[:, 0] + 0.5 * x[:, 1] ** 2 + 0.3 * rng.randn(600)) > 0.5).astype(int)
    model = HistGradientBoostingClassifier(max_iter=40, max_depth=4, random_state=0).fit(x, y)
    probe = rng.randn(200, 5) * 2
    assert np.allclose(TreeEnsemble.from_sklearn(model).predict_proba(probe), model.predict_proba(probe)[:, 1])
    iso = IsotonicRegression(out_of_bounds="clip").fit(model.predict_proba(x)[:, 1], y)
    p = rng.rand(50)
    assert np.allclose(Isotonic.from_sklearn(iso).predict(p), iso.predict(p))


def test_masking_keeps_offsets_and_blanks_spans():
    text = "No fever. Cough for two days."
    out = masked(text, [(3, 8)])
    assert len(out) == len(text) and "fever" not in out and out.endswith("Cough for two days.")
    assert masked(text, []) == text


def test_lexicon_keys_and_gold_forms():
    assert mention_key("Type-2  Diabetes!") == "type 2 diabetes"
    assert gold_form("R51.9", "R51") == "R51" and gold_form("R51.9", "R519") == "R51.9"
    assert gold_form("BW20ZZZ", "BW20") == "BW20"


def test_codiesp_2018_codes_match_their_fy2026_subcodes():
    # R51 (2018) became R51.0 / R51.9; CodiEsp wrote T14.90 without its 7th character
    assert level_key(CM, "R51.9", ("R51",), "full") == "R51"
    assert level_key(CM, "T14.90XA", ("T14.90",), "full") == "T14.90"
    assert level_key(CM, "E11.22", ("E11.2",), "full") == "E11.2"  # E11.2 is not billable: any subcode is it
    assert level_key(CM, "E11.22", ("E11.9",), "full") == "E11.22"
    assert level_key(PCS, "BW20ZZZ", ("BW20",), "full") == "BW20"


def test_expected_calibration_error():
    bins = [ReliabilityBin(0.0, 0.5, 10, 0.2, 0.1), ReliabilityBin(0.5, 1.0, 30, 0.9, 0.9)]
    assert expected_calibration_error(bins) == pytest.approx(10 * 0.1 / 40)
    assert expected_calibration_error([]) == 0.0


def test_document_model_learns_and_points_at_its_words():
    from pipeline.code.rank import doc_model

    texts = [f"patient with severe headache case {i}" for i in range(12)] + [
        f"fracture of the wrist after a fall {i}" for i in range(12)
    ]
    golds = [("R51",)] * 12 + [("S52.509",)] * 12
    dm = doc_model.fit(texts, golds)
    text = "She reports a severe headache since morning."
    p, v = dm.probabilities(text)
    j, k = dm.codes.index("R51"), dm.codes.index("S52.509")
    assert p[j] > p[k]
    q, _ = dm.probabilities("A fall on the outstretched hand: fracture of the wrist.")
    assert q[k] > q[j]
    ev = dm.evidence(text, v, j)
    # the words that weigh for R51 here (L1 picks among "severe", "headache" and their pair)
    assert ev and all(text[e.start : e.end] == e.text for e in ev)
    assert all(e.text.lower() in ("severe", "headache", "severe headache") for e in ev)


def test_similar_cases_vote_for_their_codes(monkeypatch):
    from pipeline.code.rank import neighbours

    texts = [f"acute appendicitis with abdominal pain, appendectomy performed, case {i}" for i in range(10)] + [
        f"renal colic from a kidney stone, ureteroscopy, case {i}" for i in range(10)
    ]
    golds = [("K35.80", "R10.9")] * 10 + [("N20.0",)] * 10
    nn = neighbours.fit(texts, golds)
    monkeypatch.setattr(neighbours, "MIN_WORDS", 3)
    votes = nn.votes("The patient had abdominal pain from acute appendicitis.", k=5)
    assert set(votes.codes) == {"K35.80", "R10.9"}
    share, n = votes.codes["K35.80"]
    assert share == pytest.approx(1.0) and n == 5
    assert votes.categories == {"K35": pytest.approx(1.0), "R10": pytest.approx(1.0)}
    assert 0.0 < votes.top_similarity <= 1.0
    mixed = nn.votes("Abdominal pain; a kidney stone was seen.", k=20)
    assert 0.0 < mixed.codes["N20.0"][0] < 1.0 and mixed.codes["N20.0"][0] + mixed.codes["K35.80"][0] == pytest.approx(1.0)
    assert nn.votes("zzz qqq yyy").codes == {}
    monkeypatch.setattr(neighbours, "MIN_WORDS", 30)
    assert nn.votes("The patient had abdominal pain from acute appendicitis.").codes == {}  # too short


def test_title_overlap_reads_content_words():
    from pipeline.code.rank import title_overlap

    assert title_overlap.title_stems(CM, "N50.811") >= {"testi", "pain"}  # Right testicular pain
    sents = title_overlap.sentences("No fever. Pain in the right testicle; testicular ultrasound.")
    assert [s for s, _, _ in sents] == [0, 9, 37]
    words = set().union(*(w for _, _, w in sents))
    assert title_overlap.overlap(CM, "N50.811", words) == 1.0
    assert title_overlap.overlap(CM, "N50.811", sents[0][2]) == 0.0


def test_word_match_tells_whole_words_from_near_misses():
    from pipeline.code.rank.rerank import word_match

    assert word_match("defect", "defect") == 1.0 and word_match("bladder stones", "bladder stone") == 1.0
    assert word_match("fibrosis", "fibrositis") == 0.0 and word_match("odynophagia", "odontorrhagia") == 0.0
    assert word_match("myoclonic symptoms", "symptoms") == 0.5


needs_model = pytest.mark.skipif(not MODEL_PATH.is_file(), reason="no shipped re-ranking model")


@needs_model
@pytest.mark.slow
def test_shipped_model_scores_and_guidelines():
    from pipeline.code.coder import propose_codes
    from pipeline.extract.pipeline import extract
    from pipeline.settings import Settings

    text = (
        "Patient admitted with fever and productive cough. Chest x-ray showed right lower lobe pneumonia. "
        "No chest pain. No history of diabetes."
    )
    result = propose_codes(extract(text), setting="inpatient", text=text)
    ranked = result.proposals + result.alternatives
    assert result.proposals and all(0.0 <= p.score <= 1.0 for p in ranked)
    for scores in ([p.score for p in result.proposals[1:]], [p.score for p in result.alternatives]):
        assert scores == sorted(scores, reverse=True)  # after the suggested principal diagnosis: score order
    threshold = Settings().proposal_threshold
    assert all(p.score >= threshold for p in result.proposals)
    # an alternative scores below the threshold unless a guideline demoted it: fever and cough are
    # integral to the pneumonia (Guidelines I.B.5)
    demoted = [p for p in result.alternatives if p.score >= threshold]
    assert demoted and all(p.code[:3] in ("R05", "R50") for p in demoted), demoted
    assert {p.code[:3] for p in demoted if "integral to J18" in p.rationale} == {"R05", "R50"}, demoted
    assert not any(p.code.startswith(("R05", "R50")) for p in result.proposals)
    codes = [p.code for p in ranked]
    assert any(c.startswith("J18") for c in codes[:5]), codes
    assert not any(c.startswith(("R07", "E11", "E10")) for c in codes), codes  # negated: never coded, not even as alternatives
    for p in ranked:
        assert p.evidence and p.rationale
        for ev in p.evidence:
            assert text[ev.start : ev.end] == ev.text
    # turned off, the guideline pass's own scores are used
    plain = propose_codes(extract(text), settings=Settings(rerank=False), setting="inpatient", text=text)
    assert any(p.code.startswith("J18") for p in plain.proposals)
    assert all("integral to J18" in p.rationale for p in plain.alternatives)  # only the guideline demotes


def test_entity_cache_version_covers_extraction_models(tmp_path, monkeypatch):
    from mrt_eval.coding import entity_cache

    models = tmp_path / "models"
    (models / "ner").mkdir(parents=True)
    (models / "ner" / "model").write_bytes(b"weights v1")
    monkeypatch.setattr(entity_cache, "MODELS_DIR", models)
    before = entity_cache.extraction_fingerprint()
    (models / "ner" / "model").write_bytes(b"weights v2")
    assert entity_cache.extraction_fingerprint() != before
    monkeypatch.setenv("MRT_EVAL_EXTRACTION", "0000000000000000")  # a pinned version is never extended
    with pytest.raises(FileNotFoundError):
        entity_cache.cached_entities(["some text"], tmp_path)


def test_entity_cache_version_covers_the_index_reading_extraction_uses(tmp_path, monkeypatch):
    from mrt_eval.coding import entity_cache

    lookup = tmp_path / "lookup"
    lookup.mkdir()
    (lookup / "index_lookup.py").write_text("SYNONYMS = {}")
    monkeypatch.setattr(entity_cache, "LOOKUP_DIR", lookup)
    before = entity_cache.extraction_fingerprint()
    (lookup / "index_lookup.py").write_text("SYNONYMS = {'hepatic': ('liver',)}")
    assert entity_cache.extraction_fingerprint() != before


def _p(code: str, score: float, why: str = "matched") -> CodeProposal:
    from pipeline.code.types import Evidence, Reason, ReasonKind

    return CodeProposal(CM, code, "", score, [Evidence(0, 1, "x")], (Reason(ReasonKind.INDEX_MATCH, (code,), why),))


def test_sequencing_suggests_a_principal_that_may_stand_first():
    from pipeline.code.rules.sequencing import sequence
    from pipeline.code.types import ReasonKind

    ranked = [_p("R52", 0.9), _p("N18.30", 0.8), _p("E11.22", 0.5), _p("I12.9", 0.4)]
    out = sequence(ranked, "inpatient")
    # not the symptom, not N18.30 (its "code first" note names E11.22 / I12.9)
    assert out[0].code == "E11.22" and out[0].reasons[-1].kind is ReasonKind.SEQUENCED_FIRST
    assert out[0].rationale == "matched; suggested principal diagnosis (best-scored definitive diagnosis; Guidelines II / IV.A)"
    assert [p.code for p in out[1:]] == ["R52", "N18.30", "I12.9"]
    assert sequence([_p("R05.9", 0.9)], "outpatient")[0].code == "R05.9"  # only symptoms: the best one
    assert [p.code for p in sequence([_p("H36", 0.9)], "inpatient")] == ["H36"]  # a manifestation is never suggested


def test_guideline_required_codes():
    """Read from the reasons' kinds: combination and family history codes are required, with the
    codes a combination keeps beside it (the most specific match of "I50.-"); personal history is not."""
    from dataclasses import replace

    from pipeline.code.coder import guideline_required
    from pipeline.code.types import Reason, ReasonKind

    def because(code: str, *reasons: Reason):
        return replace(_p(code, 0.1), reasons=reasons)

    ps = [
        because(
            "I13.0",
            Reason(ReasonKind.COMBINATION, ("I10", "I50.9", "N18.30"), "combination code I13.0"),
            Reason(ReasonKind.KEPT_ALONGSIDE, ("I50.-", "N18.-"), "I50.-, N18.- kept as use-additional code"),
        ),
        _p("I50.9", 0.1),
        _p("I50.20", 0.1),
        _p("N18.30", 0.1),
        _p("R05.9", 0.1),
        because("Z80.0", Reason(ReasonKind.FAMILY_HISTORY, ("C18.9",), "is family history")),
        because("Z86.19", Reason(ReasonKind.PERSONAL_HISTORY, ("B19.9",), "is personal history")),
    ]
    assert guideline_required(ps) == {"I13.0", "I50.20", "N18.30", "Z80.0"}
    # the same words without the kinds decide nothing
    assert guideline_required([_p("I13.0", 0.2, "combination code I13.0; I50.- kept as use-additional code")]) == set()


@pytest.mark.slow
@pytest.mark.skipif(not MODEL_PATH.is_file(), reason="no shipped re-ranking model")
def test_bench_code_command_prints_documents_per_second():
    import os
    import subprocess
    import sys

    from mrt_eval.coding.codiesp import codiesp_dir

    if not (codiesp_dir() / "dev").is_dir():
        pytest.skip("CodiEsp not in ../shared/data")
    out = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "bench", "code", "--limit", "3"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert "documents / second" in out.stdout and "median ms / document" in out.stdout
