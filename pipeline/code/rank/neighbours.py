"""Similar coded cases: the codes coders gave the training documents that read most like this one.

Each training document (CodiEsp train, CC BY 4.0) is kept as a word 1-2-gram TF-IDF vector with its
gold codes. For a new document the :data:`K` most similar (cosine) vote for their codes, each with
weight ``similarity ** POWER``; a code's *share* is its part of the total weight, so 0.4 reads "the
cases most like this one that carried the code make up 40% of the similarity". Shares for the
3-character category are kept too. A text under :data:`MIN_WORDS` words gets no votes.

Coders give many codes no single mention names well (smoking status, the sequela of a procedure,
the generic symptom a case report dwells on); similar cases bring those codes in as candidates,
and the share is one feature of the re-ranker (:mod:`pipeline.code.rank.rerank`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

K = 30  # neighbours that vote
POWER = 2.0  # similarity ** POWER weighs a neighbour's vote
MAX_FEATURES = 30000
MIN_WORDS = 30  # a shorter text (a one-line note) is too little to find similar cases by


@dataclass(frozen=True)
class Votes:
    codes: dict[str, tuple[float, int]]  # gold-form code -> (share of the neighbours' weight, neighbours with it)
    categories: dict[str, float]  # 3-character category -> share
    top_similarity: float  # cosine similarity of the nearest case


@dataclass
class Neighbours:
    vectorizer: Any  # fitted TfidfVectorizer
    matrix: Any  # scipy.sparse csr, documents x features, rows L2-normalized, float32
    codes: list[tuple[str, ...]]  # per training document, its gold codes (one system)

    def votes(self, text: str, k: int = K, power: float = POWER) -> Votes:
        if len(text.split()) < MIN_WORDS:
            return Votes({}, {}, 0.0)
        v = self.vectorizer.transform([text])
        sims = np.asarray((self.matrix @ v.T).todense()).ravel()
        if not sims.size or sims.max() <= 0.0:
            return Votes({}, {}, 0.0)
        top = np.argsort(-sims, kind="stable")[:k]
        weights = sims[top] ** power
        total = float(weights.sum()) or 1.0
        codes: dict[str, list] = {}
        cats: dict[str, float] = {}
        for j, w in zip(top, weights):
            for c in self.codes[j]:
                entry = codes.setdefault(c, [0.0, 0])
                entry[0] += float(w) / total
                entry[1] += 1
            for cat in {c.replace(".", "")[:3] for c in self.codes[j]}:
                cats[cat] = cats.get(cat, 0.0) + float(w) / total
        return Votes({c: (s, n) for c, (s, n) in codes.items()}, cats, float(sims[top[0]]))


def fit(texts: Sequence[str], golds: Sequence[Sequence[str]]) -> Neighbours | None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not texts:
        return None
    vec = TfidfVectorizer(
        ngram_range=(1, 2),
        min_df=2,
        max_features=MAX_FEATURES,
        sublinear_tf=True,
        stop_words="english",
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b",
        dtype=np.float32,
    )
    matrix = vec.fit_transform(texts).tocsr()
    vec.stop_words_ = None  # not needed at prediction time; keeps the shipped file small
    return Neighbours(vec, matrix, [tuple(g) for g in golds])
