"""Document-level code model: how likely a coder gives a frequent code, from the words of the whole
document (word 1-2-gram TF-IDF, one L1 logistic regression per code given in at least
:data:`MIN_DOCS` training cases).

CodiEsp coders give generic codes no single mention names well (R69 illness, R52 pain, R59.9
enlarged lymph nodes, I96 gangrene ...); this model sees the document's wording at large. Its
probability is one feature of the re-ranker, and a code it rates at least :data:`CANDIDATE_P`
becomes a candidate, with as evidence the document's words that weigh most for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.code.rules.note_text import body_system_heading
from pipeline.code.types import Evidence

MIN_DOCS = 3
CANDIDATE_P = 0.08
MAX_FEATURES = 12000


@dataclass
class DocModel:
    vectorizer: Any  # fitted TfidfVectorizer
    codes: list[str]  # gold-form codes (may be 2018 / 4-character PCS forms)
    coef: Any  # scipy.sparse csr (codes x features), float32
    intercept: np.ndarray
    terms: list[str]  # feature index -> term

    def probabilities(self, text: str) -> tuple[np.ndarray, object]:
        v = self.vectorizer.transform([text])
        z = np.asarray((self.coef @ v.T).todense()).ravel() + self.intercept
        return 1.0 / (1.0 + np.exp(-z)), v

    def evidence(self, text: str, v, j: int, n: int = 2, usable: Callable[[int], bool] | None = None) -> list[Evidence]:
        """Where the ``n`` terms that weigh most for code ``j`` first occur in ``text``, other than as the
        heading of a body system ("SKIN:" is where the examination reports on the skin, no word for L98.9),
        and only at a position ``usable`` accepts."""
        row = self.coef.getrow(j)
        present = dict(zip(v.indices, v.data))
        weights = sorted(((w * present[i], i) for i, w in zip(row.indices, row.data) if i in present and w > 0), reverse=True)
        out = []
        for _, i in weights[:n]:
            term = re.compile(r"\b" + r"\s+".join(map(re.escape, self.terms[i].split())) + r"\b", re.I)
            m = next(
                (
                    m
                    for m in term.finditer(text)
                    if not body_system_heading(text, m.start(), m.end()) and (usable is None or usable(m.start()))
                ),
                None,
            )
            if m:
                out.append(Evidence(m.start(), m.end(), m.group(0)))
        return out


def fit(texts: Sequence[str], golds: Sequence[Sequence[str]]) -> DocModel | None:
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    counts: dict[str, int] = {}
    for gold in golds:
        for g in set(gold):
            counts[g] = counts.get(g, 0) + 1
    codes = sorted(c for c, k in counts.items() if k >= MIN_DOCS)
    if not codes:
        return None
    vec = TfidfVectorizer(
        ngram_range=(1, 2),
        min_df=3,
        max_features=MAX_FEATURES,
        sublinear_tf=True,
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b",
        dtype=np.float32,
    )
    x = vec.fit_transform(texts)
    rows, intercepts = [], []
    for code in codes:
        y = np.array([code in gold for gold in golds], dtype=int)
        lr = LogisticRegression(l1_ratio=1.0, C=2.0, solver="liblinear", max_iter=200, random_state=0).fit(x, y)
        rows.append(sp.csr_matrix(lr.coef_.astype(np.float32)))
        intercepts.append(float(lr.intercept_[0]))
    terms = [""] * len(vec.vocabulary_)
    for t, i in vec.vocabulary_.items():
        terms[i] = t
    vec.stop_words_ = None  # not needed at prediction time; keeps the shipped file small
    return DocModel(vec, codes, sp.vstack(rows).tocsr(), np.asarray(intercepts), terms)
