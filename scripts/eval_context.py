#!/usr/bin/env python
"""Score ``mrt_context`` negation on the NegEx gold set (reports 1-60); same as ``mrt eval context``.

The scoring lives in :mod:`mrt_eval.extract.context`.

Usage: ``python scripts/eval_context.py [--data DIR] [--show-errors] [--limit N]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mrt_eval.extract.context import DATA_DIR, GOLD_FILE, build_pipeline, evaluate, find_concept, load_gold  # noqa: E402,F401


def main() -> int:
    ap = argparse.ArgumentParser(description="Score mrt_context negation on the NegEx gold set.")
    ap.add_argument("--data", type=Path, default=DATA_DIR, help="folder holding the NegEx gold TSV")
    ap.add_argument("--show-errors", action="store_true", help="print the first errors")
    ap.add_argument("--max-errors", type=int, default=20)
    ap.add_argument("--limit", type=int, default=0, help="score only the first N rows")
    args = ap.parse_args()
    gold = args.data / GOLD_FILE
    if not gold.exists():
        print(f"NegEx gold set not found at {gold}; nothing to evaluate (skipping).")
        return 0
    rows = load_gold(gold)
    if args.limit:
        rows = rows[: args.limit]
    t0 = time.perf_counter()
    res = evaluate(rows)
    dt = time.perf_counter() - t0
    for feature in ("negation", "historical", "experiencer"):
        m = res.get(feature)
        if isinstance(m, dict):
            print(
                f"{feature:12s} n={m['n']} tp={m['tp']} tn={m['tn']} fp={m['fp']} fn={m['fn']}  "
                f"accuracy={m['accuracy']:.3f} ppv={m['ppv']:.3f} sensitivity={m['sensitivity']:.3f} "
                f"specificity={m['specificity']:.3f}"
            )
    print(f"concepts not found in their sentence: {res['concept_not_found']}; {len(rows) / dt:.0f} rows/s")
    if args.show_errors:
        errors = res["errors"]
        assert isinstance(errors, list)
        for e in errors[: args.max_errors]:
            label = "Negated" if e["gold"] else "Affirmed"
            print(f"- [{e['report']}] gold={label} concept={e['concept']!r} cues={e['cues']}\n    {e['sentence'][-300:]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
