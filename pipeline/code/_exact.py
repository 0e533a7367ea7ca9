"""Exact stand-in for the nmslib HNSW search, used only where nmslib cannot be imported.

scispaCy's ``candidate_generation`` module imports nmslib at import time, so without nmslib its
``CandidateGenerator`` is unavailable too; this module provides the same call shape
(``generator(texts, k) -> list[list[MentionCandidate]]``) over a brute-force sparse dot product.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np


class MentionCandidate(NamedTuple):
    concept_id: str
    aliases: list[str]
    similarities: list[float]


class ExactIndex:
    """Cosine k-NN over L2-normalised sparse rows (what TfidfVectorizer produces)."""

    def __init__(self, vectors: Any) -> None:
        self.vectors = vectors.tocsr().astype(np.float32)

    @classmethod
    def load(cls, path: Path) -> ExactIndex:
        import scipy.sparse

        return cls(scipy.sparse.load_npz(path))

    def __len__(self) -> int:
        return self.vectors.shape[0]

    def knn_query_batch(self, queries: Any, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
        sims = (queries @ self.vectors.T).toarray()
        out = []
        for row in sims:
            k_ = min(k, row.size)
            top = np.argpartition(-row, k_ - 1)[:k_]
            top = top[np.argsort(-row[top])]
            out.append((top, 1.0 - row[top]))
        return out


class CandidateGenerator:
    """Same interface as scispaCy's CandidateGenerator for the parts this project uses."""

    def __init__(self, ann_index: ExactIndex, tfidf_vectorizer: Any, ann_concept_aliases_list: list[str],
                 kb: Any, verbose: bool = False) -> None:
        self.ann_index = ann_index
        self.vectorizer = tfidf_vectorizer
        self.ann_concept_aliases_list = ann_concept_aliases_list
        self.kb = kb
        self.verbose = verbose

    def __call__(self, mention_texts: list[str], k: int) -> list[list[MentionCandidate]]:
        if not mention_texts:
            return []
        batch = self.ann_index.knn_query_batch(self.vectorizer.transform(mention_texts), k)
        result = []
        for neighbors, distances in batch:
            aliases: dict[str, list[str]] = defaultdict(list)
            sims: dict[str, list[float]] = defaultdict(list)
            for i, dist in zip(neighbors, distances):
                if dist >= 1.0:  # no shared 3-gram
                    continue
                alias = self.ann_concept_aliases_list[int(i)]
                for concept in self.kb.alias_to_cuis[alias]:
                    aliases[concept].append(alias)
                    sims[concept].append(1.0 - float(dist))
            result.append(sorted((MentionCandidate(c, a, sims[c]) for c, a in aliases.items()),
                                 key=lambda m: m.concept_id))
        return result
