#!/usr/bin/env python
"""Derive ``pipeline/code/data/mce_edits.tsv.gz``: the code lists the coding edits run on.

From the Medicare Code Editor (MCE) lists and the Official Guidelines in the shared folder
``shared/data/icd10/`` (which users of the product do not have)::

    python scripts/build_mce_data.py [--source ../shared/data/icd10] [--out pipeline/code/data]

One row per (system, code, edit); every code is checked against the FY2026 code sets and kept
only when valid there (ICD-10-CM: a billable code, a listed header code is replaced by its
billable descendants; ICD-10-PCS: a valid 7-character code). Edits and their sources:

=========================  ==============================================================
edit                       source
=========================  ==============================================================
age_newborn, age_pediatric MCE v43.1 (FY2026, April 2026) age conflict lists; the age
age_maternity, age_adult   range of each list is a ``#age`` meta line
manifestation              MCE v43.1 "manifestation codes not allowed as principal"
unacceptable_principal     MCE v43.1 "unacceptable principal diagnosis"
questionable_admission     MCE v43.1 "questionable admission" principal diagnoses
requires_secondary         MCE v43.1 special principal rules ("only when a secondary
                           diagnosis is also coded")
sex_female, sex_male (CM)  MCE v41.1 (FY2024; the last MCE with sex lists, CMS retired the
                           sex edit on 2024-10-01), plus every FY2026 chapter 15 code
                           (O00-O9A: maternal record only, Guidelines I.C.15.a)
sex_female, sex_male (PCS) MCE v37 (FY2020) procedure sex lists
first_listed_only          Guidelines FY2026 I.C.21.c.15 "Z codes that may only be
                           principal/first-listed diagnosis", expanded to billable codes
=========================  ==============================================================
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(REPO))

from build_codeset_data import write_tsv

from pipeline.code.lookup.codeset import get_codeset

CM, PCS = "ICD-10-CM", "ICD-10-PCS"
OUT_NAME = "mce_edits.tsv.gz"
V43_AGE_EDITS = {"perinatal": "age_newborn", "pediatric": "age_pediatric", "maternity": "age_maternity", "adult": "age_adult"}
V43_LISTS = {
    "manifestation_not_pdx": "manifestation",
    "unacceptable_pdx": "unacceptable_principal",
    "questionable_admission_pdx": "questionable_admission",
}
V41_SEX = {"Female Only": "sex_female", "Male Only": "sex_male"}
V37_PCS_SEX = {"Female_Only": "sex_female", "Male_Only": "sex_male"}
Row = tuple[str, str, str, str]  # system, code, edit, source


class Fy2026Cm:
    """FY2026 ICD-10-CM validity over ``simple_icd_10_cm``, categories named like blocks included."""

    def __init__(self) -> None:
        self.cm = get_codeset().cm_api

    @staticmethod
    def dotted(code: str) -> str:
        c = code.replace(".", "").strip().upper()
        return f"{c[:3]}.{c[3:]}" if len(c) > 3 else c

    def valid(self, code: str) -> bool:
        cm = self.cm
        return cm.is_valid_item(code) and (cm.is_category(code) or cm.is_subcategory(code))

    def billable(self, code: str) -> list[str]:
        """[code] for a billable code, its billable descendants for a header, [] when invalid."""
        c = self.dotted(code)
        if not self.valid(c):
            return []
        if self.cm.is_leaf(c):
            return [c]
        return [d for d in self.cm.get_descendants(c) if self.cm.is_leaf(d)]

    def all_billable(self) -> Iterator[str]:
        for c in dict.fromkeys(self.cm.get_all_codes(True)):
            if self.valid(c) and self.cm.is_leaf(c):
                yield c


def _cm_rows(codes: Iterable[str], edit: str, source: str, fy: Fy2026Cm, dropped: list[str]) -> Iterator[Row]:
    for code in codes:
        found = fy.billable(code)
        if not found:
            dropped.append(f"{edit}:{code}")
        for c in found:
            yield CM, c, edit, source


def mce_v43(path: Path, fy: Fy2026Cm, dropped: list[str]) -> tuple[list[Row], list[str]]:
    data = json.loads(path.read_text())
    src = f"MCE v{data['mce_version']}"
    rows: list[Row] = []
    meta = [f"source\t{src}\t{data['source']}"]
    for key, edit in V43_AGE_EDITS.items():
        nums = [int(n) for n in re.findall(r"\d+", data["age_ranges"][key])]
        lo, hi = (nums[0], nums[0]) if len(nums) == 1 else (nums[0], nums[1])
        meta.append(f"age\t{edit}\t{lo}\t{hi}\t{data['age_ranges'][key]}")
        rows += _cm_rows(data["age_conflict_lists"][key], edit, src, fy, dropped)
    for key, edit in V43_LISTS.items():
        rows += _cm_rows(data[key], edit, src, fy, dropped)
    special = [c for c, rule in data["principal_dx_special_rules"].items() if "secondary diagnosis" in rule["note"].lower()]
    rows += _cm_rows(special, "requires_secondary", src, fy, dropped)
    return rows, meta


def mce_v41_sex(path: Path, fy: Fy2026Cm, dropped: list[str]) -> list[Row]:
    with open(path, newline="", encoding="utf-8") as fh:
        listed = [
            (r["icd_code"], V41_SEX[r["icd_conflict_rule"]]) for r in csv.DictReader(fh) if r["icd_conflict_group"] == "Sex"
        ]
    rows: list[Row] = []
    for edit in V41_SEX.values():
        rows += _cm_rows((c for c, e in listed if e == edit), edit, "MCE v41.1", fy, dropped)
    female = {r[1] for r in rows if r[2] == "sex_female"}
    chapter15 = [c for c in fy.all_billable() if c[0] == "O" and c not in female]
    rows += [(CM, c, "sex_female", "Guidelines FY2026 I.C.15.a") for c in chapter15]
    return rows


def mce_v37_pcs_sex(path: Path, dropped: list[str]) -> list[Row]:
    cs = get_codeset()
    rows: list[Row] = []
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            edit = V37_PCS_SEX.get(r["MCE_Edit_Type"])
            if r["ICD_Code_Type"] != "P" or edit is None:
                continue
            if cs.pcs_is_valid(r["ICD_Code"]):
                rows.append((PCS, r["ICD_Code"], edit, f"MCE v{r['MCE_Version']}"))
            else:
                dropped.append(f"{edit}:{r['ICD_Code']}")
    return rows


_CODE_LINE = re.compile(r"^([A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?)-?\s")
_EXCEPT = re.compile(r"^Except:\s*([A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?)")


def first_listed_only(guidelines: Path, fy: Fy2026Cm, dropped: list[str]) -> list[Row]:
    """Guidelines I.C.21.c.15: the listed codes/categories (with their 'Except:' lines), as billable codes."""
    lines = guidelines.read_text(encoding="utf-8").splitlines()
    start = next(i for i, ln in enumerate(lines) if re.match(r"^\d+\) Z Codes That May Only be Principal/First-Listed", ln))
    listed: list[tuple[str, list[str]]] = []
    for ln in lines[start + 1 :]:
        if re.match(r"^\d+\) ", ln):
            break
        if m := _EXCEPT.match(ln):
            listed[-1][1].append(m.group(1).replace(".", ""))
        elif m := _CODE_LINE.match(ln):
            listed.append((m.group(1), []))
    if len(listed) < 10:
        raise SystemExit(f"guidelines I.C.21.c.15: only {len(listed)} codes parsed; has the text changed?")
    rows: list[Row] = []
    for code, excepted in listed:
        kept = [c for c in fy.billable(code) if not any(c.replace(".", "").startswith(x) for x in excepted)]
        if not kept:
            dropped.append(f"first_listed_only:{code}")
        rows += [(CM, c, "first_listed_only", "Guidelines FY2026 I.C.21.c.15") for c in kept]
    return rows


def build(src: Path, out: Path) -> tuple[int, list[str]]:
    fy = Fy2026Cm()
    dropped: list[str] = []
    rows, meta = mce_v43(src / "mce" / "mce_v43_1_fy2026_april.json", fy, dropped)
    rows += mce_v41_sex(src / "mce" / "mce_v41_1_fy2024_age_sex_manifestation.csv", fy, dropped)
    rows += mce_v37_pcs_sex(src / "mce" / "MCE_Simple_Code_Edits_v37.tsv", dropped)
    rows += first_listed_only(src / "guidelines-fy2026" / "icd10cm_guidelines_fy2026.txt", fy, dropped)
    unique = sorted(dict.fromkeys(rows), key=lambda r: (r[2], r[0], r[1]))
    n = write_tsv(out, ["system", "code", "edit", "source"], unique, meta)
    return n, dropped


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, default=REPO / ".." / "shared" / "data" / "icd10")
    ap.add_argument("--out", type=Path, default=REPO / "pipeline" / "code" / "data")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / OUT_NAME
    n, dropped = build(args.source.resolve(), path)
    print(f"{OUT_NAME} {n} rows {path.stat().st_size / 1024:.0f} KiB")
    if dropped:
        print(f"not in FY2026, left out ({len(dropped)}): {', '.join(dropped)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
