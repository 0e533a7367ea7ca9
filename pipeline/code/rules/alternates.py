"""Which candidates of one mention become proposals: one code per mention unless a coder has a
real choice to make.

* Type words must agree: a mention that says "type 2" never gets a "type 1" code, "essential"
  never "secondary", "left" never "right" (the candidate index scores them as near-identical
  strings). A candidate naming a contrasting word the mention does not have is dropped.
* An exact CM match (score >= :data:`EXACT`) stands alone: no alternates. PCS keeps them: one
  procedure term ("cholecystectomy") is shared by codes that differ in root operation or
  approach, and on CodiEsp dropping them lost correct codes (recall 0.072 -> 0.067).
* Otherwise close alternates (within :data:`ALTERNATE_RATIO` of the best) are offered at a
  discount, except one that an Excludes1 note forbids together with a code already kept from the
  same evidence (the two cannot both be reported, and the higher one is the documented one).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from pipeline.code.types import CM

if TYPE_CHECKING:
    from pipeline.code.lookup.candidates import Candidate

ALTERNATE_RATIO = 0.85  # alternatives must score within 15% of the best candidate
ALTERNATE_DISCOUNT = 0.8
EXACT = 0.95
INDEX_READING = "Index: "  # the alias of a candidate the Alphabetic Index read (pipeline.code.coder._index_first)


@dataclass(frozen=True)
class ContrastGroup:
    """Mutually exclusive qualifiers; each member is a tuple of spellings (word-bounded).
    ``disease_kind``: the qualifier names the kind of disease itself, whatever part of the record
    states it, so a code only the statistics suggest must not contradict it (``guideline_filters``)."""

    members: tuple[tuple[str, ...], ...]
    disease_kind: bool = False


CONTRASTS: tuple[ContrastGroup, ...] = (
    ContrastGroup(
        (("type 1", "type i", "insulin dependent", "juvenile"), ("type 2", "type ii", "non insulin dependent", "adult onset")),
        disease_kind=True,
    ),
    # "atrial fibrillation" is never I49.01 ventricular fibrillation
    ContrastGroup((("atrial", "auricular"), ("ventricular",)), disease_kind=True),
    ContrastGroup(
        (("hepatitis a",), ("hepatitis b",), ("hepatitis c",), ("hepatitis d", "delta agent"), ("hepatitis e",)),
        disease_kind=True,
    ),
    ContrastGroup((("essential", "primary"), ("secondary",))),
    ContrastGroup((("left",), ("right",), ("bilateral", "both"))),
    ContrastGroup((("acute",), ("chronic",))),
    ContrastGroup((("open",), ("closed",))),
    ContrastGroup((("benign",), ("malignant",))),
)


_PATTERNS = tuple(
    tuple(re.compile(r"(?<![a-z])(?:" + "|".join(map(re.escape, spellings)) + r")(?![a-z])") for spellings in group.members)
    for group in CONTRASTS
)


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower().replace("-", " "))


@lru_cache(maxsize=4096)
def _stated(mention: str) -> tuple[tuple[int, int], ...]:
    """(group, member) for each contrast group in which the mention states exactly one member."""
    m = _norm(mention)
    out = []
    for g, patterns in enumerate(_PATTERNS):
        said = [i for i, p in enumerate(patterns) if p.search(m)]
        if len(said) == 1:
            out.append((g, said[0]))
    return tuple(out)


def disease_kind(text: str) -> dict[int, str]:
    """The disease-kind qualifiers ``text`` states (one per group): group -> its first spelling
    ("hepatitis C" -> {2: "hepatitis c"})."""
    return {g: CONTRASTS[g].members[said][0] for g, said in _stated(text) if CONTRASTS[g].disease_kind}


def qualifiers_named(mention: str, candidate_text: str) -> int:
    """How many of the qualifiers the mention states (one per contrast group) the candidate names."""
    text = _norm(candidate_text)
    return sum(1 for g, said in _stated(mention) if _PATTERNS[g][said].search(text))


def disagrees(mention: str, candidate_text: str) -> bool:
    """True when the candidate names a qualifier contrasting with one the mention states."""
    stated = _stated(mention)
    if not stated:
        return False
    c = _norm(candidate_text)
    for g, said in stated:
        patterns = _PATTERNS[g]
        if any(p.search(c) for i, p in enumerate(patterns) if i != said) and not patterns[said].search(c):
            return True
    return False


def excludes1_conflict(a: str, b: str) -> bool:
    """True when an Excludes1 note on ``a`` or ``b`` (or any level above) names the other."""
    ka, kb = a.replace(".", ""), b.replace(".", "")
    return _excludes(a, kb, ka) or _excludes(b, ka, kb)


def _excludes(code: str, key: str, own: str) -> bool:
    """An Excludes1 note of ``code``'s lineage names ``key`` (an undotted code) and not ``own``, the code's."""
    if key[:3] not in _excluded_categories(code):  # most pairs: no note comes near the key
        return False
    for refs in _excludes1_refs(code):
        if any(r.covers(key) for r in refs) and not any(r.covers(own) for r in refs):
            return True
    return False


@lru_cache(maxsize=16384)
def _excludes1_refs(code: str) -> tuple[tuple, ...]:
    """The code references of each Excludes1 note on ``code`` and the levels above it (notes naming no code left out)."""
    from pipeline.code.edits.tabular import lineage_notes

    return tuple(n.refs for n in lineage_notes(code, "excludes1") if n.refs)


@lru_cache(maxsize=16384)
def _excluded_categories(code: str) -> frozenset[str]:
    """The categories (3 characters) any of the code's Excludes1 references reaches: a reference that names
    a code names its category, so a key outside these is named by none."""
    categories = _categories()
    out: set[str] = set()
    for refs in _excludes1_refs(code):
        for r in refs:
            lo = bisect.bisect_left(categories, r.lo[:3])
            hi = r.hi[:3] if len(r.hi) >= 3 else r.hi + "\x7f"  # "D4" reaches D40-D49
            out.update(categories[lo : bisect.bisect_right(categories, hi, lo)])
    return frozenset(out)


@lru_cache(maxsize=1)
def _categories() -> list[str]:
    from pipeline.code.lookup.codeset import get_codeset

    return sorted({c.replace(".", "")[:3] for c in get_codeset().cm_billable_codes})


def select(system: str, mention: str, cands: Sequence[Candidate], k: int) -> Iterator[tuple[Candidate, float]]:
    """(candidate, score) pairs to propose for one mention, best first. ``cands`` are sorted best first."""
    # the Alphabetic Index's reading of the mention is the coder's, whatever words its code's title adds
    # (Hematoma, subdural, see Injury, intracranial: S06.5XAA, "traumatic subdural hemorrhage ...")
    agreeing = [
        c for c in cands if not disagrees(mention, c.alias if c.alias.startswith(INDEX_READING) else f"{c.description} {c.alias}")
    ]
    if not agreeing:
        return
    top = agreeing[0]
    yield top, top.score
    if system == CM and top.score >= EXACT:
        return
    kept = [top.code]
    for c in agreeing[1:k]:
        if c.score < ALTERNATE_RATIO * top.score:
            continue
        if system == CM and any(excludes1_conflict(c.code, other) for other in kept):
            continue
        kept.append(c.code)
        yield c, c.score * ALTERNATE_DISCOUNT
