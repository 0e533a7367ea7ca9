"""The shipped NER models: load offline from the installed package, find known entities, feed the
product pipeline; and the ``mrt eval ner`` command on a slice of the public corpora."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mrt_eval.extract.ner import score
from mrt_eval.extract.ner_corpora import get_corpus, read_docs, shared_data_root
from pipeline.errors import PipelineError
from pipeline.extract.ner import SHIPPED, load_model, resolve_model, shipped_model_dir

DATA = shared_data_root()


def ents(model: str, text: str) -> set[tuple[str, str]]:
    return {(e.text, e.label_) for e in load_model(model)(text).ents}


@pytest.mark.parametrize("name", SHIPPED)
def test_models_ship_inside_the_installed_package(name):
    import models

    path = shipped_model_dir(name)
    assert path.is_relative_to(Path(models.__file__).parent)
    assert (path / "ner" / "model").is_file() and (path / "tok2vec" / "model").is_file()
    meta = json.loads((path / "meta.json").read_text())
    assert "ner" in meta["pipeline"]
    assert sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) < 24 * 1024**2  # small enough to ship


def test_bc5cdr_model_finds_drugs_and_diseases():
    found = ents("bc5cdr", "Cisplatin-induced nephrotoxicity was reversed by magnesium supplementation.")
    assert {("Cisplatin", "CHEMICAL"), ("nephrotoxicity", "DISEASE")} <= found
    found = ents("bc5cdr", "Haloperidol caused tardive dyskinesia and hypotension in two patients.")
    assert {("Haloperidol", "CHEMICAL"), ("tardive dyskinesia", "DISEASE"), ("hypotension", "DISEASE")} <= found


def test_ncbi_model_finds_multiword_diseases():
    found = ents("ncbi", "Patients with Duchenne muscular dystrophy and breast cancer were excluded.")
    assert found == {("Duchenne muscular dystrophy", "DISEASE"), ("breast cancer", "DISEASE")}


@pytest.mark.parametrize("name", SHIPPED)
def test_models_carry_their_own_gazetteer_terms(name):
    """The dictionary feature is part of each shipped model, with the terms it was trained with."""
    nlp = load_model(name)
    assert nlp.pipe_names[0] == "mrt_gazetteer"
    assert (shipped_model_dir(name) / "mrt_gazetteer" / "terms.tsv.gz").is_file()
    doc = nlp.get_pipe("mrt_gazetteer")(nlp.make_doc("Given cisplatin for lung cancer, then fever."))
    tags = {t.text: t.tag_ for t in doc}
    assert tags["cisplatin"] == "CHEM_B"
    assert (tags["lung"], tags["cancer"]) == ("DIS_B", "DIS_I")  # the longest term wins
    assert tags["Given"] == tags["then"] == "O"


def test_unknown_model_is_a_clear_error():
    with pytest.raises(PipelineError, match="not found"):
        resolve_model("en_ner_bc5cdr_md_not_installed")


def test_pipeline_uses_the_model_for_what_the_lexicon_lacks():
    from pipeline.extract.pipeline import build_nlp, configured_pipeline, shared_extractor
    from pipeline.settings import Settings

    text = "Started on levetiracetam. Hepatotoxicity from isoniazid. She denies chest pain."
    without = {e.text: e.label_ for e in build_nlp(configured_pipeline(Settings(ner_models=[], link_candidates=0)))(text).ents}
    with_ner = {e.text: e.label_ for e in shared_extractor().nlp(text).ents}
    assert "levetiracetam" not in without and "Hepatotoxicity" not in without
    # the model's drug -> MEDICATION, disease -> PROBLEM
    assert with_ner["levetiracetam"] == "MEDICATION" and with_ner["Hepatotoxicity"] == "PROBLEM"
    # the lexicon keeps its more specific label where both find the same words
    assert with_ner["chest pain"] == "SYMPTOM" and with_ner["isoniazid"] == "MEDICATION"
    assert shared_extractor().nlp.get_pipe("mrt_ner").model_names == ["bc5cdr"]


def test_score_is_exact_span_and_typed():
    from spacy.tokens import Doc
    from spacy.vocab import Vocab

    vocab = Vocab()
    gold = Doc(
        vocab,
        words=["acute", "renal", "failure", "after", "cisplatin"],
        ents=["B-DISEASE", "I-DISEASE", "I-DISEASE", "O", "B-CHEMICAL"],
    )
    pred = Doc(
        vocab, words=["acute", "renal", "failure", "after", "cisplatin"], ents=["O", "B-DISEASE", "I-DISEASE", "O", "B-DISEASE"]
    )
    overall, per_label = score([gold], [pred])
    assert (overall.tp, overall.fp, overall.fn) == (0, 2, 2)
    assert per_label["DISEASE"].fp == 2 and per_label["CHEMICAL"].fn == 1


needs_data = pytest.mark.skipif(not (DATA / "ncbi-disease").is_dir(), reason=f"public corpora not at {DATA}")


@needs_data
def test_corpus_reader_maps_labels():
    docs = read_docs(get_corpus("bc5cdr").split_path(DATA, "dev"), limit=40)
    labels = {e.label_ for d in docs for e in d.ents}
    assert labels == {"DISEASE", "CHEMICAL"}


@needs_data
@pytest.mark.parametrize("corpus", ["ncbi", "bc5cdr"])
def test_eval_ner_command_on_a_slice(corpus):
    from pipeline.cli import app

    result = CliRunner().invoke(app, ["eval", "ner", "--corpus", corpus, "--split", "dev", "--limit", "150", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["sentences"] == 150
    assert report["overall"]["f1"] > 0.6  # a slice; the full dev figures are in the README


def test_eval_ner_rejects_the_withheld_test_split():
    from pipeline.cli import app

    result = CliRunner().invoke(app, ["eval", "ner", "--corpus", "ncbi", "--split", "test"])
    assert result.exit_code == 2
