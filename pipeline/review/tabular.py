"""The encoder's Tabular List and Alphabetic Index views, from the shipped FY2026 code set
(:mod:`pipeline.code.lookup.codeset`): a code's notes as a coder reads them in the Tabular (includes,
Excludes1, Excludes2, code first, use additional, code also, the 7th-character choices), gathered
from the code and every level above it up to its category, and the Index's entries under a main term.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pipeline.code.lookup.codeset import get_codeset
from pipeline.code.types import CM, PCS

log = logging.getLogger(__name__)
_CODE_IN_NOTE = re.compile(r"\b([A-TV-Z][0-9][0-9AB](?:\.[0-9A-Z]{1,4})?)(-?)")


@dataclass(frozen=True)
class Note:
    text: str
    at: str  # the level the note is printed under (the code itself, its subcategory or category)
    codes: tuple[str, ...]  # codes the note names, for links


@dataclass(frozen=True)
class TabularEntry:
    system: str
    code: str
    description: str
    billable: bool
    includes: tuple[Note, ...] = ()
    excludes1: tuple[Note, ...] = ()
    excludes2: tuple[Note, ...] = ()
    code_first: tuple[Note, ...] = ()
    use_additional: tuple[Note, ...] = ()
    code_also: tuple[Note, ...] = ()
    notes: tuple[Note, ...] = ()
    children: tuple[tuple[str, str, bool], ...] = ()  # (code, description, billable)
    parent: str | None = None
    seventh: tuple[tuple[str, str], ...] = ()  # 7th-character choices (character, meaning)
    seventh_note: str = ""
    seventh_base: str = ""  # the 6-character stem (placeholder X added) a 7th character is appended to
    pcs_axes: tuple[tuple[str, str, str], ...] = ()

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


def _lines(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [x.strip() for x in value.split("\n") if x.strip()]
    return [str(x).strip() for x in value if str(x).strip()]


def _note(text: str, at: str) -> Note:
    return Note(text, at, tuple(dict.fromkeys(m.group(1) for m in _CODE_IN_NOTE.finditer(text))))


@lru_cache(maxsize=4096)
def tabular(code: str) -> TabularEntry | None:
    """The Tabular entry of an ICD-10-CM or ICD-10-PCS code (or CM category / subcategory); None if no such code."""
    cs = get_codeset()
    raw = (code or "").strip()
    pcs = cs.pcs_normalize(raw)
    if len(pcs) == 7 and cs.pcs_is_valid(pcs):
        return TabularEntry(PCS, pcs, cs.pcs_description(pcs) or "", True, pcs_axes=tuple(cs.pcs_axes(pcs)))
    c = cs.cm_normalize(raw)
    if not cs.cm_is_valid(c):
        return None
    api = cs.cm_api
    levels = [c] + [a for a in api.get_ancestors(c) if api.is_category_or_subcategory(a) or api.is_category(a)]
    notes: dict[str, list[Note]] = {
        k: [] for k in ("includes", "excludes1", "excludes2", "code_first", "use_additional", "code_also", "notes")
    }
    for level in levels:
        for kind, fn in (
            ("includes", api.get_inclusion_term),
            ("includes", api.get_includes),
            ("excludes1", api.get_excludes1),
            ("excludes2", api.get_excludes2),
            ("code_first", api.get_code_first),
            ("use_additional", api.get_use_additional_code),
            ("code_also", api.get_code_also),
            ("notes", api.get_notes),
        ):
            notes[kind] += [_note(t, level) for t in _lines(fn(level))]
    seventh = api.get_seven_chr_def(c, search_in_ancestors=True) or {}
    kids = list(api.get_children(c))
    stem = c.replace(".", "")
    base = ""
    if seventh and len(stem) < 7 and all(len(k.replace(".", "")) == 7 for k in kids):
        base = cs.cm_normalize(stem + "X" * (6 - len(stem)))  # placeholder X up to six characters
        seventh = {ch: text for ch, text in seventh.items() if cs.cm_is_billable(base + ch)}
        if not seventh:
            base = ""
    parent = api.get_parent(c)
    note_fields: dict[str, Any] = {k: tuple(v) for k, v in notes.items()}  # includes=..., excludes1=..., notes=...
    return TabularEntry(
        CM,
        c,
        api.get_description(c),
        api.is_leaf(c),
        children=tuple((k, api.get_description(k), api.is_leaf(k)) for k in kids),
        parent=parent if parent and cs.cm_is_valid(parent) else None,
        seventh=tuple(seventh.items()) if base else (),
        seventh_note=(_lines(api.get_seven_chr_note(c, search_in_ancestors=True)) or [""])[0] if base else "",
        seventh_base=base,
        **note_fields,
    )


@dataclass(frozen=True)
class IndexLine:
    depth: int  # 0 = main term
    term: str
    nemod: str  # nonessential modifiers, in parentheses
    code: str
    billable: bool
    see: str
    see_also: str


def index_entries(main_term: str, limit: int = 400) -> list[IndexLine]:
    """The Alphabetic Index under every main term that starts with ``main_term`` (case-insensitive)."""
    q = (main_term or "").strip().lower()
    if len(q) < 2:
        return []
    out: list[IndexLine] = []
    seen: set[tuple[str, ...]] = set()
    for e in get_codeset().cm_index:
        if not e.path or not e.path[0].lower().startswith(q):
            continue
        for depth in range(len(e.path)):  # the levels above an entry, once each
            key = e.path[: depth + 1]
            if key in seen:
                continue
            seen.add(key)
            last = depth == len(e.path) - 1
            out.append(
                IndexLine(
                    depth,
                    e.path[depth],
                    (e.nemod[depth] if depth < len(e.nemod) else ""),
                    e.code if last else "",
                    e.billable if last else False,
                    e.see if last else "",
                    e.see_also if last else "",
                )
            )
        if len(out) >= limit:
            break
    return out


#: what the encoder's look-up searches: the CM Alphabetic Index, its two tables, the PCS Index, the PCS Tables
BOOKS = {
    "index": "ICD-10-CM Alphabetic Index",
    "neoplasm": "Table of Neoplasms",
    "drugs": "Table of Drugs and Chemicals",
    "pcs_index": "ICD-10-PCS Index",
    "pcs_table": "ICD-10-PCS Tables (first 3-4 characters)",
}


@dataclass(frozen=True)
class TableRow:
    path: tuple[str, ...]
    nemod: tuple[str, ...]
    codes: tuple[tuple[str, str], ...]  # (column, code)
    see: str
    see_also: str


def table_rows(book: str, term: str, limit: int = 200) -> list[TableRow]:
    """Rows of the Table of Neoplasms (``neoplasm``: any level naming ``term``) or of Drugs and Chemicals
    (``drugs``: the substance starts with ``term``)."""
    q = (term or "").strip().lower()
    if len(q) < 2:
        return []
    cs = get_codeset()
    rows = cs.cm_neoplasm_table if book == "neoplasm" else cs.cm_drug_table
    out = []
    for r in rows:
        hit = any(q in p.lower() for p in r.path[1:]) if book == "neoplasm" else r.path[0].lower().startswith(q)
        if hit:
            out.append(TableRow(r.path, r.nemod, tuple(r.codes.items()), r.see, r.see_also))
            if len(out) >= limit:
                break
    return out


def pcs_index_rows(term: str, limit: int = 300) -> list:
    """PCS Index entries whose main term starts with ``term``: a code prefix (to the Tables), a 'see' or a 'use'."""
    q = (term or "").strip().lower()
    if len(q) < 2:
        return []
    return [e for e in get_codeset().pcs_index if e.path and e.path[0].lower().startswith(q)][:limit]


def pcs_table(prefix: str, limit: int = 400) -> list[tuple[str, str]]:
    """The valid PCS codes under a 3- or 4-character table prefix, with their descriptions."""
    cs = get_codeset()
    p = cs.pcs_normalize(prefix)[:7]
    if len(p) < 3:
        return []
    return [(c, cs.pcs_description(c) or "") for c in cs.pcs_codes_with_prefix(p)[:limit]]
