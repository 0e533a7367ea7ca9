"""Speed of the review screen's code tools: coding edits on a record and type-ahead search.

    python bench/code_lookup.py

Prints the search index build time, warm query latency (median / max) and check_codes
latency for a 20-code record. Figures go in README's "Measured" section with the machine.
"""

from __future__ import annotations

import statistics
import time

from rich.console import Console
from rich.table import Table


def main() -> None:
    from pipeline.code import search
    from pipeline.code.edits.checks import CodeLine, check_codes
    from pipeline.code.lookup.codeset import get_codeset
    from pipeline.code.types import CM, PCS

    cs = get_codeset()
    _ = cs.cm_billable_codes  # the CM library import is not part of the index build
    t = time.perf_counter()
    search.get_index()
    build = time.perf_counter() - t

    queries = [
        "E11.6",
        "0DT",
        "type 2 diabetes kidney",
        "laparoscopic appendectomy",
        "fracture of left femur",
        "hypertension",
        "chf",
        "knee replacement right",
        "high blood pressure",
        "Z79.4",
    ]
    for q in queries:
        search.search_codes(q)
    q_times = []
    for q in queries * 5:
        t = time.perf_counter()
        search.search_codes(q)
        q_times.append(time.perf_counter() - t)

    lines = [CodeLine(CM, c, i == 0) for i, c in enumerate(cs.cm_billable_codes[::3700][:19])] + [CodeLine(PCS, "0DTJ4ZZ")]
    check_codes(lines, sex="F", age=40, setting="inpatient")
    e_times = []
    for _ in range(20):
        t = time.perf_counter()
        check_codes(lines, sex="F", age=40, setting="inpatient")
        e_times.append(time.perf_counter() - t)

    table = Table(title="Review screen code tools")
    for col in ("measure", "median", "max"):
        table.add_column(col)
    table.add_row("search index build (s)", f"{build:.2f}", "")
    table.add_row(
        f"search query, warm, {len(q_times)} queries (ms)",
        f"{1000 * statistics.median(q_times):.2f}",
        f"{1000 * max(q_times):.2f}",
    )
    table.add_row(
        f"check_codes, {len(lines)} codes, warm (ms)", f"{1000 * statistics.median(e_times):.2f}", f"{1000 * max(e_times):.2f}"
    )
    Console().print(table)


if __name__ == "__main__":
    main()
