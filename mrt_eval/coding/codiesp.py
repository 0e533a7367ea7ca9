"""The CodiEsp corpus as evaluation documents: English text with its gold CM and PCS codes.

CodiEsp (CLEF eHealth 2020, CC BY 4.0) lives outside the package, in the shared data folder a
developer has next to the repository (``../shared/data/codiesp``) or wherever ``MRT_CODIESP_DIR``
points. Users do not have it; only evaluation and benchmarks read it.

Gold codes are stored lower case; here CM codes are upper case and dotted (``E11.9``), PCS codes
upper case and undotted. About half the gold PCS codes are 4-character prefixes (imaging and
other sections the CodiEsp coders coded only that far): kept as they are.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.code.types import CM, PCS

SPLITS = ("train", "dev")
_REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class GoldDocument:
    doc_id: str
    text: str
    gold: dict[str, tuple[str, ...]]  # system -> gold codes, in file order, no duplicates


def codiesp_dir() -> Path:
    return Path(os.environ.get("MRT_CODIESP_DIR") or _REPO.parent / "shared" / "data" / "codiesp")


def normalize_gold(system: str, code: str) -> str:
    c = code.strip().upper().replace(".", "")
    if system == CM and len(c) > 3:
        return f"{c[:3]}.{c[3:]}"
    return c


def _read_gold(path: Path, system: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if len(row) < 2 or not row[1].strip():
                continue
            codes = out.setdefault(row[0].strip(), [])
            code = normalize_gold(system, row[1])
            if code not in codes:
                codes.append(code)
    return out


def load_split(split: str, limit: int | None = None, root: Path | None = None) -> list[GoldDocument]:
    """Documents of ``split`` ("train" or "dev") sorted by id, the first ``limit`` of them if given."""
    if split not in SPLITS:
        raise ValueError(f"unknown CodiEsp split {split!r}; expected one of {SPLITS}")
    base = Path(root or codiesp_dir()) / split
    text_dir = base / "text_files_en"
    if not text_dir.is_dir():
        raise FileNotFoundError(
            f"CodiEsp {split} not found at {base} (set MRT_CODIESP_DIR to the folder holding train/ and dev/)"
        )
    cm = _read_gold(base / f"{split}D.tsv", CM)
    pcs = _read_gold(base / f"{split}P.tsv", PCS)
    files = sorted(text_dir.glob("*.txt"))
    if limit is not None:
        files = files[: max(0, limit)]
    return [
        GoldDocument(f.stem, f.read_text(encoding="utf-8"), {CM: tuple(cm.get(f.stem, ())), PCS: tuple(pcs.get(f.stem, ()))})
        for f in files
    ]
