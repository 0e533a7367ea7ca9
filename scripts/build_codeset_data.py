#!/usr/bin/env python
"""Derive the compact code-set files under ``pipeline/code/data/`` from the raw public-domain files.

The raw files (CDC/NCHS ICD-10-CM index and tables, CMS ICD-10-PCS index and tables) live in a
shared folder that users of the product do not have; this script turns them into small gzip TSV
files that ship with the package. Rebuild with::

    python scripts/build_codeset_data.py [--source ../shared/data/icd10] [--out pipeline/code/data]

Outputs (see ``pipeline/code/data/PROVENANCE.md``): ``pcs_codes.tsv.gz``, ``pcs_index.tsv.gz``,
``cm_index.tsv.gz``, ``cm_neoplasm.tsv.gz``, ``cm_drugs.tsv.gz``.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import itertools
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pcs_titles import pcs_long_title  # noqa: E402

Axis = tuple[str, str, str]  # (axis title, value char, label)


def _clean(text: str | None) -> str:
    return " ".join((text or "").replace("\t", " ").split())


def write_tsv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]], meta: Sequence[str] = ()) -> int:
    """Write a gzip TSV (mtime 0 so rebuilds are byte-identical); ``meta`` lines go first, prefixed '#'."""
    n = 0
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        for line in meta:
            gz.write(f"#{line}\n".encode())
        gz.write(("\t".join(header) + "\n").encode())
        for row in rows:
            gz.write(("\t".join(re.sub(r"[\t\r\n]+", " ", str(v)) for v in row) + "\n").encode())
            n += 1
    return n


# ---------------------------------------------------------------- ICD-10-PCS tables -> codes
def pcs_codes(tables_xml: Path) -> Iterator[list[Axis]]:
    """Every valid code of the FY tables: the 3 table axes times each row's axes 4-7."""
    for table in ET.parse(tables_xml).getroot().iter("pcsTable"):
        axes = {a.get("pos"): a for a in table.findall("axis")}
        fixed: list[Axis] = []
        for pos in "123":
            lab = axes[pos].find("label")
            fixed.append((_clean(axes[pos].findtext("title")), lab.get("code", ""), _clean(lab.text)))
        for row in table.findall("pcsRow"):
            choices = [
                [(_clean(a.findtext("title")), lab.get("code", ""), _clean(lab.text)) for lab in a.findall("label")]
                for a in sorted(row.findall("axis"), key=lambda a: int(a.get("pos", "0")))
            ]
            for combo in itertools.product(*choices):
                yield fixed + list(combo)


def build_pcs_codes(tables_xml: Path, out: Path) -> int:
    seen: dict[str, tuple[str, ...]] = {}
    axis_names: dict[str, tuple[str, ...]] = {}
    for axes in pcs_codes(tables_xml):
        code = "".join(a[1] for a in axes)
        if code in seen:
            continue
        axis_names.setdefault(code[0], tuple(a[0] for a in axes))
        seen[code] = (code, pcs_long_title(axes), *(a[2] for a in axes))
    meta = [f"axes\t{sec}\t" + "\t".join(names) for sec, names in sorted(axis_names.items())]
    header = ["code", "description", "section", "body_system", "operation", "axis4", "axis5", "axis6", "axis7"]
    return write_tsv(out, header, (seen[c] for c in sorted(seen)), meta)


# ---------------------------------------------------------------- ICD-10-PCS index
def _pcs_code_of(el: ET.Element) -> str:
    for tag in ("code", "codes", "tab"):
        text = el.findtext(tag)
        if text:
            return _clean(text)
    return ""


def build_pcs_index(index_xml: Path, out: Path) -> int:
    rows: list[tuple[str, str, str, str]] = []

    def walk(node: ET.Element, path: list[str]) -> None:
        title = _clean("".join(node.find("title").itertext())) if node.find("title") is not None else ""
        here = path + [title] if title else path
        joined = " | ".join(here)
        own = _pcs_code_of(node)
        if own:
            rows.append((joined, "code", "", own))
        for ref in node:
            if ref.tag in ("see", "use"):
                rows.append((joined, ref.tag, _clean(ref.text), _pcs_code_of(ref)))
        for child in node.findall("term"):
            walk(child, here)

    for main in ET.parse(index_xml).getroot().iter("mainTerm"):
        walk(main, [])
    return write_tsv(out, ["path", "kind", "target", "code"], rows)


# ---------------------------------------------------------------- ICD-10-CM alphabetic index
_CODE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?-?$")


def _norm(text: str) -> str:
    text = re.sub(r"\([^)]*\)", " ", text.lower())
    return " ".join(re.sub(r"[^a-z0-9']+", " ", text).split())


def _resolve(code: str) -> tuple[int, int, int]:
    """(valid in FY2026, billable leaf, incomplete '-') for an index code."""
    import simple_icd_10_cm as cm

    incomplete = int(code.endswith("-"))
    base = code.rstrip("-").rstrip(".")
    if not base or not cm.is_valid_item(base):
        return 0, 0, incomplete
    billable = int(not incomplete and cm.is_leaf(base) and not cm.is_chapter_or_block(base))
    return 1, billable, incomplete


# Main terms the flattened Index split wrongly: "Cancer(o)phobia F45.29" came out as the term
# "Cancer" with the nonessential modifier "(o)", which would make every cancer a phobia.
# (term, nonessential modifier, code) -> (term, nonessential modifier)
_LOSSY_MAIN_TERMS = {("Cancer", "(o)", "F45.29"): ("Cancerophobia", "")}
# Subterms whose title went on after its nonessential modifier, which the flattening drops: the official
# "Failure, respiration, acute and (on) chronic J96.20" came out as "acute and", read as plain "acute".
# (term, nonessential modifier, code) -> (term, nonessential modifier)
_LOSSY_SUBTERMS = {("acute and", "(on)", "J96.20"): ("acute and chronic", "(on)")}
# ... and the heart failures' "acute, and (on) chronic": the title's "chronic" came out in the nonessential
# modifier ("and", "(on) chronic (congestive)"), or was lost where nothing followed it (I50.813)
_ON = re.compile(r"^\(on\)\s*(?:(acute|chronic)\b\s*)?(.*)$")
_OPPOSITE_ACUITY = {"acute": "chronic", "chronic": "acute"}


def _acute_and_chronic(term: str, nemod: str, parent: str) -> tuple[str, str]:
    """The subterm "and (on) chronic" under "acute" (or "and (on) acute" under "chronic") as the Index
    prints it, from the flattened "and" and its modifier; any other subterm as it is."""
    m = _ON.match(nemod) if term == "and" else None
    acuity = (m.group(1) if m else None) or _OPPOSITE_ACUITY.get(parent.lower())
    if not m or not acuity:
        return term, nemod
    return f"and {acuity}", " ".join(["(on)", m.group(2)]).strip()


def build_cm_index(index_csv: Path, out: Path) -> int:
    with open(index_csv, newline="", encoding="utf-8") as fh:
        raw = list(csv.DictReader(fh))
    entries: list[dict[str, object]] = []
    stack: list[tuple[str, str]] = []  # (term, nonessential modifiers) per level
    for r in raw:
        level = int(r["Level"])
        term, nemod = _clean(r["Term"]), _clean(r["NonEssModif"])
        lossy = _LOSSY_MAIN_TERMS if level == 0 else _LOSSY_SUBTERMS
        term, nemod = lossy.get((term, nemod, _clean(r["Code"])), (term, nemod))
        if level > 0 and len(stack) >= level:
            term, nemod = _acute_and_chronic(term, nemod, stack[level - 1][0])
        if term.startswith("Note:"):
            # a note is no subterm: the flattening put the heart failure stages' note at the level of "heart",
            # which made every later subterm of heart (systolic, diastolic ...) a subterm of the note
            entries.append(
                {"row": r, "path": [t for t, _ in stack[:level]] + [term], "nemod": [m for _, m in stack[:level]] + [nemod]}
            )
            continue
        stack = stack[:level] + [(term, nemod)]
        entries.append({"row": r, "path": [t for t, _ in stack], "nemod": [m for _, m in stack]})

    # lookup of normalised term paths (main term also by its first comma part) for see-references
    lookup: dict[tuple[str, ...], str] = {}
    mains: dict[str, list[str]] = {}
    for e in entries:
        path: list[str] = e["path"]  # type: ignore[assignment]
        code = _clean(e["row"]["Code"])  # type: ignore[index]
        if len(path) == 1:
            mains.setdefault(_norm(path[0].split(",")[0]), []).append(path[0])
            mains.setdefault(_norm(path[0]), []).append(path[0])
        if code:
            lookup.setdefault(tuple(_norm(p) for p in path), code)

    def see_code(target: str) -> str:
        parts = [p.strip() for p in target.split(",")]
        for cut in range(len(parts), 0, -1):
            for main in mains.get(_norm(", ".join(parts[:cut])), []):
                hit = lookup.get((_norm(main), *(_norm(p) for p in parts[cut:])))
                if hit:
                    return hit
        return ""

    def rows() -> Iterator[tuple[object, ...]]:
        for e in entries:
            r = e["row"]
            code = _clean(r["Code"])  # type: ignore[index]
            if code and not _CODE.match(code):
                code = ""
            valid, billable, incomplete = _resolve(code) if code else (0, 0, 0)
            see, see_also = _clean(r["See"]), _clean(r["SeeAlso"])  # type: ignore[index]
            # a main term with no code of its own and only a "see also" is coded where that leads
            # ("Necrosis - see also Gangrene": I96); "see also condition" names no term
            target = see or (see_also if len(e["path"]) == 1 and not code and see_also != "condition" else "")
            yield (
                r["RowID"],
                len(e["path"]) - 1,
                " | ".join(e["path"]),
                " | ".join(e["nemod"]),  # type: ignore
                code,
                valid,
                billable,
                incomplete,
                see,
                see_also,
                see_code(target) if target else "",
            )

    header = ["row_id", "level", "path", "nemod", "code", "valid", "billable", "incomplete", "see", "see_also", "see_code"]
    return write_tsv(out, header, rows())


# ---------------------------------------------------------------- Table of Neoplasms / Drugs
def build_cm_table(table_xml: Path, out: Path, columns: Sequence[str]) -> int:
    root = ET.parse(table_xml).getroot()
    rows: list[list[str]] = []

    def walk(node: ET.Element, path: list[str], nemods: list[str]) -> None:
        title = node.find("title")
        text = _clean(title.text) if title is not None else ""
        nemod = _clean(" ".join(n.text or "" for n in title.findall("nemod"))) if title is not None else ""
        path, nemods = path + [text], nemods + [nemod]
        cells = {c.get("col"): _clean(c.text) for c in node.findall("cell")}
        codes = [cells.get(str(i), "") for i in range(2, 2 + len(columns))]
        codes = ["" if c.strip("-") == "" else c for c in codes]
        rows.append(
            [" | ".join(path), " | ".join(nemods), *codes, _clean(node.findtext("see")), _clean(node.findtext("seeAlso"))]
        )
        for child in node.findall("term"):
            walk(child, path, nemods)

    for main in root.iter("mainTerm"):
        walk(main, [], [])
    return write_tsv(out, ["path", "nemod", *columns, "see", "see_also"], rows)


NEOPLASM_COLUMNS = ["malignant_primary", "malignant_secondary", "in_situ", "benign", "uncertain", "unspecified"]
DRUG_COLUMNS = [
    "poisoning_accidental",
    "poisoning_intentional",
    "poisoning_assault",
    "poisoning_undetermined",
    "adverse_effect",
    "underdosing",
]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, default=REPO / ".." / "shared" / "data" / "icd10")
    ap.add_argument("--out", type=Path, default=REPO / "pipeline" / "code" / "data")
    args = ap.parse_args(argv)
    src: Path = args.source.resolve()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    jobs = [
        ("pcs_codes.tsv.gz", lambda p: build_pcs_codes(src / "pcs-2026" / "icd10pcs_tables_2026.xml", p)),
        ("pcs_index.tsv.gz", lambda p: build_pcs_index(src / "pcs-2025" / "icd10pcs_index_2025.xml", p)),
        ("cm_index.tsv.gz", lambda p: build_cm_index(src / "cm-index-2025" / "ICD10CM_2025_Index.csv", p)),
        (
            "cm_neoplasm.tsv.gz",
            lambda p: build_cm_table(src / "cm-tables-2025" / "icd-10-cm-neoplasm-2025.xml", p, NEOPLASM_COLUMNS),
        ),
        ("cm_drugs.tsv.gz", lambda p: build_cm_table(src / "cm-tables-2025" / "icd-10-cm-drug-2025.xml", p, DRUG_COLUMNS)),
    ]
    for name, job in jobs:
        n = job(out / name)
        print(f"{name:20s} {n:7d} rows {(out / name).stat().st_size / 1024:8.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
