"""Speed of the coding stage alone (extraction excluded) on CodiEsp dev.

    python bench/code_speed.py [--limit N] [--setting inpatient|outpatient]

Entities come from the evaluation cache (extracted first if absent; not timed). The code indexes
are loaded and one document coded before timing starts (load time printed separately). Prints
documents/second and median / p90 ms per document. Figures go in README's "Measured" section
with the machine they came from.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

from rich.console import Console
from rich.table import Table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--setting", default="inpatient", choices=("inpatient", "outpatient"))
    args = ap.parse_args()

    from pipeline.code.codiesp import load_split
    from pipeline.code.coder import MODEL_VERSION, get_index, propose_codes
    from pipeline.code.entity_cache import cached_entities
    from pipeline.code.types import CM, PCS
    from pipeline.settings import get_settings

    settings = get_settings()
    docs = load_split("dev", args.limit)
    entities = cached_entities([d.text for d in docs], settings.cache_dir)

    t = time.perf_counter()
    get_index(CM, settings), get_index(PCS, settings)
    propose_codes(entities[0], settings=settings, setting=args.setting)
    warmup = time.perf_counter() - t

    times = []
    start = time.perf_counter()
    for ents in entities:
        t = time.perf_counter()
        propose_codes(ents, settings=settings, setting=args.setting)
        times.append(time.perf_counter() - t)
    total = time.perf_counter() - start

    mentions = sum(len(e) for e in entities)
    table = Table(title=f"Coding stage on CodiEsp dev ({MODEL_VERSION}; {platform.processor() or platform.machine()})")
    for col in ("measure", "value"):
        table.add_column(col)
    table.add_row("documents", str(len(docs)))
    table.add_row("entities (all labels)", str(mentions))
    table.add_row("index load + first document (s)", f"{warmup:.2f}")
    table.add_row("documents / second", f"{len(docs) / total:.1f}")
    table.add_row("median ms / document", f"{1000 * statistics.median(times):.1f}")
    table.add_row("p90 ms / document", f"{1000 * statistics.quantiles(times, n=10)[-1]:.1f}" if len(times) > 1 else "-")
    Console().print(table)


if __name__ == "__main__":
    main()
