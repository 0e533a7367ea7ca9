"""Throughput of the whole extraction pipeline on MTSamples text: ``mrt bench extract``.

Loads the product pipeline (NER models, lexicon, context, the linker and its code indexes) and
warms it on a few reports, then runs ``nlp.pipe`` over MTSamples transcriptions and reports words
per second of wall time and per CPU second (= per core: the process is limited to one thread),
and the time each component takes. Words are whitespace-separated tokens of the input text.
"""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mrt_eval.extract.ner_corpora import shared_data_root
from pipeline.machine import describe as machine

_MTSAMPLES_SPACING = re.compile(r"\.,\s*|:,\s*|,\s{2,}")


def clean_mtsamples(text: str) -> str:
    """MTSamples writes line breaks as ",": "ASSESSMENT:,  Allergic rhinitis.,PLAN:," -> lines."""
    return _MTSAMPLES_SPACING.sub(lambda m: m.group(0)[0] + "\n" if m.group(0)[0] in ".:" else "\n", text).strip()


def read_mtsamples(path: Path | None = None, limit: int | None = None, specialty: str | None = None) -> list[dict]:
    """MTSamples rows (note_id, medical_specialty, sample_name, text) with non-empty transcriptions."""
    src = path or shared_data_root() / "mtsamples" / "mtsamples.csv"
    if not src.is_file():
        raise FileNotFoundError(f"MTSamples not found at {src} (needs ../shared/data)")
    rows = []
    with open(src, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if not (row.get("transcription") or "").strip():
                continue
            if specialty and specialty.lower() not in row["medical_specialty"].lower():
                continue
            rows.append(
                {
                    "note_id": row["note_id"],
                    "specialty": row["medical_specialty"].strip(),
                    "name": row["sample_name"].strip(),
                    "text": clean_mtsamples(row["transcription"]),
                }
            )
            if limit and len(rows) >= limit:
                break
    return rows


@dataclass
class ExtractBench:
    documents: int
    words: int
    entities: int
    wall_s: float
    cpu_s: float
    threads: int
    machine: str
    component_s: dict[str, float] = field(default_factory=dict)

    @property
    def words_per_s(self) -> float:
        return self.words / self.wall_s if self.wall_s else 0.0

    @property
    def words_per_cpu_s(self) -> float:
        return self.words / self.cpu_s if self.cpu_s else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "words_per_s": round(self.words_per_s, 1), "words_per_cpu_s": round(self.words_per_cpu_s, 1)}


def run(n_docs: int = 400, batch_size: int = 32, warmup: int = 10, progress: Callable[[str], None] | None = None) -> ExtractBench:
    """Time the product's extraction pipeline over ``n_docs`` MTSamples reports (after ``warmup``)."""
    from threadpoolctl import threadpool_limits

    from pipeline.extract.pipeline import shared_extractor

    rows = read_mtsamples(limit=n_docs + warmup)
    texts = [r["text"] for r in rows]
    warm, texts = texts[:warmup], texts[warmup:]
    say = progress or (lambda _msg: None)
    with threadpool_limits(limits=1):
        say("loading the pipeline, NER models and code indexes")
        nlp = shared_extractor().nlp
        for _ in nlp.pipe(warm, batch_size=batch_size):
            pass
        say(f"timing {len(texts)} reports")
        per_component = {name: 0.0 for name in nlp.pipe_names}
        words = sum(len(t.split()) for t in texts)
        n_ents = 0
        t0, c0 = time.perf_counter(), time.process_time()
        for start in range(0, len(texts), batch_size):
            tb = time.perf_counter()
            docs = [nlp.make_doc(t) for t in texts[start : start + batch_size]]
            per_component.setdefault("tokenizer", 0.0)
            per_component["tokenizer"] += time.perf_counter() - tb
            for name, proc in nlp.pipeline:
                tc = time.perf_counter()
                docs = list(proc.pipe(docs)) if hasattr(proc, "pipe") else [proc(d) for d in docs]
                per_component[name] += time.perf_counter() - tc
            n_ents += sum(len(d.ents) for d in docs)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return ExtractBench(len(texts), words, n_ents, wall, cpu, 1, machine(), {k: round(v, 3) for k, v in per_component.items()})
