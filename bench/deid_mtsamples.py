#!/usr/bin/env python
"""What de-identification does to real clinical text: the MTSamples reports (already stripped
of real identifiers by their publisher, so nearly every name-like replacement is a false alarm).

    python bench/deid_mtsamples.py [--limit N] [--show 30]

Prints notes per second, replacements by kind, the share of clinical-lexicon words
(pipeline/extract/data/terms.tsv.gz) that survive, and the most frequent [NAME] replacements
to read by eye. Needs ../shared/data/mtsamples/mtsamples.csv.
"""

from __future__ import annotations

import argparse
import csv
import platform
import re
import sys
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pipeline.records.deid import CAP_RUN, KnownIdentifiers, Replacement, clinical_words, deidentify_text, name_run

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mtsamples" / "mtsamples.csv"
WORD = re.compile(r"[a-z]+")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--show", type=int, default=25)
    args = ap.parse_args()
    if not DATA.is_file():
        sys.exit(f"{DATA} not found: the MTSamples corpus lives in ../shared/data")
    csv.field_size_limit(10_000_000)
    with DATA.open(encoding="utf-8", newline="") as f:
        notes = [r["transcription"] for r in csv.DictReader(f) if r.get("transcription")]
    if args.limit:
        notes = notes[: args.limit]
    lexicon = clinical_words()
    deidentify_text("warm up", KnownIdentifiers(), -30)
    rep = Replacement()
    kept = total = chars = 0
    names: Counter = Counter()
    t0 = time.perf_counter()
    for text in notes:
        out = deidentify_text(text, KnownIdentifiers(), -30, 2026, rep)
        chars += len(text)
        before = Counter(w for w in WORD.findall(text.lower()) if w in lexicon)
        after = Counter(w for w in WORD.findall(out.lower()) if w in lexicon)
        total += sum(before.values())
        kept += sum(min(n, after[w]) for w, n in before.items())
    elapsed = time.perf_counter() - t0
    for text in notes:  # what the capitalized-run rule takes, to read by eye
        for m in CAP_RUN.finditer(text):
            words = m.group(0).split()
            lead = name_run(words)
            if lead is not None:
                names[" ".join(words[lead:])] += 1
    console = Console()
    console.print(
        f"{len(notes)} MTSamples reports, {chars / 1e6:.1f} M characters, {elapsed:.1f} s "
        f"({len(notes) / elapsed:.0f} reports/s) on {platform.machine()} {platform.processor() or ''}".strip()
    )
    console.print(f"clinical-lexicon words kept: {kept}/{total} = {kept / total:.4%}")
    t = Table(title="Replacements by kind")
    t.add_column("kind")
    t.add_column("count", justify="right")
    for k, n in sorted(rep.counts.items(), key=lambda kv: -kv[1]):
        t.add_row(k, str(n))
    console.print(t)
    console.print(
        "Most frequent capitalized runs taken for names: " + "; ".join(f"{k} ({n})" for k, n in names.most_common(args.show))
    )


if __name__ == "__main__":
    main()
