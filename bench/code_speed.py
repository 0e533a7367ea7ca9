"""Speed of the coding stage alone (extraction excluded) on CodiEsp dev.

    python bench/code_speed.py [--limit N] [--setting inpatient|outpatient]     (same as `mrt bench code`)

Prints documents/second and median / p90 ms per document (see :mod:`mrt_eval.coding.bench`).
Figures go in README's "Measured" section with the machine they came from.
"""

from __future__ import annotations

import argparse


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--setting", default="inpatient", choices=("inpatient", "outpatient"))
    args = ap.parse_args()

    from rich.console import Console

    from mrt_eval.coding.bench import run, table

    Console().print(table(run(args.limit, args.setting)))


if __name__ == "__main__":
    main()
