"""Entity-level exact-span precision, recall and F1 of an NER model on NCBI-disease or BC5CDR:
``mrt eval ner --corpus ncbi|bc5cdr --split dev``.

The model reads the corpus' own tokens (no re-tokenization) and a predicted entity counts only
when its start, end and type equal a gold entity's (the CoNLL / seqeval convention used by the
scispaCy paper).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from spacy.tokens import Doc

from mrt_eval.extract.ner_corpora import get_corpus, read_docs, shared_data_root
from pipeline.extract.ner import load_model


@dataclass
class Prf:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1}


@dataclass
class NerReport:
    corpus: str
    split: str
    model: str
    sentences: int
    tokens: int
    seconds: float
    overall: Prf = field(default_factory=Prf)
    per_label: dict[str, Prf] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "corpus": self.corpus,
            "split": self.split,
            "model": self.model,
            "sentences": self.sentences,
            "tokens": self.tokens,
            "seconds": round(self.seconds, 2),
            "overall": self.overall.as_dict(),
            "per_label": {k: v.as_dict() for k, v in sorted(self.per_label.items())},
        }


def score(gold_docs: list[Doc], pred_docs: list[Doc], labels: tuple[str, ...] | None = None) -> tuple[Prf, dict[str, Prf]]:
    """Exact-span, typed comparison; predictions of labels outside ``labels`` are ignored."""
    overall, per_label = Prf(), {}
    for gold, pred in zip(gold_docs, pred_docs):
        g = {(e.start, e.end, e.label_) for e in gold.ents}
        p = {(e.start, e.end, e.label_) for e in pred.ents if labels is None or e.label_ in labels}
        for items, attr in ((g & p, "tp"), (p - g, "fp"), (g - p, "fn")):
            for _, _, label in items:
                setattr(overall, attr, getattr(overall, attr) + 1)
                slot = per_label.setdefault(label, Prf())
                setattr(slot, attr, getattr(slot, attr) + 1)
    return overall, per_label


def evaluate(
    corpus: str, split: str = "dev", model: str | None = None, limit: int | None = None, data_root: Path | None = None
) -> NerReport:
    """Score ``model`` (default: the shipped model trained on ``corpus``) on the first ``limit``
    sentences of the corpus split."""
    spec = get_corpus(corpus)
    model_name = model or spec.name
    nlp = load_model(model_name)
    gold = read_docs(spec.split_path(data_root or shared_data_root(), split), limit=limit)
    t0 = time.perf_counter()
    blank = [Doc(nlp.vocab, words=[t.text for t in d], spaces=[bool(t.whitespace_) for t in d]) for d in gold]
    pred = list(nlp.pipe(blank, batch_size=32))
    seconds = time.perf_counter() - t0
    overall, per_label = score(gold, pred, spec.labels)
    return NerReport(
        corpus, split, model_name, sum(1 for d in gold for _ in d.sents), sum(len(d) for d in gold), seconds, overall, per_label
    )
