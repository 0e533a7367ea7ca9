"""Dictionary features for the trained NER models: ``mrt_gazetteer``.

The first component of the shipped NER pipelines (``models/ner/config.cfg``). It marks every token
that lies inside a term of the project's clinical lexicon (``data/terms.tsv.gz``: ICD-10-CM
Alphabetic Index and Tabular terms, the Table of Drugs and Chemicals, curated clinical terms) in
``Token.tag_``, as ``<kind>_B`` / ``<kind>_I`` with kind ``DIS`` (problems and symptoms) or ``CHEM``
(medications and chemicals); the tok2vec layer embeds ``TAG`` next to the word's own features, so the
model learns how far to trust the dictionary. The lexicon comes from the code sets, never from the
NER corpora, so the feature means the same in training and at run time.

The terms are saved with the model (``to_disk``), already tokenized, so a shipped model does not
change when the lexicon does and loads without tokenizing them again. This module imports nothing of the package beyond spaCy: ``spacy train --code`` loads
it on its own (``scripts/train_ner.py``).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from pathlib import Path
from typing import cast

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc
from spacy.util import filter_spans

LEXICON = Path(__file__).parent / "data" / "terms.tsv.gz"
KIND_OF_LABEL = {"PROBLEM": "DIS", "SYMPTOM": "DIS", "MEDICATION": "CHEM"}
TERMS_FILE = "terms.tsv.gz"
SEP = "\x1f"  # between a saved term's tokens (a token may be a space, never this)


def read_lexicon(path: Path = LEXICON) -> list[tuple[str, str]]:
    """(term, kind) pairs of the lexicon's problem, symptom and medication terms."""
    pairs = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        next(fh, None)  # header
        for line in fh:
            term, label, *_ = line.rstrip("\n").split("\t")
            kind = KIND_OF_LABEL.get(label)
            if kind and len(term) > 2:
                pairs.append((term, kind))
    return pairs


class Gazetteer:
    """Writes dictionary-match features into ``Token.tag_`` (longest match wins)."""

    def __init__(self, nlp: Language, name: str = "mrt_gazetteer") -> None:
        self.nlp = nlp
        self.name = name
        self.terms: list[tuple[str, str]] = []
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")

    def initialize(self, get_examples=None, nlp: Language | None = None, lexicon: str | None = None) -> None:
        """``lexicon``: a terms file like ``data/terms.tsv.gz`` (scripts/build_ner_lexicon.py); default that file."""
        self.set_terms(read_lexicon(Path(lexicon) if lexicon else LEXICON))

    def set_terms(self, terms: Iterable[tuple[str, str]], tokenized: bool = False) -> None:
        """Terms as written (tokenized here), or ``tokenized``: tokens joined by :data:`SEP`, as
        :meth:`to_disk` saves them, so loading a model does not run the tokenizer 165k times."""
        if not tokenized:
            terms = list(terms)
            docs = self.nlp.tokenizer.pipe([t for t, _ in terms], batch_size=1000)  # type: ignore[union-attr]  # spaCy types Language.tokenizer as a callable; it is a Tokenizer
            terms = [(SEP.join(tok.text for tok in doc), kind) for doc, (_, kind) in zip(docs, terms)]
        self.terms = sorted(set(terms))
        self.matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        # one term at a time: 165k Docs held together would cost the process ~0.6 GB it never gives back
        for term, kind in self.terms:
            self.matcher.add(kind, [Doc(self.nlp.vocab, words=term.split(SEP))])

    def __call__(self, doc: Doc) -> Doc:
        spans = filter_spans(self.matcher(doc, as_spans=True))
        for token in doc:
            token.tag_ = "O"
        for span in spans:
            kind = span.label_
            span[0].tag_ = f"{kind}_B"
            for token in span[1:]:
                token.tag_ = f"{kind}_I"
        return doc

    def to_disk(self, path, exclude=()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        with gzip.open(path / TERMS_FILE, "wt", encoding="utf-8") as fh:
            fh.writelines(f"{term}\t{kind}\n" for term, kind in self.terms)

    def from_disk(self, path, exclude=()) -> Gazetteer:
        with gzip.open(Path(path) / TERMS_FILE, "rt", encoding="utf-8") as fh:
            self.set_terms(
                [cast("tuple[str, str]", tuple(line.rstrip("\n").split("\t"))) for line in fh if "\t" in line],  # term, kind
                tokenized=True,
            )
        return self


@Language.factory("mrt_gazetteer")
def make_gazetteer(nlp: Language, name: str) -> Gazetteer:
    return Gazetteer(nlp, name)
