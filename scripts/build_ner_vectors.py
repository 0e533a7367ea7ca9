#!/usr/bin/env python
"""Static word vectors for the NER models, from text this project may use (no downloads).

PPMI + truncated SVD (Levy & Goldberg 2014; Levy et al. 2015) over the words of MTSamples
transcriptions (CC0), CodiEsp train texts (CC BY 4.0) and the train splits of NCBI-disease and
BC5CDR (never their dev splits), tokenized by the pipeline's tokenizer: the ``max_words`` most
frequent words, a +-4 word window weighted 1/distance, context distribution smoothing 0.75,
``dims`` dimensions. Written as a spaCy vectors directory for ``--paths.vectors``.

Usage: ``python scripts/build_ner_vectors.py [--out DIR] [--max-words 20000] [--dims 100]``
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import spacy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mrt_eval.extract.bench import read_mtsamples  # noqa: E402
from mrt_eval.extract.ner_corpora import CORPORA, read_sentences, shared_data_root  # noqa: E402

OUT = Path.home() / ".cache" / "mrt" / "ner" / "vectors"


def texts(data: Path) -> list[list[str]]:
    nlp = spacy.blank("en")
    docs: list[list[str]] = []
    for name in ("ncbi", "bc5cdr"):
        docs += [words for words, _ in read_sentences(CORPORA[name].split_path(data, "train"))]
    raw = [r["text"] for r in read_mtsamples(data / "mtsamples" / "mtsamples.csv")]
    raw += [p.read_text(encoding="utf-8") for p in sorted((data / "codiesp" / "train").glob("**/*.txt"))]
    docs += [[t.text for t in d if not t.is_space] for d in nlp.tokenizer.pipe(raw, batch_size=64)]
    return docs


def ppmi_svd(docs: list[list[str]], max_words: int, dims: int, window: int = 4) -> tuple[list[str], np.ndarray]:
    counts = Counter(w for d in docs for w in d)
    vocab = [w for w, c in counts.most_common(max_words) if c >= 3]
    index = {w: i for i, w in enumerate(vocab)}
    ids = np.array([index.get(w, -1) for d in docs for w in [*d, "\0"]], dtype=np.int64)  # "\0" separates docs
    rows, cols, vals = [], [], []
    for dist in range(1, window + 1):
        a, b = ids[:-dist], ids[dist:]
        keep = (a >= 0) & (b >= 0)
        for x, y in ((a[keep], b[keep]), (b[keep], a[keep])):
            rows.append(x)
            cols.append(y)
            vals.append(np.full(len(x), 1.0 / dist, dtype=np.float32))
    n = len(vocab)
    m = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)).tocsr()
    total = m.sum()
    row_sum = np.asarray(m.sum(axis=1)).ravel()
    ctx = np.asarray(m.sum(axis=0)).ravel() ** 0.75
    ctx = ctx / ctx.sum()
    m = m.tocoo()
    pmi = np.log(m.data / total) - np.log(row_sum[m.row] / total) - np.log(ctx[m.col])
    keep = pmi > 0
    ppmi = sp.csr_matrix((pmi[keep].astype(np.float32), (m.row[keep], m.col[keep])), shape=(n, n))
    from sklearn.utils.extmath import randomized_svd

    u, s, _ = randomized_svd(ppmi, n_components=dims, n_iter=5, random_state=0)
    vectors = u * np.sqrt(s)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-8
    return vocab, vectors.astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--max-words", type=int, default=20000)
    ap.add_argument("--dims", type=int, default=100)
    args = ap.parse_args()
    t0 = time.perf_counter()
    docs = texts(args.data or shared_data_root())
    print(f"{sum(map(len, docs))} words in {len(docs)} texts ({time.perf_counter() - t0:.0f}s)", flush=True)
    vocab, vectors = ppmi_svd(docs, args.max_words, args.dims)
    nlp = spacy.blank("en")
    for word, vec in zip(vocab, vectors):
        nlp.vocab.set_vector(word, vec)
    nlp.to_disk(args.out)
    print(f"{len(vocab)} vectors x {args.dims} -> {args.out} ({time.perf_counter() - t0:.0f}s)")


if __name__ == "__main__":
    main()
