"""Speed of the coding stage alone (extraction excluded) on CodiEsp dev: ``mrt bench code`` and
``python bench/code_speed.py``.

Entities come from the evaluation cache (:mod:`mrt_eval.coding.entity_cache`; extracted first if
absent, not timed). The code indexes and the re-ranker are loaded and one document coded before
timing starts (that load time is reported separately).
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import asdict, dataclass

from pipeline.machine import describe


@dataclass(frozen=True)
class CodeBench:
    documents: int
    entities: int
    load_s: float
    docs_per_s: float
    median_ms: float
    p90_ms: float
    model_version: str
    machine: str
    load_average: float

    def as_dict(self) -> dict:
        return asdict(self)


def run(limit: int | None = None, setting: str = "inpatient") -> CodeBench:
    from mrt_eval.coding.codiesp import load_split
    from mrt_eval.coding.entity_cache import cached_entities
    from pipeline.code.coder import MODEL_VERSION, Coder
    from pipeline.code.types import CM, PCS
    from pipeline.settings import get_settings

    settings = get_settings()
    docs = load_split("dev", limit)
    entities = cached_entities([d.text for d in docs], settings.cache_dir)

    t = time.perf_counter()
    coder = Coder(settings)
    coder.index(CM), coder.index(PCS), coder.reranker
    coder.propose(entities[0], setting=setting, text=docs[0].text)
    load_s = time.perf_counter() - t

    times = []
    start = time.perf_counter()
    for doc, ents in zip(docs, entities):
        t = time.perf_counter()
        coder.propose(ents, setting=setting, text=doc.text)
        times.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    return CodeBench(
        documents=len(docs),
        entities=sum(len(e) for e in entities),
        load_s=load_s,
        docs_per_s=len(docs) / total,
        median_ms=1000 * statistics.median(times),
        p90_ms=1000 * statistics.quantiles(times, n=10)[-1] if len(times) > 1 else 1000 * times[0],
        model_version=MODEL_VERSION,
        machine=describe(),
        load_average=os.getloadavg()[0],
    )


def table(result: CodeBench):
    from rich.table import Table

    t = Table(
        title=f"Coding stage on CodiEsp dev ({result.model_version}; {result.machine}; "
        f"load average {result.load_average:.1f} at the end)"
    )
    for col in ("measure", "value"):
        t.add_column(col)
    t.add_row("documents", str(result.documents))
    t.add_row("entities (all labels)", str(result.entities))
    t.add_row("index + model load and first document (s)", f"{result.load_s:.2f}")
    t.add_row("documents / second", f"{result.docs_per_s:.1f}")
    t.add_row("median ms / document", f"{result.median_ms:.1f}")
    t.add_row("p90 ms / document", f"{result.p90_ms:.1f}")
    return t
