"""The ICD-10-CM / ICD-10-PCS code sets, offline: validity, descriptions, axes, index, aliases.

* ICD-10-CM (FY2026) comes from ``simple_icd_10_cm`` (validity, billable leaves, descriptions,
  inclusion terms, excludes), plus the Alphabetic Index and Table of Neoplasms shipped as
  ``data/cm_*.tsv.gz``.
* ICD-10-PCS (FY2026) comes from ``data/pcs_codes.tsv.gz`` (every valid code with its long
  description and axis labels) and ``data/pcs_index.tsv.gz``.

Everything loads lazily on first use; :func:`get_codeset` returns the process-wide instance.
The data files are made by ``scripts/build_codeset_data.py`` (see ``data/PROVENANCE.md``).
"""

from __future__ import annotations

import csv
import gzip
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
DATA_FILES = ("pcs_codes.tsv.gz", "pcs_index.tsv.gz", "cm_index.tsv.gz", "cm_neoplasm.tsv.gz", "cm_drugs.tsv.gz")
PCS_AXIS_COUNT = 7


@dataclass(frozen=True)
class CmIndexEntry:
    """One row of the ICD-10-CM Alphabetic Index with its full term path."""

    path: tuple[str, ...]  # main term, subterm, sub-subterm ...
    nemod: tuple[str, ...]  # nonessential modifiers, one per level ('' when none)
    code: str  # as printed ('' when none; may end in '-')
    valid: bool  # code exists in FY2026
    billable: bool  # FY2026 leaf
    incomplete: bool  # printed with a trailing '-'
    see: str
    see_also: str
    see_code: str  # code at the see target, when resolvable


@dataclass(frozen=True)
class PcsIndexEntry:
    path: tuple[str, ...]
    kind: str  # 'code' | 'see' | 'use'
    target: str
    code: str  # 3-7 character code / prefix, '' when none


@dataclass(frozen=True)
class CmTableEntry:
    """A row of the Table of Neoplasms or Table of Drugs: path and its codes by column."""

    path: tuple[str, ...]
    nemod: tuple[str, ...]
    codes: dict[str, str]  # column -> code ('' when the table has none)
    see: str
    see_also: str


def read_tsv(path: Path) -> tuple[list[str], list[list[str]], list[str]]:
    """(header, rows, '#' meta lines) of a gzip TSV written by the build script."""
    meta: list[str] = []
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        lines = iter(fh)
        for line in lines:
            if line.startswith("#"):
                meta.append(line[1:].rstrip("\n"))
                continue
            header = line.rstrip("\n").split("\t")
            break
        else:
            return [], [], meta
        rows = list(csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))
    return header, rows, meta


def _levels(text: str) -> tuple[str, ...]:
    return tuple(text.split(" | ")) if text else ()


def subterm_words(paths) -> set[str]:
    """The words (3 letters or more) of the subterms (every level below the main term) of Index paths."""
    return {w for path in paths for part in path[1:] for w in re.findall(r"[a-z]{3,}", part.lower())}


class CodeSet:
    """Lazy accessors over both code sets. Codes are accepted with or without the dot."""

    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        self.data_dir = Path(data_dir)

    def data_files(self) -> list[Path]:
        return [self.data_dir / name for name in DATA_FILES]

    # ------------------------------------------------------------------ ICD-10-CM
    @cached_property
    def _cm(self) -> ModuleType:
        import simple_icd_10_cm

        return simple_icd_10_cm

    @property
    def cm_api(self) -> ModuleType:
        """The ``simple_icd_10_cm`` module (FY2026), imported on first use."""
        return self._cm

    @staticmethod
    def cm_normalize(code: str) -> str:
        """'e119' / 'E11.9 ' -> 'E11.9'; 'I10' -> 'I10' (no validity check)."""
        c = re.sub(r"[\s.]", "", code or "").upper()
        return f"{c[:3]}.{c[3:]}" if len(c) > 3 else c

    def cm_is_valid(self, code: str) -> bool:
        """A FY2026 category, subcategory or code (billable or not); chapters and blocks are not."""
        c = self.cm_normalize(code)
        # 39 categories share their name with their block (B20, C50, F99, R99, Z66 ...): still codes
        return (
            bool(c)
            and "-" not in c
            and self._cm.is_valid_item(c)
            and (not self._cm.is_chapter_or_block(c) or self._cm.is_category(c))
        )

    def cm_is_billable(self, code: str) -> bool:
        """True for a FY2026 leaf code (valid for HIPAA transactions)."""
        c = self.cm_normalize(code)
        return self.cm_is_valid(c) and self._cm.is_leaf(c)

    def cm_description(self, code: str) -> str | None:
        c = self.cm_normalize(code)
        return self._cm.get_description(c) if self.cm_is_valid(c) else None

    def cm_group_titles(self, code: str) -> list[str]:
        """The titles of the code's category and block ("Other nontoxic goiter", "Disorders of thyroid
        gland (E00-E07)" for E04.9): what every code of the group is about. Not the chapter's."""
        c = self.cm_normalize(code)
        if not self.cm_is_valid(c):
            return []
        ancestors = list(self._cm.get_ancestors(c))[:-1]  # the last is the chapter
        return [self._cm.get_description(a) for a in ancestors]

    def cm_children(self, code: str) -> list[str]:
        c = self.cm_normalize(code)
        return list(self._cm.get_children(c)) if self.cm_is_valid(c) else []

    def cm_inclusion_terms(self, code: str) -> list[str]:
        """Inclusion terms and 'includes' notes listed directly under the code."""
        c = self.cm_normalize(code)
        if not self.cm_is_valid(c):
            return []
        return list(self._cm.get_inclusion_term(c)) + list(self._cm.get_includes(c))

    def cm_excludes(self, code: str) -> dict[str, list[str]]:
        """{'excludes1': [...], 'excludes2': [...]} listed directly under the code."""
        c = self.cm_normalize(code)
        if not self.cm_is_valid(c):
            return {"excludes1": [], "excludes2": []}
        return {"excludes1": list(self._cm.get_excludes1(c)), "excludes2": list(self._cm.get_excludes2(c))}

    def cm_unspecified_child(self, code: str, most_unspecified: bool = False, initial_encounter: bool = False) -> str | None:
        """The billable code an index/category code obviously stands for, else None.

        A billable code is itself. A non-leaf goes to its only child; a category to ``code.9``;
        a subcategory to its one child described as "status unknown", else "unspecified" (with ``most_unspecified``, as the
        Table of Neoplasms' "C50.9-" needs: the most so, the first of a tie); repeated down to a leaf.
        With ``initial_encounter``, a code whose children are its 7th-character variants goes to the
        initial encounter (the Alphabetic Index's "Laceration, forehead S01.81" is S01.81XA; the
        search's aliases keep only the Tabular's titles for such codes). Anything else is ambiguous (None).
        """
        cm = self._cm
        c = self.cm_normalize(code)
        if not self.cm_is_valid(c):
            return None
        for _ in range(4):
            if cm.is_leaf(c):
                return c
            kids = list(cm.get_children(c))
            unspecified = [k for k in kids if "unspecified" in cm.get_description(k).lower()]
            # what the record does not document is "status unknown" where the Tabular has it (S06.5XA,
            # "loss of consciousness status unknown"), not "of unspecified duration", which says it happened
            unknown = [k for k in kids if "status unknown" in cm.get_description(k).lower()]
            # what it does not document is "without mention of" where the Tabular has it (M51.369, lumbar disc
            # degeneration "without mention of lumbar back pain or lower extremity pain")
            unknown = unknown or [k for k in kids if "without mention of" in cm.get_description(k).lower()]
            # a leukemia's or myeloma's children by remission (C92.00 / C92.01 / C92.02): "not having
            # achieved remission" is the one the Tabular includes the NOS form in ("Acute myeloblastic
            # leukemia NOS" under C92.00); "in remission" is read from the note
            unremitted = [k for k in kids if "not having achieved remission" in cm.get_description(k).lower()]
            if len(kids) == 1:
                c = kids[0]
            elif "." in c and len(unknown) == 1:
                c = unknown[0]
            elif "." in c and len(unremitted) == 1 and not unspecified:
                c = unremitted[0]
            elif "." not in c and f"{c}.9" in kids:
                c = f"{c}.9"
            elif "." in c and len(unspecified) == 1:
                c = unspecified[0]
            elif initial_encounter and _episodes_of(cm, c, kids):
                # an injury's subcategory printed without its 7th character ("Laceration, forehead S01.81"):
                # the initial encounter (A), which pipeline.code.rules.specificity.episode moves to the
                # episode the documentation states
                c = kids[0]
            elif "." in c and unspecified and most_unspecified:
                # the most "unspecified" child (C34.9 -> C34.90 "unspecified part of unspecified bronchus");
                # children that differ only by sex (C50.91 female, C50.92 male) tie: the first, which the
                # sex edit checks against the patient
                most = max(cm.get_description(k).lower().count("unspecified") for k in unspecified)
                c = next(k for k in unspecified if cm.get_description(k).lower().count("unspecified") == most)
            else:
                return None
        return None

    @cached_property
    def cm_billable_codes(self) -> list[str]:
        cm = self._cm
        codes = (c for c in cm.get_all_codes(True) if (not cm.is_chapter_or_block(c) or cm.is_category(c)) and cm.is_leaf(c))
        return list(dict.fromkeys(codes))  # a category named like its block (B20) is listed twice

    @cached_property
    def cm_index(self) -> list[CmIndexEntry]:
        header, rows, _ = read_tsv(self.data_dir / "cm_index.tsv.gz")
        col = {name: i for i, name in enumerate(header)}
        return [
            CmIndexEntry(
                path=_levels(r[col["path"]]),
                nemod=_levels(r[col["nemod"]]),
                code=r[col["code"]],
                valid=r[col["valid"]] == "1",
                billable=r[col["billable"]] == "1",
                incomplete=r[col["incomplete"]] == "1",
                see=r[col["see"]],
                see_also=r[col["see_also"]],
                see_code=r[col["see_code"]],
            )
            for r in rows
        ]

    def _cm_table(self, name: str) -> list[CmTableEntry]:
        header, rows, _ = read_tsv(self.data_dir / name)
        code_cols = header[2:-2]
        return [CmTableEntry(_levels(r[0]), _levels(r[1]), dict(zip(code_cols, r[2:-2])), r[-2], r[-1]) for r in rows]

    @cached_property
    def cm_neoplasm_table(self) -> list[CmTableEntry]:
        return self._cm_table("cm_neoplasm.tsv.gz")

    @cached_property
    def cm_drug_table(self) -> list[CmTableEntry]:
        return self._cm_table("cm_drugs.tsv.gz")

    # ------------------------------------------------------------------ ICD-10-PCS
    @cached_property
    def _pcs(self) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
        """({code: (description, 7 labels...)}, {section: 7 axis names})."""
        _, rows, meta = read_tsv(self.data_dir / "pcs_codes.tsv.gz")
        names = {}
        for line in meta:
            parts = line.split("\t")
            if parts[0] == "axes":
                names[parts[1]] = tuple(parts[2:])
        return {r[0]: tuple(r[1:]) for r in rows}, names

    @staticmethod
    def pcs_normalize(code: str) -> str:
        return re.sub(r"[\s.]", "", code or "").upper()

    def pcs_is_valid(self, code: str) -> bool:
        """A complete 7-character FY2026 code."""
        return self.pcs_normalize(code) in self._pcs[0]

    def pcs_description(self, code: str) -> str | None:
        row = self._pcs[0].get(self.pcs_normalize(code))
        return row[0] if row else None

    def pcs_axes(self, code: str) -> list[tuple[str, str, str]]:
        """[(axis name, value character, label)] for the 7 characters; [] for an invalid code."""
        c = self.pcs_normalize(code)
        row = self._pcs[0].get(c)
        if row is None:
            return []
        names = self._pcs[1].get(c[0], ("Section", "Body System", "Operation", "4", "5", "6", "7"))
        return [(names[i], c[i], row[1 + i]) for i in range(PCS_AXIS_COUNT)]

    @cached_property
    def _pcs_sorted(self) -> list[str]:
        return sorted(self._pcs[0])

    def pcs_codes_with_prefix(self, prefix: str) -> list[str]:
        import bisect

        p = self.pcs_normalize(prefix)
        codes = self._pcs_sorted
        out = []
        for i in range(bisect.bisect_left(codes, p), len(codes)):
            if not codes[i].startswith(p):
                break
            out.append(codes[i])
        return out

    def pcs_codes(self) -> Iterator[tuple[str, str]]:
        """(code, long description) for every valid code."""
        for code, row in self._pcs[0].items():
            yield code, row[0]

    @cached_property
    def pcs_index(self) -> list[PcsIndexEntry]:
        _, rows, _ = read_tsv(self.data_dir / "pcs_index.tsv.gz")
        return [PcsIndexEntry(_levels(r[0]), r[1], r[2], r[3]) for r in rows]


_instance: CodeSet | None = None
_instance_lock = threading.Lock()


def get_codeset() -> CodeSet:
    """The process-wide :class:`CodeSet` (created on first call; data loads on first use)."""
    global _instance
    with _instance_lock:
        if _instance is None:
            _instance = CodeSet()
        return _instance


def _episodes_of(cm: ModuleType, code: str, kids: list[str]) -> bool:
    """Whether ``kids`` are ``code``'s 7th-character variants (S01.81XA, S01.81XD, S01.81XS), the
    first of them the initial encounter."""
    return (
        bool(kids)
        and all(len(k.replace(".", "")) == 7 and k.startswith(code) for k in kids)
        and "initial encounter" in cm.get_description(kids[0]).lower()
    )
