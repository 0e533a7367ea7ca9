"""Trained NER models in the extraction pipeline: ``mrt_ner``.

The package ships spaCy NER models trained on public corpora (``models/ner/<name>/``, trained by
``scripts/train_ner.py`` with ``models/ner/config.cfg``):

* ``bc5cdr``: DISEASE + CHEMICAL, BioCreative V CDR;
* ``ncbi``: DISEASE, NCBI-disease.

``mrt_ner`` runs one or more of them (or an installed scispaCy model such as ``en_ner_bc5cdr_md``,
or any spaCy pipeline directory) and writes their entities to ``doc.ents`` with the pipeline's
labels (DISEASE -> PROBLEM, CHEMICAL -> MEDICATION). It runs before ``mrt_terminology``, which
adds the types the models do not know (symptoms, procedures, tests) and merges: the longest span
wins, a dictionary match of the same extent keeps its label (SYMPTOM is more specific than
PROBLEM). Models are loaded once per process and run in batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from pipeline.errors import PipelineError
from pipeline.extract import ner_gazetteer  # noqa: F401  (registers mrt_gazetteer, the models' first component)

SHIPPED = ("bc5cdr", "ncbi")
# model label -> pipeline label; None drops the span. scispaCy's en_core_sci_* models mark untyped
# "ENTITY" spans: map ENTITY to a label in the component's config to use them.
DEFAULT_LABEL_MAP: dict[str, str | None] = {"DISEASE": "PROBLEM", "CHEMICAL": "MEDICATION", "ENTITY": None}
SENTENCE_ENDS = {".", "?", "!", ";"}


def shipped_model_dir(name: str) -> Path:
    """Directory of a model shipped inside the installed package (``models/ner/<name>``)."""
    path = Path(str(resources.files("models") / "ner" / name))
    if not (path / "config.cfg").is_file():
        raise PipelineError(
            f"NER model {name!r} is not in the installed package ({path}); retrain it with "
            f"`python scripts/train_ner.py --corpus {name}`"
        )
    return path


def resolve_model(name: str) -> str | Path:
    """A shipped model name, an installed spaCy package (en_ner_bc5cdr_md) or a directory."""
    if name in SHIPPED:
        return shipped_model_dir(name)
    if Path(name).is_dir():
        return Path(name)
    if spacy.util.is_package(name):
        return name
    raise PipelineError(
        f"NER model {name!r} not found: use one of {', '.join(SHIPPED)}, an installed spaCy package "
        "(en_ner_bc5cdr_md, en_core_sci_sm, ...) or a model directory"
    )


def load_model(name: str) -> Language:
    """The NER model ``name``, newly loaded (the :class:`NerComponent` of an extractor keeps its own)."""
    # only the layers NER needs: scispaCy packages also bring taggers, parsers and linkers
    return spacy.load(
        resolve_model(name),
        exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "scispacy_linker", "abbreviation_detector"],
    )


class NerComponent:
    """Runs NER models on a copy of each doc's tokens and sets their entities in ``doc.ents``."""

    def __init__(
        self, nlp: Language, name: str, models: list[str], label_map: dict[str, str | None], batch_size: int = 64
    ) -> None:
        self.name = name
        self.model_names = list(models)
        self.models = [load_model(m) for m in self.model_names]
        self.label_map = dict(label_map)
        self.batch_size = batch_size
        self.edge_words = _edge_words()
        for label in self.label_map.values():
            if label:
                nlp.vocab.strings.add(label)

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def pipe(self, docs: Iterable[Doc], batch_size: int | None = None) -> Iterator[Doc]:
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= (batch_size or self.batch_size):
                yield from self._process(batch)
                batch = []
        if batch:
            yield from self._process(batch)

    def _process(self, docs: list[Doc]) -> list[Doc]:
        found: list[list[Span]] = [[] for _ in docs]
        for model in self.models:
            copies = [Doc(model.vocab, words=[t.text for t in d], spaces=[bool(t.whitespace_) for t in d]) for d in docs]
            for i, pred in enumerate(model.pipe(copies, batch_size=self.batch_size)):
                for ent in pred.ents:
                    label = self.label_map.get(ent.label_)
                    start, end = self._trim(docs[i], ent.start, ent.end)
                    if label and start < end:
                        found[i].append(Span(docs[i], start, end, label=label))
        for doc, spans in zip(docs, found):
            if spans:
                doc.ents = filter_spans(list(doc.ents) + spans)
        return docs

    def _trim(self, doc: Doc, start: int, end: int) -> tuple[int, int]:
        """Keep a span inside its sentence (the model runs on the whole text and can run on across a
        full stop: "cellulitis of the right lower leg. Admit"), then drop edge words that are not part
        of a finding's name: assertion cues ("denies fever", a model trained on abstracts has never
        seen dictation), stop words and punctuation."""
        for i in range(start + 1, end):
            if doc[i].is_sent_start or doc[i - 1].text in SENTENCE_ENDS:
                end = i
                break

        def edge(t) -> bool:
            return t.lower_ in self.edge_words or t.is_stop or t.is_punct or t.is_space

        while start < end and edge(doc[start]):
            start += 1
        while end > start and edge(doc[end - 1]):
            end -= 1
        return start, end


def _edge_words() -> frozenset[str]:
    """One-word assertion triggers of the ConText rules (denies, no, without, possible, ...)."""
    from pipeline.extract.context import load_rules

    keep = {"familial", "maternal", "paternal"}  # they start disease names ("familial hypercholesterolemia")
    return frozenset(r.literal for r in load_rules() if " " not in r.literal and r.direction != "terminate") - keep


@Language.factory("mrt_ner", default_config={"models": ["bc5cdr"], "label_map": DEFAULT_LABEL_MAP, "batch_size": 64})
def make_ner(nlp: Language, name: str, models: list[str], label_map: dict[str, str | None], batch_size: int) -> NerComponent:
    """spaCy factory: ``nlp.add_pipe("mrt_ner", config={"models": ["bc5cdr"]})``."""
    return NerComponent(nlp, name, models, label_map, batch_size)
