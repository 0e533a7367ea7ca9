"""The Alphabetic Index read as a coder reads it: main term first, then subterms.

A coder looks a diagnosis up by its main term (the condition: "pneumonia", "disease",
"fracture"), then reads down the subterms for the mention's other words, and takes the code of
the deepest entry whose subterms the documentation states. Words the Index does not list under
the term (essential modifiers it lacks, such as "community acquired" under Pneumonia, or a site
word such as "right lower lobe") leave the code of the entry above: "community acquired
pneumonia" is Pneumonia, J18.9.

:func:`lookup` does this for one mention (after :func:`pipeline.code.rules.specificity.index_query` has
put it in the Index's words and followed the main terms that only say "see"): every main term
whose words the mention holds is tried; an entry applies when every one of its subterm levels
(connector levels "with", "in", "due to" apart) has its words in the mention; nonessential
modifiers (in parentheses) count as read when present and are not needed. Index words a mention
states differently are matched through :data:`SYNONYMS` ("pulmonary" is "lung") and, in subterms
only, :data:`IMPLIED` ("pneumonia" is an acute lower respiratory infection, so "COPD with
pneumonia" reads Disease, lung, obstructive, with, acute, lower respiratory infection, J44.0). An entry that says "see" is
followed to the code of the entry it names (``see_code``). The best entry covers the most mention
words; of equals, the shallower (the default code of the term) comes first, then the code.

The char-3-gram search (:mod:`pipeline.code.lookup.candidates`) stays the fallback, for misspellings and
wordings the Index lacks; :func:`pipeline.code.coder._cm_candidates` puts an Index hit first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

STOP = frozenset(
    "a an and the of in on at to by for with without due from as or nos nec is was his her their this "
    "that other specified unspecified".split()
)
CONNECTOR_LEVELS = frozenset(
    {
        "with",
        "without",
        "in",
        "due to",
        "due",
        "of",
        "by",
        "following",
        "during",
        "complicating",
        "affecting",
        "associated with",
        "in (due to)",
    }
)
# the Index's word -> the words a dictation uses for it (each also matches itself)
SYNONYMS = {
    "lung": ("pulmonary", "lungs"),
    "kidney": ("renal", "kidneys"),
    "heart": ("cardiac",),
    "liver": ("hepatic",),
    "stomach": ("gastric",),
    "brain": ("cerebral",),
    "skin": ("cutaneous",),
    "obstructive": ("obstruction",),
    "exacerbation": ("exacerbated", "exacerbations", "flare"),
    "decompensated": ("decompensation",),
}
# subterm words a dictation word implies (never a main term): pneumonia is an acute lower respiratory
# infection (J44.0's "COPD with acute lower respiratory infection"), an exacerbation is acute
IMPLIED = {
    "infection": ("pneumonia", "bronchopneumonia"),
    "respiratory": ("pneumonia", "bronchopneumonia"),
    "lower": ("pneumonia", "bronchopneumonia"),
    "acute": ("pneumonia", "bronchopneumonia", "exacerbation"),
}
_WORD = re.compile(r"[a-z0-9]+")
_PAREN = re.compile(r"\([^)]*\)")
MIN_HEAD_LETTERS = 4  # a main term shorter than this ("ear", "leg") is not looked up as a head


@dataclass(frozen=True)
class IndexHit:
    code: str  # billable FY2026 code
    path: tuple[str, ...]  # the Index entry read
    covered: int  # mention words the entry reads
    words: int  # mention words (without stop words)
    unlisted: bool  # the words it does not read are nowhere under its main term (modifiers the Index lacks)
    by_adjective: bool = False  # the main term was read in another spelling ("diabetic" for Diabetes)

    @property
    def complete(self) -> bool:
        """The entry reads the mention as far as the Index goes: every word, or every word the Index
        lists under the term ("community acquired" is not under Pneumonia: J18.9); not so
        "nicotine dependence" at Dependence, F19.20, where nicotine is under Dependence, drug."""
        return self.covered == self.words or self.unlisted

    @property
    def share(self) -> float:
        return self.covered / self.words if self.words else 0.0

    def phrase(self) -> str:
        return ", ".join(self.path)


def _stem(w: str) -> str:
    """A word without a plural ending ("lobes" -> "lobe", "diseases" -> "disease"); "diabetes" kept whole."""
    if len(w) > 4 and w.endswith("s") and not w.endswith(("ss", "is", "us", "tes")):
        return w[:-1]
    return w


@lru_cache(maxsize=200000)
def words(text: str) -> tuple[str, ...]:
    return tuple(_stem(w) for w in _WORD.findall(_PAREN.sub(" ", text.lower()).replace("-", " ")) if w not in STOP)


@dataclass(frozen=True)
class _Entry:
    # per subterm level: its comma parts, each with its alternatives' essential words (a connector
    # level such as "with": none needed)
    levels: tuple[tuple[tuple[frozenset[str], ...], ...], ...]
    level_words: tuple[frozenset[str], ...]  # every word of each level (a quick test before the full one)
    nemod: frozenset[str]  # nonessential modifier words of every level
    code: str
    path: tuple[str, ...]


@lru_cache(maxsize=1)
def _entries() -> dict[frozenset[str], list[_Entry]]:
    """Main term (its words, one key per comma spelling: "Disease, diseased") -> entries with a code."""
    from pipeline.code.lookup.codeset import get_codeset

    cs = get_codeset()
    billable = set(cs.cm_billable_codes)
    resolved: dict[str, str | None] = {}

    def target(code: str) -> str | None:
        if code not in resolved:
            c = code.rstrip("-").rstrip(".")
            most = code.endswith("-") or c[:1] in "ST"
            resolved[code] = c if c in billable else cs.cm_unspecified_child(c, most_unspecified=most)
        return resolved[code]

    out: dict[frozenset[str], list[_Entry]] = {}
    for e in cs.cm_index:
        code = target(e.see_code) if e.see_code else (target(e.code) if e.code and e.valid else None)
        if not code:
            continue
        levels = tuple(
            () if _PAREN.sub("", s).strip().lower().rstrip(":") in CONNECTOR_LEVELS else _alternatives(s) for s in e.path[1:]
        )
        nemod = frozenset(w for n in e.nemod for w in words(n.replace("(", " ").replace(")", " ")) if n)
        level_words = tuple(frozenset(w for part in level for alt in part for w in alt) for level in levels)
        entry = _Entry(levels, level_words, nemod, code, e.path)
        main = e.path[0]
        spellings = [p.strip() for p in _PAREN.sub("", main).split(",") if p.strip()]
        head = spellings[0] if spellings else main
        # "Disease, diseased": each spelling is the term; "Abduction contracture, hip": the first part only
        keys = [head] + [s for s in spellings[1:] if s[:4].lower() == head[:4].lower()]
        for key in dict.fromkeys(frozenset(words(k)) for k in keys):
            if key:
                out.setdefault(key, []).append(entry)
    return out


@lru_cache(maxsize=100000)
def _alternatives(subterm: str) -> tuple[tuple[frozenset[str], ...], ...]:
    """A subterm as parts that must all be stated (split at its commas), each with its
    alternatives (split at "or"): "atrial or auricular" -> ({atrial}, {auricular}); "pneumococcal,
    acute or subacute" -> ({pneumococcal},), ({acute}, {subacute})."""
    parts = []
    for part in _PAREN.sub(" ", subterm.lower()).split(","):
        alts = tuple(a for a in dict.fromkeys(frozenset(words(a)) for a in re.split(r"\bor\b", part)) if a)
        if alts:
            parts.append(alts)
    return tuple(parts)


def _expanded(mention_words: set[str], table: dict[str, tuple[str, ...]]) -> dict[str, set[str]]:
    """Index word -> the mention words that state it (the word itself, or a dictation word for it)."""
    out: dict[str, set[str]] = {w: {w} for w in mention_words}
    for index_word, said in table.items():
        hits = {w for w in said if w in mention_words}
        if hits:
            out.setdefault(index_word, set()).update(hits)
    return out


@lru_cache(maxsize=20000)
def lookup(mention: str) -> IndexHit | None:
    """The Index entry a coder would read for ``mention`` (in the Index's words), or None when no
    main term of the Index is a word of the mention."""
    mention_words = set(words(mention))
    if not mention_words:
        return None
    named = _expanded(mention_words, SYNONYMS)
    said = _expanded(mention_words, {**SYNONYMS, **{w: SYNONYMS.get(w, ()) + IMPLIED[w] for w in IMPLIED}})
    best: tuple | None = None
    for key, entries in _main_terms(frozenset(named)).items():
        head = set().union(*(named[w] for w in key))
        for entry in entries:
            if any(level and entry_words.isdisjoint(said) for level, entry_words in zip(entry.levels, entry.level_words)):
                continue  # a level none of whose words the mention states
            covered = set(head)
            ok = True
            for level in entry.levels:
                if not level:
                    continue
                stated = [[alt for alt in part if alt <= said.keys()] for part in level]
                if not all(stated):
                    ok = False
                    break
                covered |= {m for part in stated for alt in part for w in alt for m in said[w]}
            if not ok:
                continue
            covered |= set().union(*(said[w] for w in entry.nemod if w in said))
            rank = (-len(covered), len(entry.path), entry.code, entry.path)
            if best is None or rank < best[0]:
                best = (rank, entry, covered, key)
    if best is None:
        return None
    _, entry, covered, key = best
    unread = {w for w, ms in said.items() if not ms & covered}  # Index words the mention states but the entry does not read
    first = [p.strip() for p in _PAREN.sub("", entry.path[0]).split(",") if p.strip()][:1]
    by_adjective = bool(first) and key != frozenset(words(first[0]))
    return IndexHit(entry.code, entry.path, len(covered), len(mention_words), unread.isdisjoint(_term_words()[key]), by_adjective)


@lru_cache(maxsize=1)
def _term_words() -> dict[frozenset[str], frozenset[str]]:
    """Main term -> every word of its subterms (not of the nonessential modifiers, which never
    change the code: "Pneumonia, lobar" lists "(lobe)", yet "right lower lobe" pneumonia is J18.9)."""
    return {key: frozenset(w for e in entries for ws in e.level_words for w in ws) for key, entries in _entries().items()}


def _main_terms(said: frozenset[str]) -> dict[frozenset[str], list[_Entry]]:
    """The Index's main terms whose words the mention states (a one-word term of at least
    :data:`MIN_HEAD_LETTERS` letters, or a longer term)."""
    entries = _entries()
    out = {}
    for w in said:
        key = frozenset({w})
        if len(w) >= MIN_HEAD_LETTERS and key in entries:
            out[key] = entries[key]
        for key in _multi_word_terms().get(w, ()):
            if key <= said:
                out[key] = entries[key]
    return out


@lru_cache(maxsize=1)
def _multi_word_terms() -> dict[str, tuple[frozenset[str], ...]]:
    """Word -> the main terms of several words that hold it."""
    out: dict[str, list[frozenset[str]]] = {}
    for key in sorted((k for k in _entries() if len(k) > 1), key=sorted):
        for w in key:
            out.setdefault(w, []).append(key)
    return {w: tuple(keys) for w, keys in out.items()}
