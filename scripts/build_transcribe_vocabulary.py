#!/usr/bin/env python
"""Derive the transcription vocabulary shipped in ``pipeline/transcribe/data/vocabulary.tsv.gz``.

    python scripts/build_transcribe_vocabulary.py [--mtsamples ../shared/data/mtsamples/mtsamples.csv]

From the MTSamples reports (../shared/data, read-only; the reports that ``bench/make_dictations.py``
speaks are left out so the benchmark stays unseen) it counts, per MTSamples category (specialty or
document kind such as "Discharge Summary", "Surgery"):

* every term of the project's extraction lexicon (``pipeline/extract/data/terms.tsv.gz``, abbreviations'
  long forms) that occurs, and
* clinical words: words of 5+ letters that are rare in general English (two or more GPT-2 tokens,
  Whisper's own vocabulary) and occur in at least 3 reports (drug brand names, anatomy, procedure words).

Rows: ``term<TAB>label<TAB>total<TAB>category=count;...`` (label ``WORD`` for clinical words). The
biasing prompt is chosen from these counts per dictation; term correction uses the rows as extra
targets besides the lexicon.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.make_dictations import PICKS  # noqa: E402
from pipeline.transcribe.lexicon import is_common_word, read_lexicon_terms  # noqa: E402

OUT = ROOT / "pipeline" / "transcribe" / "data" / "vocabulary.tsv.gz"
WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]")
MAX_N = 6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mtsamples", type=Path, default=ROOT.parent / "shared" / "data" / "mtsamples" / "mtsamples.csv")
    ap.add_argument("--min-reports", type=int, default=3)
    args = ap.parse_args()
    if not args.mtsamples.is_file():
        sys.exit(f"{args.mtsamples} not found (needs ../shared/data)")
    lexicon = read_lexicon_terms()
    held_out = {name for name, _ in PICKS}
    csv.field_size_limit(1 << 24)
    term_counts: dict[str, Counter] = defaultdict(Counter)
    word_counts: dict[str, Counter] = defaultdict(Counter)
    word_reports: Counter = Counter()
    spelling: dict[str, Counter] = defaultdict(Counter)
    with open(args.mtsamples, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["sample_name"].strip() in held_out or not row.get("transcription"):
                continue
            cat = row["medical_specialty"].strip()
            tokens = WORD.findall(row["transcription"])
            low = [t.lower() for t in tokens]
            i = 0
            while i < len(low):  # greedy longest lexicon match
                for n in range(min(MAX_N, len(low) - i), 0, -1):
                    cand = " ".join(low[i : i + n])
                    if cand in lexicon:
                        term_counts[cand][cat] += 1
                        i += n
                        break
                else:
                    i += 1
            seen = set()
            for tok, lw in zip(tokens, low):
                if len(lw) >= 5 and lw not in lexicon:
                    word_counts[lw][cat] += 1
                    spelling[lw][tok if not tok.isupper() else lw] += 1
                    seen.add(lw)
            word_reports.update(seen)
    rows = []
    for term, cats in term_counts.items():
        rows.append((term, lexicon[term], cats))
    for w, cats in word_counts.items():
        if word_reports[w] >= args.min_reports and not is_common_word(w):
            form = spelling[w].most_common(1)[0][0]
            rows.append((form if form.lower() == w else w, "WORD", cats))
    rows.sort(key=lambda r: (-sum(r[2].values()), r[0]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(OUT, "wt", encoding="utf-8", compresslevel=9) as f:
        f.write("term\tlabel\ttotal\tcategories\n")
        for term, label, cats in rows:
            cat_s = ";".join(f"{c}={n}" for c, n in cats.most_common())
            f.write(f"{term}\t{label}\t{sum(cats.values())}\t{cat_s}\n")
    print(f"{len(rows)} rows -> {OUT} ({OUT.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
