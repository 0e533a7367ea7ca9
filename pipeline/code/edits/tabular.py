"""The FY2026 tabular as the coding edits read it: code status (billable, header, invalid), titles,
the MCE lists (``data/mce_edits.tsv.gz``) and the notes a tabular code carries (Excludes1, "code
first", "use additional code") with the codes and ranges they point at. The record checks
(:mod:`pipeline.code.edits.checks`) and the coding rules (alternates, sequencing) read them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pipeline.code.lookup.codeset import DATA_DIR, get_codeset, read_tsv
from pipeline.code.types import CM

MCE_FILE = "mce_edits.tsv.gz"


@dataclass(frozen=True)
class MceLists:
    codes: dict[tuple[str, str], frozenset[str]]  # (system, edit) -> codes (CM dotted, PCS undotted)
    ages: dict[str, tuple[int, int]]  # age edit -> (lowest, highest) age in years

    def has(self, system: str, edit: str, code: str) -> bool:
        return code in self.codes.get((system, edit), frozenset())


@lru_cache(maxsize=1)
def mce_lists() -> MceLists:
    _, rows, meta = read_tsv(DATA_DIR / MCE_FILE)
    found: dict[tuple[str, str], set[str]] = {}
    for system, code, edit, _source in rows:
        found.setdefault((system, edit), set()).add(code)
    ages = {}
    for line in meta:
        parts = line.split("\t")
        if parts[0] == "age":
            ages[parts[1]] = (int(parts[2]), int(parts[3]))
    return MceLists({k: frozenset(v) for k, v in found.items()}, ages)


def cm_api():
    """The FY2026 ICD-10-CM tabular (``simple_icd_10_cm``)."""
    return get_codeset().cm_api


def cm_display(code: str) -> str:
    c = re.sub(r"[\s.]", "", code or "").upper()
    return f"{c[:3]}.{c[3:]}" if len(c) > 3 else c


@lru_cache(maxsize=1024)
def billable_children(code: str) -> tuple[tuple[str, str], ...]:
    """The billable codes under a header code, with their titles, in Tabular order."""
    out = []
    for c in cm_api().get_descendants(code):
        shown = cm_display(c)
        if cm_status(shown) == "billable":
            out.append((shown, code_title(CM, shown)))
    return tuple(out)


@lru_cache(maxsize=4096)
def cm_status(code: str) -> str:
    """'billable' | 'header' | 'invalid' for a dotted code. Categories that share their name with
    a block (B20, C50, Z66 ...) are codes: ``is_chapter_or_block`` alone would call them invalid."""
    cm = cm_api()
    if not code or not cm.is_valid_item(code) or not (cm.is_category(code) or cm.is_subcategory(code)):
        return "invalid"
    return "billable" if cm.is_leaf(code) else "header"


def code_title(system: str, code: str) -> str:
    """The code's title in its system."""
    if system == CM:
        return cm_api().get_description(code)
    return get_codeset().pcs_description(code) or ""


def named(system: str, code: str) -> str:
    """'CODE (title)', as the findings name a code."""
    return f"{code} ({code_title(system, code)})"


# ---------------------------------------------------------------- tabular note references
_CODE = r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{0,4})?-?"
_ITEM = re.compile(rf"^({_CODE})(?:\s*(?:-|to)\s*({_CODE}))?(?:\s+with\s+\.([0-9A-Z]+)-?(?:\s*-\s*\.([0-9A-Z]+)-?)?)?$")
_PAREN = re.compile(r"\(([^()]*)\)")


@dataclass(frozen=True)
class Ref:
    """A code or range a tabular note points at, as undotted prefixes: ``E10-E13`` covers every
    code whose first 3 characters lie in E10..E13; ``E08-E13 with .42`` adds a suffix range on
    the characters after the category."""

    lo: str
    hi: str
    suffix_lo: str = ""
    suffix_hi: str = ""

    def covers(self, key: str) -> bool:
        if not (key[: len(self.lo)] >= self.lo and key[: len(self.hi)] <= self.hi):
            return False
        if not self.suffix_lo:
            return True
        rest = key[3:]
        return rest[: len(self.suffix_lo)] >= self.suffix_lo and rest[: len(self.suffix_hi)] <= self.suffix_hi


def note_key(code: str) -> str:
    return code.replace(".", "").rstrip("-")


def parse_refs(note: str) -> tuple[Ref, ...]:
    """The codes and ranges in a note's parentheses: '(E10.-)', '(I15.0, I15.1)', '(E00-E07, E15-E16)',
    '(E08-E13 with .42)'. Items that are not plainly codes ('with fifth character 1') are skipped."""
    refs = []
    for group in _PAREN.findall(note):
        for item in group.split(","):
            m = _ITEM.match(item.strip().replace(".-", "-"))
            if not m:
                continue
            lo, hi, s_lo, s_hi = m.groups()
            refs.append(Ref(note_key(lo), note_key(hi or lo), s_lo or "", s_hi or s_lo or ""))
    return tuple(refs)


@dataclass(frozen=True)
class Note:
    owner: str  # the code, category, block ('E08-E13') or chapter ('4') the note is written under
    text: str
    refs: tuple[Ref, ...]

    def covers(self, key: str) -> bool:
        return any(r.covers(key) for r in self.refs)

    @property
    def where(self) -> str:
        return f"chapter {self.owner}" if self.owner.isdigit() else self.owner


@lru_cache(maxsize=8192)
def lineage_notes(code: str, kind: str) -> tuple[Note, ...]:
    """The notes of one kind ('excludes1', 'code_first', 'use_additional') on a billable CM code and
    on every level above it, one Note per note line (or per header+list for excludes1)."""
    cm = cm_api()
    getter = {"excludes1": cm.get_excludes1, "code_first": cm.get_code_first, "use_additional": cm.get_use_additional_code}[kind]
    out: list[Note] = []
    seen: set[tuple[str, str]] = set()
    for owner in [code, *cm.get_ancestors(code)]:
        for prioritize_blocks in (False, True):
            value = getter(owner, prioritize_blocks=prioritize_blocks)
            lines = value if isinstance(value, list) else value.split("\n")
            for text in lines:
                if text and (owner, text) not in seen:
                    seen.add((owner, text))
                    out.append(Note(owner, text, parse_refs(text)))
    return tuple(out)


def is_manifestation(code: str) -> bool:
    return (
        mce_lists().has(CM, "manifestation", code) or "in diseases classified elsewhere" in cm_api().get_description(code).lower()
    )


def code_first_notes(code: str) -> list[Note]:
    """The "code first" notes with codes that apply to ``code``. A header line "..., for adverse
    effects, the nature of the adverse effect, such as:" (T36-T50) limits the lines after it to
    adverse effect codes: a poisoning is itself sequenced first (Guidelines I.C.19.e)."""
    adverse = cm_api().get_description(code).lower().startswith("adverse effect")
    out: list[Note] = []
    scoped_owner = None
    for n in lineage_notes(code, "code_first"):
        if not n.refs and "for adverse effects" in n.text.lower() and not adverse:
            scoped_owner = n.owner
        elif n.refs and n.owner != scoped_owner:
            out.append(n)
    return out


_CHECKABLE = re.compile(
    r"^code(?:\(s\))? to (?:identify|indicate|specify) (?:the )?(?:stage|type|site|severity|outcome of delivery|"
    r"dialysis status|joint|limb amputated|heart failure|deep vein thrombosis|superficial thrombophlebitis|"
    r"retinal detachment)\b",
    re.IGNORECASE,
)
_SOFT = re.compile(
    r"if applicable|if known|where applicable|when applicable|such as|\bany\b|associated|if present", re.IGNORECASE
)
EXTERNAL_CAUSE = Ref("V00", "Y99")  # external cause codes (chapter 20)


def checkable_use_additional(note: Note) -> bool:
    """A "use additional code" note that names one required detail and its codes (not 'if applicable',
    'if known', 'any', 'such as', and not external cause codes, which have no national reporting mandate)."""
    return (
        bool(note.refs)
        and bool(_CHECKABLE.match(note.text))
        and not _SOFT.search(note.text)
        and not all(EXTERNAL_CAUSE.covers(ref.lo) for ref in note.refs)
    )


@lru_cache(maxsize=8192)
def excluded_to(code: str, mention_words: frozenset[str]) -> tuple[str, str] | None:
    """The code an Excludes1 note on ``code`` (or a level above it) sends the mention to, when the
    note's term is the mention's own words ("Parkinson's disease" at G20.C, Parkinsonism, unspecified,
    whose Excludes1 reads "Parkinson's disease NOS (G20.A1)"), with the note; None otherwise.
    ``mention_words``: the mention in the Index's words (:func:`pipeline.code.lookup.index_lookup.words`)."""
    from pipeline.code.lookup.index_lookup import words

    if not mention_words or cm_status(code) != "billable":
        return None
    for note in lineage_notes(code, "excludes1"):
        if len(note.refs) != 1 or note.refs[0].lo != note.refs[0].hi or note.refs[0].suffix_lo:
            continue
        target = cm_display(note.refs[0].lo)
        if target != code and cm_status(target) == "billable" and frozenset(words(_PAREN.sub(" ", note.text))) == mention_words:
            return target, f"Tabular: {note.where} Excludes1 {note.text}"
    return None
