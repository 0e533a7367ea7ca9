"""Procedure recognition on the hand-checked MTSamples dev set: ``mrt eval procedures``.

Gold: ``tests/data/procedures/dev.jsonl`` (the set the recognizer was developed on) and
``test.jsonl`` (held out: annotated, then scored, never used for tuning); guideline in
``GUIDELINE.md`` beside them. The product pipeline's PROCEDURE entities are scored exact-span and
by overlap.
"""

from __future__ import annotations

import json
from pathlib import Path

GOLD_DIR = Path(__file__).resolve().parents[2] / "tests" / "data" / "procedures"
DEV_SET = GOLD_DIR / "dev.jsonl"


def load_dev(path: Path | None = None) -> list[dict]:
    src = path or DEV_SET
    if not src.is_file():
        raise FileNotFoundError(f"procedure dev set not found at {src} (it lives in the repository's tests/data)")
    return [json.loads(line) for line in src.read_text(encoding="utf-8").splitlines() if line.strip()]


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def score(gold: list[list[tuple[int, int]]], pred: list[list[tuple[int, int]]]) -> dict:
    exact = [0, 0, 0]
    overlap = [0, 0, 0]
    for g, p in zip(gold, pred):
        gs, ps = set(g), set(p)
        exact[0] += len(gs & ps)
        exact[1] += len(ps - gs)
        exact[2] += len(gs - ps)
        used: set[tuple[int, int]] = set()
        for span in p:
            hit = next((x for x in g if x not in used and x[0] < span[1] and span[0] < x[1]), None)
            if hit:
                used.add(hit)
                overlap[0] += 1
            else:
                overlap[1] += 1
        overlap[2] += len(g) - len(used)
    return {"exact": _prf(*exact), "overlap": _prf(*overlap)}


def evaluate(path: Path | None = None, split: str = "dev") -> dict:
    from pipeline.extract.pipeline import extract_many

    docs = load_dev(path or GOLD_DIR / f"{split}.jsonl")
    ents = extract_many([d["text"] for d in docs])
    gold = [[(s, e) for s, e, _ in d["procedures"]] for d in docs]
    pred = [[(e.start, e.end) for e in es if e.label == "PROCEDURE"] for es in ents]
    report = {"split": split, "documents": len(docs), "gold": sum(map(len, gold)), **score(gold, pred)}
    report["missed"] = [d["text"][s:e] for d, g, p in zip(docs, gold, pred) for s, e in g if (s, e) not in p]
    report["spurious"] = [d["text"][s:e] for d, g, p in zip(docs, gold, pred) for s, e in p if (s, e) not in g]
    return report
