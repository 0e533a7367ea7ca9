"""How much of a code's title the document spells out: the share of the title's content words
(5-letter stems, without "unspecified", "other", sides and the like) found in the whole document
and in its best sentence. Two features of the re-ranker (:mod:`pipeline.code.rank.rerank`): a candidate
that only similar cases or the document model bring in is likelier right when the document
names it in its own words.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pipeline.code.lookup.candidates import CodeIndex
from pipeline.code.lookup.codeset import get_codeset
from pipeline.code.types import CM

_SENTENCE = re.compile(r"[^.;:\n]+")
_WORD = re.compile(r"[a-z]{3,}")
_TITLE_STOP = frozenset(
    "unspecified other with without of and or the in to due not elsewhere classified specified type site part by "
    "for on as at an a from into than nos episode initial encounter subsequent sequela approach open "
    "percutaneous external endoscopic no device qualifier use additional code left right bilateral".split()
)


def stems(text: str) -> set[str]:
    """The 5-letter stems of the words (3 letters or more) of ``text``, lower case."""
    return {w[:5] for w in _WORD.findall(text.lower())}


def sentences(text: str) -> list[tuple[int, int, set[str]]]:
    """(start, end, stems) per sentence (split at . ; : and line ends)."""
    return [(m.start(), m.end(), stems(m.group(0))) for m in _SENTENCE.finditer(text) if m.group(0).strip()]


@lru_cache(maxsize=50000)
def title_stems(system: str, code: str) -> frozenset[str]:
    """The content words of a code's title as 5-letter stems."""
    cs = get_codeset()
    title = (cs.cm_description(code) if system == CM else cs.pcs_description(code)) or ""
    return frozenset(w[:5] for w in _WORD.findall(title.lower()) if w not in _TITLE_STOP)


@lru_cache(maxsize=50000)
def alias_stems(index: CodeIndex, code: str) -> tuple[frozenset[str], ...]:
    """The content words of each name the code index has for a code (Index terms, inclusion terms)."""
    names = index.code_aliases(code)
    out = {frozenset(w[:5] for w in _WORD.findall(a.lower()) if w not in _TITLE_STOP) for a in names}
    # in a fixed order: best_alias keeps the first of equally good names, so a set's hash order
    # would change the chosen name (and the re-ranker's features) with PYTHONHASHSEED
    return tuple(sorted((st for st in out if st), key=sorted))


def best_alias(index: CodeIndex, code: str, words: set[str]) -> tuple[float, frozenset[str]]:
    """(share of the best-covered name's content words that ``words`` holds, that name's words)."""
    return max(
        ((len(st & words) / len(st), st) for st in alias_stems(index, code)),
        key=lambda x: (x[0], len(x[1])),
        default=(0.0, frozenset()),
    )


def overlap(system: str, code: str, words: set[str]) -> float:
    """Share of the code title's content words that ``words`` (stems) holds."""
    st = title_stems(system, code)
    return len(st & words) / len(st) if st else 0.0
