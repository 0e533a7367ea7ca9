"""Train the re-ranker of :mod:`pipeline.code.rank.rerank` on CodiEsp train and write the shipped model.

    python -m mrt_eval.coding.rerank_train [--folds 5] [--out pipeline/code/data/rerank.joblib]

Only the train split is read (dev is for model selection and the reported figures; test is never
seen). Per system (CM, PCS):

1. every train document goes through the guideline pass (:func:`pipeline.code.coder.first_pass`)
   on its cached entities;
2. the documents are split in folds; each fold's candidate rows get their lexicon, prior,
   document-model and similar-case features from the *other* folds, so a document never sees its
   own gold codes;
3. a gradient-boosted classifier is fitted per fold on the other folds' rows to give out-of-fold
   probabilities, and an isotonic regression on those is the calibrator;
4. the final classifier is fitted on all rows; the counts of all of train ship with it.

Training re-executes itself with ``PYTHONHASHSEED=0``: the order of candidate rows follows set
iteration, so a retrain on the same installation (same code index) gives the same model.

The label of a candidate is whether it matches a gold code at full code, as the evaluation counts
(a PCS code matches a shorter gold prefix, a FY2026 CM code matches the 2018 code it refines).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.code.rank.rerank import (
    FEATURES,
    MODEL_FORMAT,
    MODEL_PATH,
    Stats,
    candidates,
    features,
    masked,
    mention_key,
    not_coded_spans,
    replaced_codes,
)
from pipeline.code.types import CM, PCS

SYSTEMS = (CM, PCS)


@dataclass
class Prepared:
    """One train document after the guideline pass."""

    gold: dict[str, tuple[str, ...]]
    text: str
    proposals: list
    mentions: list
    doc_len: int
    exclusions: object


def prepare(docs, coder, setting: str = "inpatient") -> list[Prepared]:
    """The guideline pass of ``coder`` (:class:`pipeline.code.coder.Coder`) over ``docs``."""
    from mrt_eval.coding.entity_cache import cached_entities

    settings = coder.settings

    entities = cached_entities([d.text for d in docs], settings.cache_dir)
    out = []
    for d, ents in zip(docs, entities):
        proposals, skipped, mentions, exclusions = coder.first_pass(ents, setting, d.text)
        text = masked(d.text, not_coded_spans(ents, skipped))
        out.append(Prepared(d.gold, text, proposals, mentions, len(d.text), exclusions))
    return out


def count(prepared: Sequence[Prepared], system: str) -> Stats:
    from pipeline.code.rank import doc_model, neighbours

    stats = Stats(docs=len(prepared))
    stats.doc_model = doc_model.fit([d.text for d in prepared], [d.gold[system] for d in prepared])
    stats.neighbours = neighbours.fit([d.text for d in prepared], [d.gold[system] for d in prepared])
    for doc in prepared:
        gold = doc.gold[system]
        for g in gold:
            stats.code_docs[g] = stats.code_docs.get(g, 0) + 1
        for cat in {g.replace(".", "")[:3] for g in gold}:
            stats.cat_docs[cat] = stats.cat_docs.get(cat, 0) + 1
        mentions = [m for m in doc.mentions if m.system == system and not m.entity.family]
        for table, keys in (
            (stats.lex, {mention_key(m.entity.query_text) for m in mentions}),
            (stats.link, {m.candidates[0].code for m in mentions if m.candidates}),
        ):
            for key in keys:
                n, codes = table.get(key, (0, {}))
                for g in gold:
                    codes[g] = codes.get(g, 0) + 1
                table[key] = (n + 1, codes)
    return stats


def matches(system: str, code: str, gold: Sequence[str]) -> bool:
    from pipeline.code.lookup.codeset import get_codeset

    if code in gold:
        return True
    if system == PCS:
        return any(len(g) < 7 and code.startswith(g) for g in gold)
    cs = get_codeset()
    return any(code.startswith(g) and len(code) > len(g) and not cs.cm_is_billable(g) for g in gold)


def rows(prepared: Sequence[Prepared], system: str, stats: Stats, index) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature rows, gold labels and document numbers; ``index``: the system's candidate index."""
    xs, ys, groups = [], [], []
    for i, doc in enumerate(prepared):
        rule = [p for p in doc.proposals if p.system == system]
        cands = candidates(
            system, rule, doc.mentions, stats, replaced_codes(doc.proposals), doc.text, doc.exclusions, index=index
        )
        if not cands:
            continue
        xs.append(features(system, cands, stats, doc.doc_len, len(doc.mentions)))
        ys.append(np.array([matches(system, c.code, doc.gold[system]) for c in cands], dtype=np.int8))
        groups.append(np.full(len(cands), i))
    if not xs:
        return np.zeros((0, len(FEATURES)), np.float32), np.zeros(0, np.int8), np.zeros(0, int)
    return np.vstack(xs), np.concatenate(ys), np.concatenate(groups)


def classifier(system: str):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=250,
        learning_rate=0.05,
        max_leaf_nodes=15,
        max_depth=6,
        min_samples_leaf=40 if system == CM else 20,
        l2_regularization=1.0,
        random_state=0,
    )


def train(prepared: Sequence[Prepared], index_for, folds: int = 5, progress=print) -> dict:
    """The model payload; ``index_for``: a code system's candidate index (:meth:`pipeline.code.coder.Coder.index`)."""
    from sklearn.isotonic import IsotonicRegression

    from pipeline.code.rank.trees import Isotonic, TreeEnsemble

    fold_of = np.arange(len(prepared)) % folds
    payload = {
        "format": MODEL_FORMAT,
        "version": "codiesp-train-gbm-2",
        "features": FEATURES,
        "stats": {},
        "models": {},
        "calibrators": {},
        "report": {},
    }
    for system in SYSTEMS:
        parts = []
        for f in range(folds):
            inside = [d for d, k in zip(prepared, fold_of) if k == f]
            others = [d for d, k in zip(prepared, fold_of) if k != f]
            x, y, _ = rows(inside, system, count(others, system), index_for(system))
            parts.append((x, y, np.full(len(y), f)))
        x = np.vstack([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])
        fold = np.concatenate([p[2] for p in parts])
        oof = np.zeros(len(y))
        for f in range(folds):
            model = classifier(system).fit(x[fold != f], y[fold != f])
            oof[fold == f] = model.predict_proba(x[fold == f])[:, 1]
        calibrator = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(oof, y)
        model = classifier(system).fit(x, y)
        payload["stats"][system] = count(prepared, system).pruned()
        payload["models"][system] = TreeEnsemble.from_sklearn(model)
        payload["calibrators"][system] = Isotonic.from_sklearn(calibrator)
        payload["report"][system] = {"rows": int(len(y)), "positives": int(y.sum())}
        progress(f"{system}: {len(y)} candidate rows, {int(y.sum())} gold")
    return payload


def main(argv: Sequence[str] | None = None) -> None:
    import joblib

    from mrt_eval.coding.codiesp import load_split
    from pipeline.code.coder import Coder
    from pipeline.settings import get_settings

    if os.environ.get("PYTHONHASHSEED") != "0" and argv is None:
        # set iteration follows Python's hash seed, and with it the order of candidate rows and the
        # trees fitted on them: a fixed seed makes a retrain on the same installation give the same model
        os.execve(
            sys.executable,
            [sys.executable, "-m", "mrt_eval.coding.rerank_train", *sys.argv[1:]],
            {**os.environ, "PYTHONHASHSEED": "0"},
        )
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--out", default=str(MODEL_PATH))
    args = ap.parse_args(argv)
    coder = Coder(get_settings())
    t = time.perf_counter()
    prepared = prepare(load_split("train", args.limit), coder)
    print(f"guideline pass on {len(prepared)} train documents: {time.perf_counter() - t:.1f}s")
    payload = train(prepared, coder.index, args.folds)
    joblib.dump(payload, args.out, compress=3)
    print(f"wrote {args.out} in {time.perf_counter() - t:.1f}s")


if __name__ == "__main__":
    main()
