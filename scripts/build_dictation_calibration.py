"""Fit the dictation decision model on the dictation set's TRAINING notes, check it on the dev notes, write it.

    python scripts/build_dictation_calibration.py [--out pipeline/code/data/dictation_calibration.json]

Codes every training note of ``tests/data/dictation/train.jsonl`` (text from ../shared/data/mtsamples,
or MRT_MTSAMPLES_CSV) in the care setting its record gives, with the learned decision switched off
(the rules' own decisions and scores), records the facts of every code the rules proposed or kept
(:mod:`pipeline.code.rank.dictation_calibration`), labels each by whether the hand coder assigned it
(full code), and fits one logistic model per code system. The regularisation and the decision
threshold are chosen by 5-fold cross-validation over the training notes (F1 over every gold code,
those the rules never found included). The dev notes then check the fitted model against the rules'
own decisions; the test notes are never read. ICD-10-PCS is fitted on operative notes only.
Deterministic: the script runs itself under PYTHONHASHSEED=0 and fits with lbfgs in a fixed order.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mrt_eval.coding.dictation import TRAIN, NoteType, load_split  # noqa: E402
from pipeline.code.rank import dictation_calibration as dc  # noqa: E402
from pipeline.code.types import CM, PCS  # noqa: E402

C_GRID = (0.03, 0.1, 0.3, 1.0)
THRESHOLD_GRID = tuple(round(0.2 + 0.05 * i, 2) for i in range(11))
FOLDS = 5


@dataclass(frozen=True)
class NoteRows:
    note_id: str
    rows: list[tuple[dc.CodeFacts, bool]]
    missing: dict[str, int]  # per system: gold codes the rules never put forward


def collect(split: str) -> list[NoteRows]:
    from mrt_eval.coding.entity_cache import cached_entities
    from pipeline.code.coder import propose_codes
    from pipeline.settings import get_settings

    settings = get_settings().model_copy(update={"calibrate_dictations": True})
    pairs = load_split(split)
    entities = cached_entities([d.text for _, d in pairs], settings.cache_dir)
    out = []
    for (note, doc), ents in zip(pairs, entities):
        with dc.collecting() as seen:
            propose_codes(ents, settings=settings, setting=note.setting, text=doc.text)
        if not seen:
            print(f"note {note.note_id}: not laid out as a dictation, nothing to fit", file=sys.stderr)
        systems = (CM, PCS) if note.note_type is NoteType.OPERATIVE_NOTE else (CM,)
        rows = [(f, f.code in doc.gold[f.system]) for f in seen if f.system in systems]
        found = {(f.system, f.code) for f, _ in rows}
        missing = {s: sum(1 for g in doc.gold[s] if (s, g) not in found) for s in systems}
        out.append(NoteRows(note.note_id, rows, missing))
    return out


def f1_of(notes: list[NoteRows], system: str, decided) -> tuple[float, float, float]:
    """P, R, F1 over every gold code of ``system`` (the rules' misses count against recall)."""
    tp = proposed = gold = 0
    for n in notes:
        for f, is_gold in n.rows:
            if f.system != system:
                continue
            gold += is_gold
            if decided(f):
                proposed += 1
                tp += is_gold
        gold += n.missing.get(system, 0)
    p = tp / proposed if proposed else 0.0
    r = tp / gold if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def cross_validate(notes: list[NoteRows], system: str) -> tuple[float, float, float]:
    """(c, threshold, F1): the pair with the best F1 of out-of-fold probabilities."""
    folds = [[n for i, n in enumerate(notes) if i % FOLDS == k] for k in range(FOLDS)]
    best = (C_GRID[0], 0.5, -1.0)
    for c in C_GRID:
        prob: dict[int, float] = {}
        for k in range(FOLDS):
            train = [r for j, fold in enumerate(folds) if j != k for n in fold for r in n.rows]
            models = {m["system"]: m for m in dc.fit(train, c=c)}
            if system not in models:
                continue
            m = models[system]
            model = dc.Logistic.from_dict(m)  # its threshold is not used here: the grid below is
            for n in folds[k]:
                for f, _ in n.rows:
                    if f.system == system:
                        prob[id(f)] = model(f.vector())
        if not prob:
            continue
        for t in THRESHOLD_GRID:
            f1 = f1_of(notes, system, lambda f, t=t, prob=prob: dc.proposes(f, prob.get(id(f), 0.0), t))[2]
            if f1 > best[2] + 1e-12:
                best = (c, t, f1)
    return best


def main() -> None:
    if os.environ.get("PYTHONHASHSEED") != "0":
        # a fixed seed keeps any set-iteration order out of the shipped file
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=dc.CALIBRATION_FILE)
    args = ap.parse_args()
    train = collect(TRAIN)
    dev = collect("dev")
    models = []
    for system in (CM, PCS):
        c, t, cv_f1 = cross_validate(train, system)
        if cv_f1 < 0:
            print(f"{system}: too few gold codes among the training notes' candidates; the rules decide")
            continue
        fitted = dc.fit([r for n in train for r in n.rows if r[0].system == system], c=c, threshold=t)
        m = fitted[0]
        model = dc.Logistic.from_dict(m)
        rules = f1_of(dev, system, lambda f: f.proposed_by_rules)
        learned = f1_of(dev, system, lambda f, model=model, t=t: dc.proposes(f, model(f.vector()), t))
        m["chosen_by"] = f"5-fold cross-validation over {len(train)} training notes: C={c}, F1 {cv_f1:.3f}"
        m["dev_check"] = {
            "rules": {"precision": round(rules[0], 3), "recall": round(rules[1], 3), "f1": round(rules[2], 3)},
            "learned": {"precision": round(learned[0], 3), "recall": round(learned[1], 3), "f1": round(learned[2], 3)},
        }
        print(f"{system}: n={m['examples']} gold={m['positives']} C={c} threshold={t} cv F1={cv_f1:.3f}")
        print(
            f"  dev check (P/R/F1): rules {rules[0]:.3f}/{rules[1]:.3f}/{rules[2]:.3f}  learned {learned[0]:.3f}/{learned[1]:.3f}/{learned[2]:.3f}"
        )
        if learned[2] < rules[2]:
            # the dev notes are the check: a model that decides worse there than the rules is not shipped
            print(f"  {system}: the learned decisions are worse than the rules' on the dev notes; the rules decide")
            continue
        models.append(m)
    payload = {
        "format": dc.FORMAT,
        "features": list(dc.FEATURES),
        "fitted_on": "dictation set training notes (tests/data/dictation/train.jsonl); checked on its dev notes",
        "models": models,
    }
    args.out.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
