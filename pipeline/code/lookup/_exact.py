"""Exact cosine search over char-3-gram TF-IDF vectors: the code index's search.

The vectors are scikit-learn's ``TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3),
min_df=2)`` ones (counts of the word-bounded character 3-grams, times the smooth idf
``ln((1 + n) / (1 + df)) + 1``, rows L2-normalised), computed here from a fixed vocabulary and idf
so that the saved files are plain arrays (byte-identical from build to build) rather than a
pickled vectorizer.

A batch of queries is one sparse matrix product with the alias vectors, stored by feature (the
transposed matrix: a feature's row lists the aliases that hold it, an inverted index with weights);
each query's best aliases are taken in a fixed order: score descending, then alias number. Nothing
here is random or depends on a thread count.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ANALYZER = {"analyzer": "char_wb", "ngram_range": (3, 3)}


def _counter(vocabulary: dict[str, int] | None = None, min_df: int = 1):
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(**ANALYZER, vocabulary=vocabulary, min_df=min_df, dtype=np.float32)


def _normalize_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    """L2-normalise each row in place (float64 sums, stored as float32); empty rows stay empty."""
    m.sort_indices()
    data = m.data.astype(np.float64)
    lengths = np.diff(m.indptr)
    rows = np.repeat(np.arange(m.shape[0]), lengths)
    norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=m.shape[0]))  # summed in order
    data /= norms[rows]
    m.data = data.astype(np.float32)
    return m


class ExactIndex:
    """TF-IDF vectors of the aliases and exact top-k cosine search over them."""

    def __init__(self, vocabulary: list[str], idf: np.ndarray, by_feature: sp.csr_matrix) -> None:
        self.vocabulary = vocabulary
        self.idf = np.asarray(idf, dtype=np.float32)
        self.by_feature = by_feature  # features x aliases, CSR
        self._counter = _counter({t: i for i, t in enumerate(vocabulary)})

    @property
    def features(self) -> int:
        return len(self.vocabulary)

    @property
    def nonzeros(self) -> int:
        return int(self.by_feature.nnz)

    def __len__(self) -> int:
        return self.by_feature.shape[1]

    # ------------------------------------------------------------ build / files
    @classmethod
    def fit(cls, texts: Sequence[str], min_df: int = 2) -> tuple[ExactIndex, np.ndarray]:
        """The index over ``texts`` (features: 3-grams in at least ``min_df`` texts), and which texts
        kept at least one feature (the others are left out of the index)."""
        counter = _counter(min_df=min_df)
        counts = counter.fit_transform(list(texts)).tocsr()
        vocabulary = sorted(counter.vocabulary_, key=counter.vocabulary_.__getitem__)  # column order (sorted terms)
        df = np.bincount(counts.indices, minlength=len(vocabulary))
        n = len(texts)
        # smooth idf, as TfidfTransformer; math.log (the C library's) for the same bits on every machine
        idf_of = {int(d): math.log((1 + n) / (1 + int(d))) + 1.0 for d in np.unique(df)}
        idf = np.array([idf_of[int(d)] for d in df], dtype=np.float32)
        kept = np.diff(counts.indptr) > 0
        index = cls(vocabulary, idf, sp.csr_matrix((0, 0)))
        vectors = index._weigh(counts[kept])
        index.by_feature = vectors.T.tocsr()
        index.by_feature.sort_indices()
        return index, kept

    def save(self, directory: Path) -> None:
        """Plain files: the vocabulary (JSON), the idf and the by-feature CSR arrays (.npy)."""
        (directory / "vocabulary.json").write_text(json.dumps(self.vocabulary, ensure_ascii=False) + "\n", encoding="utf-8")
        np.save(directory / "idf.npy", self.idf)
        m = self.by_feature
        np.save(directory / "by_feature_data.npy", m.data.astype(np.float32))
        np.save(directory / "by_feature_indices.npy", m.indices.astype(np.int32))
        np.save(directory / "by_feature_indptr.npy", m.indptr.astype(np.int64))
        np.save(directory / "by_feature_shape.npy", np.array(m.shape, dtype=np.int64))

    @classmethod
    def load(cls, directory: Path) -> ExactIndex:
        vocabulary = json.loads((directory / "vocabulary.json").read_text(encoding="utf-8"))
        shape = tuple(int(x) for x in np.load(directory / "by_feature_shape.npy"))
        m = sp.csr_matrix(
            (
                np.load(directory / "by_feature_data.npy"),
                np.load(directory / "by_feature_indices.npy"),
                np.load(directory / "by_feature_indptr.npy"),
            ),
            shape=shape,
        )
        m.has_sorted_indices = True
        return cls(vocabulary, np.load(directory / "idf.npy"), m)

    # ------------------------------------------------------------ search
    def _weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        m = counts.tocsr().astype(np.float32)
        m.data *= self.idf[m.indices]
        return _normalize_rows(m)

    def vectors(self, texts: Sequence[str]) -> sp.csr_matrix:
        """L2-normalised TF-IDF rows of ``texts`` (a text with no known 3-gram: an empty row)."""
        return self._weigh(self._counter.transform(list(texts)))

    def top(self, texts: Sequence[str], k: int) -> list[list[tuple[int, float]]]:
        """Per text, up to ``k`` (alias number, cosine) with a shared 3-gram, best first; ties by alias number."""
        if not texts:
            return []
        scores = (self.vectors(texts) @ self.by_feature).tocsr()
        out = []
        for i in range(len(texts)):
            lo, hi = scores.indptr[i], scores.indptr[i + 1]
            idx, val = scores.indices[lo:hi], scores.data[lo:hi]
            keep = val > 0
            idx, val = idx[keep], val[keep]
            if val.size > k:
                kth = np.partition(val, val.size - k)[val.size - k]
                keep = val >= kth  # every alias tied with the k-th: the order below decides, not the partition
                idx, val = idx[keep], val[keep]
            order = np.lexsort((idx, -val))[:k]
            out.append([(int(idx[j]), float(val[j])) for j in order])
        return out
