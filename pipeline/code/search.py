"""Type-ahead code search for the review screen's "add code" box.

:func:`search_codes` finds codes by code prefix ("E11.6", "e116", "0DT") or by words ("type 2
diabetes kidney", "laparoscopic appendectomy") over every FY2026 ICD-10-CM code (billable and
header codes) and every valid FY2026 ICD-10-PCS code.

Words: every query word (or its singular/plural) must occur in one of the terms that name the
code; the last word matches as a prefix (the user is still typing it); a clinical abbreviation
("chf", "uti") is also tried as its long form; stop words ("of", "with" ...) are dropped. The terms of a code:

* ICD-10-CM: the tabular title, each inclusion term, each Alphabetic Index term path leading to
  the code (``data/cm_index.tsv.gz``);
* ICD-10-PCS: the long title and each Index term whose code prefix covers the code
  (``data/pcs_index.tsv.gz``: "appendectomy" -> 0DTJ, 0DBJ), each with the usual words for the
  code's approach ("laparoscopic" for a percutaneous endoscopic approach).

Ranking: an abbreviation's long form before the letters as typed; codes whose title has all the
words before codes found through their other terms; then billable codes first, shorter (more
general) titles first (a 7th-character code ranks by its base title), then code order. A code
prefix match comes before word matches, the exact code first.

The in-memory index is built once per process (:func:`get_index`). A term is kept as one string
of its words (" type 2 diabete mellitu ") and postings as arrays, so the ~180,000 codes make few
objects for the garbage collector to walk.
"""

from __future__ import annotations

import bisect
import gc
import heapq
import re
import threading
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

from pipeline.code.lookup.codeset import DATA_DIR, get_codeset, read_tsv
from pipeline.code.types import CM, PCS

SIDE_WORDS = frozenset({"left", "right", "bilateral", "unilateral"})
STOPWORDS = frozenset({"a", "an", "and", "at", "by", "due", "for", "in", "of", "on", "or", "the", "to", "with"})
PCS_APPROACH_WORDS = {  # 5th character of a Medical and Surgical (0) or Other Procedures (X) code
    "0": "open",
    "3": "percutaneous",
    "4": "laparoscopic laparoscopy endoscopic arthroscopic arthroscopy thoracoscopic thoracoscopy",
    "7": "transorifice",
    "8": "endoscopic endoscopy",
    "X": "external closed",
}
ABBREVIATIONS = ("pipeline.extract", "data/abbreviations.tsv")  # shared with the terminology recognizer
_CODE_QUERY = re.compile(r"^[A-Za-z0-9]{1,7}$")
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class CodeHit:
    system: str
    code: str  # CM dotted (E11.65), PCS undotted
    description: str
    billable: bool
    # a code that takes a 7th character is one hit, not one per character: ``stem`` (the code without
    # it) and the characters the Tabular allows there, each with its meaning; ``code`` is the best-ranked
    seventh: tuple[tuple[str, str], ...] = ()
    stem: str = ""


def words(text: str) -> list[str]:
    """Lower-case words: "Crohn's disease, kidneys" -> ['crohn', 'disease', 'kidneys']."""
    return _WORD.findall(text.lower().replace("'s", ""))


def term(ws: Iterable[str]) -> str:
    """A term's words as one searchable string: ' w1 w2 ... ' (word = ' w ', prefix = ' p')."""
    return " " + " ".join(ws) + " "


def forms(word: str) -> tuple[str, ...]:
    """The word and its singular or plural ('kidney' <-> 'kidneys', 'abscess' -> 'abscesses')."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return (word, word[:-1], word[:-2]) if word.endswith("es") else (word, word[:-1])
    return (word, word + "s", word + "es") if word[-1:].isalpha() else (word,)


class Doc(NamedTuple):
    key: str  # undotted code
    title: str
    billable: bool
    rank_len: int  # title length used for ranking
    terms: tuple[str, ...]  # term strings, the title's first
    free: str = " "  # words every term of the code may use (PCS approach), as a term string


class Query(NamedTuple):
    full: tuple[tuple[str, ...], ...]  # for each complete word: ' w ' for each of its forms
    last: tuple[str, ...]  # ' p' for the word being typed (and its singular)


class SystemIndex:
    """One code system's documents, numbered in rank order (billable, short title, code), with word
    postings: scanning a posting from the start yields the best-ranked matches first."""

    def __init__(self, system: str, docs: Iterable[Doc]) -> None:
        self.system = system
        self.docs = sorted(docs, key=lambda d: (not d.billable, d.rank_len, d.key))
        lists: defaultdict[str, list[int]] = defaultdict(list)
        for i, d in enumerate(self.docs):
            for w in set("".join((*d.terms, d.free)).split()):
                lists[w].append(i)
        self.postings = {w: array("I", ids) for w, ids in lists.items()}
        self.vocab = sorted(self.postings)
        self.by_code = array("I", sorted(range(len(self.docs)), key=lambda i: self.docs[i].key))
        self.sorted_keys = [self.docs[i].key for i in self.by_code]

    def hit(self, i: int) -> CodeHit:
        d = self.docs[i]
        code = f"{d.key[:3]}.{d.key[3:]}" if self.system == CM and len(d.key) > 3 else d.key
        return CodeHit(self.system, code, d.title, d.billable)

    def order(self, i: int) -> tuple:
        d = self.docs[i]
        return (not d.billable, d.rank_len, d.key)

    # ------------------------------------------------------------ by code
    def with_prefix(self, prefix: str, limit: int, billable_only: bool) -> list[tuple[tuple, int]]:
        """(rank, doc) for codes starting with ``prefix``: the exact code, then shorter codes first."""
        lo = bisect.bisect_left(self.sorted_keys, prefix)
        hi = bisect.bisect_left(self.sorted_keys, prefix + "\x7f", lo)
        docs = (self.by_code[j] for j in range(lo, hi))
        docs = (i for i in docs if self.docs[i].billable or not billable_only)
        ranked = ((self.docs[i].key != prefix, len(self.docs[i].key), self.docs[i].key, i) for i in docs)
        return [((0, *r[:3]), r[3]) for r in heapq.nsmallest(limit, ranked)]

    # ------------------------------------------------------------ by words
    def _vocab_with_prefix(self, prefixes: Iterable[str]) -> list[str]:
        out: list[str] = []
        for p in prefixes:
            lo = bisect.bisect_left(self.vocab, p)
            out += self.vocab[lo : bisect.bisect_left(self.vocab, p + "\x7f", lo)]
        return list(dict.fromkeys(out))

    def _union(self, vocab: list[str]) -> Iterator[int]:
        lists = [self.postings[w] for w in vocab if w in self.postings]
        if len(lists) == 1:
            yield from lists[0]
            return
        last = -1
        for i in heapq.merge(*lists):
            if i != last:
                yield i
                last = i

    def with_words(self, ws: list[str], limit: int, billable_only: bool, rank: float = 0) -> list[tuple[tuple, int]]:
        """(rank, doc) for docs with a term holding every word of ``ws`` (or its singular/plural), the
        last as a prefix."""
        full = [[f for f in forms(w) if f in self.postings] for w in ws[:-1]]
        last = ws[-1]
        lasts = forms(last)[:2] if last.endswith("s") else (last,)
        completions = self._vocab_with_prefix(lasts)
        if not completions or not all(full):
            return []
        size = lambda vocab: sum(len(self.postings[w]) for w in vocab)
        smallest = min(full, key=size, default=completions)
        driver = self._union(smallest if size(smallest) <= size(completions) else completions)
        q = Query(tuple(tuple(f" {f} " for f in fs) for fs in full), tuple(f" {p}" for p in lasts))
        in_title: list[int] = []
        elsewhere: list[int] = []
        for i in driver:
            d = self.docs[i]
            if billable_only and not d.billable:
                continue
            tier = _match(d, q)
            if tier == 0:
                in_title.append(i)
                if len(in_title) >= limit:
                    break
            elif tier == 1 and len(elsewhere) < limit:
                elsewhere.append(i)
        return [((1, rank, tier, *self.order(i)), i) for tier, found in enumerate((in_title, elsewhere)) for i in found]


def _has(t: str, free: str, alternatives: tuple[str, ...]) -> bool:
    return any(a in t or a in free for a in alternatives)


def _match(d: Doc, q: Query) -> int | None:
    """0: the title has the words; 1: another term has them; None: no term has them all."""
    for n, t in enumerate(d.terms):
        if all(_has(t, d.free, fs) for fs in q.full) and _has(t, d.free, q.last):
            return 0 if n == 0 else 1
    return None


# ---------------------------------------------------------------- building
def _cm_docs() -> list[Doc]:
    cm = get_codeset().cm_api
    header, rows, _ = read_tsv(DATA_DIR / "cm_index.tsv.gz")
    path, code_col, valid, see_code = (header.index(c) for c in ("path", "code", "valid", "see_code"))
    index_terms: dict[str, list[str]] = {}
    for r in rows:
        code = r[see_code] or (r[code_col] if r[valid] == "1" else "")
        if code:
            index_terms.setdefault(code.rstrip("-"), []).append(term(words(r[path])))
    docs = []
    for code in dict.fromkeys(cm.get_all_codes(True)):
        if "-" in code or code.isdigit():  # blocks (A00-A09) and chapters; B20, Z66 ... are codes
            continue
        title = cm.get_description(code)
        # a 7-character code ranks by its base title ("..., initial encounter" does not count)
        rank_len = len(title.rsplit(", ", 1)[0]) if len(code) == 8 else len(title)
        terms = [term(words(title)), *(term(words(t)) for t in cm.get_inclusion_term(code)), *index_terms.get(code, ())]
        docs.append(Doc(code.replace(".", ""), title, cm.is_leaf(code), rank_len, tuple(dict.fromkeys(terms))))
    return docs


def _pcs_docs() -> list[Doc]:
    cs = get_codeset()
    codes = sorted(code for code, _ in cs.pcs_codes())
    by_prefix: dict[str, dict[str, None]] = {}
    for e in cs.pcs_index:
        if e.kind != "use" and len(e.code) >= 4:
            by_prefix.setdefault(e.code, {})[term(words(" ".join(e.path)))] = None
    index_terms: dict[str, list[str]] = {}
    for prefix, terms in by_prefix.items():
        lo = bisect.bisect_left(codes, prefix)
        for code in codes[lo : bisect.bisect_left(codes, prefix + "\x7f", lo)]:
            index_terms.setdefault(code, []).extend(terms)
    approach = {ch: term(words(text)) for ch, text in PCS_APPROACH_WORDS.items()}
    titles = dict(cs.pcs_codes())
    docs = []
    for code in codes:
        title = titles[code]
        free = approach.get(code[4], " ") if code[0] in "0X" else " "
        docs.append(Doc(code, title, True, len(title), (term(words(title)), *index_terms.get(code, ())), free))
    return docs


_build_lock = threading.Lock()


def get_index() -> dict[str, SystemIndex]:
    """The process-wide search index, one per code system, built on first use (once, also when
    the first searches come from several threads at the same time)."""
    with _build_lock:
        return _build_index()


@lru_cache(maxsize=1)
def _build_index() -> dict[str, SystemIndex]:
    """Build both indexes.

    The cyclic garbage collector is paused during the build (many short-lived objects, no cycles)
    and everything alive afterwards is frozen (:func:`gc.freeze`): the code sets and this index live
    as long as the process, and a full collection walking them pauses a query for ~0.3 s."""
    paused = gc.isenabled()
    gc.disable()
    try:
        abbreviations()
        index = {CM: SystemIndex(CM, _cm_docs()), PCS: SystemIndex(PCS, _pcs_docs())}
    finally:
        if paused:
            gc.enable()
    gc.freeze()
    return index


@lru_cache(maxsize=1)
def abbreviations() -> dict[str, list[str]]:
    """Clinical abbreviation (lower case) -> the words of its long form ('chf' -> congestive heart failure)."""
    text = resources.files(ABBREVIATIONS[0]).joinpath(ABBREVIATIONS[1]).read_text(encoding="utf-8")
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and not line.startswith("#") and " " not in parts[0].strip():
            out.setdefault(parts[0].strip().lower(), words(parts[1]))
    return out


# ---------------------------------------------------------------- query
def word_queries(query: str) -> list[tuple[str, ...]]:
    """The query's words in the Index's wording where a phrase has one ("former smoker": history personal
    nicotine dependence), with abbreviations spelled out (when it has any), then as typed; stop words dropped."""
    raw = [w for w in words(query or "") if w not in STOPWORDS]
    abbr = abbreviations()
    expanded = [x for w in raw for x in abbr.get(w, [w]) if x not in STOPWORDS]
    return [q for q in dict.fromkeys(map(tuple, (_index_wording(words(query or "")), expanded, raw))) if q]


def _index_wording(ws: list[str]) -> list[str]:
    """``ws`` with its longest phrase from ``data/search_phrases.tsv`` in the Index's words; [] without one."""
    phrases = search_phrases()
    for n in range(len(ws), 0, -1):
        for i in range(len(ws) - n + 1):
            if (index_words := phrases.get(tuple(ws[i : i + n]))) is not None:
                return [w for w in (*ws[:i], *index_words, *ws[i + n :]) if w not in STOPWORDS]
    return []


@lru_cache(maxsize=1)
def search_phrases() -> dict[tuple[str, ...], tuple[str, ...]]:
    """Phrase words -> the Alphabetic Index's words for them (``data/search_phrases.tsv``)."""
    out: dict[tuple[str, ...], tuple[str, ...]] = {}
    for line in (DATA_DIR / "search_phrases.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            phrase, index_words = line.split("\t")[:2]
            out[tuple(words(phrase))] = tuple(words(index_words))
    return out


def search_codes(query: str, system: str | None = None, limit: int = 20, billable_only: bool = False) -> list[CodeHit]:
    """Codes matching ``query`` by code prefix or by words, best first (see the module docstring)."""
    if limit <= 0:
        return []
    indexes = [ix for s, ix in get_index().items() if system in (None, s)]
    found: list[tuple[tuple, SystemIndex, int]] = []
    compact = re.sub(r"[\s.]", "", query or "").upper()
    if _CODE_QUERY.match(compact):
        for ix in indexes:
            found += [(rank, ix, i) for rank, i in ix.with_prefix(compact, limit, billable_only)]
    variants = word_queries(query)
    for n, ws in enumerate(variants):
        for ix in indexes:
            found += [(rank, ix, i) for rank, i in ix.with_words(list(ws), limit, billable_only, n)]
    for ix in indexes:
        if ix.system == CM:
            found += [(rank, ix, i) for rank, i in _index_path(ix, variants, billable_only)]
        # the Index's words (see-references, "distal radius" as the "lower end of radius"), then without
        # words no code of the system uses; ranked with the words they stand for
        reworded, dropped = _reworded(ix, variants)
        mine = [(rank, ix, i) for n, ws in reworded for rank, i in ix.with_words(list(ws), limit, billable_only, n)]
        if not mine and not any(f[1] is ix for f in found):  # nothing has every word: one word left out
            mine = [(rank, ix, i) for n, ws in dropped for rank, i in ix.with_words(list(ws), limit, billable_only, n)]
        found += mine
    hits: list[CodeHit] = []
    seen: set[tuple[str, int]] = set()
    stems: set[str] = set()
    for _, ix, i in sorted(found, key=lambda f: f[0]):
        if (ix.system, i) not in seen:
            seen.add((ix.system, i))
            hit = ix.hit(i)
            choices = seventh_characters(hit.code) if ix.system == CM else ()
            if choices:
                if hit.code[:-1] in stems:
                    continue
                stems.add(hit.code[:-1])
                hit = replace(hit, seventh=choices, stem=hit.code[:-1])
            hits.append(hit)
            if len(hits) >= limit:
                break
    return hits


def seventh_characters(code: str) -> tuple[tuple[str, str], ...]:
    """For a billable ICD-10-CM code whose 7th character is chosen from the Tabular's list (S52.502A):
    the characters valid for its stem, each with its meaning; () for any other code."""
    if len(code.replace(".", "")) != 7:
        return ()
    cs = get_codeset()
    meanings = cs.cm_api.get_seven_chr_def(code, search_in_ancestors=True) or {}
    return tuple((ch, text) for ch, text in meanings.items() if cs.cm_is_billable(code[:-1] + ch))


# ---------------------------------------------------------------- the Index path
def _index_path(ix: SystemIndex, variants: list[tuple[str, ...]], billable_only: bool) -> list[tuple[tuple, int]]:
    """The code a coder reads in the Alphabetic Index for the query (main term, then subterms:
    :func:`pipeline.code.lookup.index_lookup.lookup`), ranked right after an exact code: "community
    acquired pneumonia" is Pneumonia, J18.9, though no code's terms hold "community"."""
    from pipeline.code.lookup.index_lookup import lookup
    from pipeline.code.rules.specificity import index_query, lateral, mention_side

    out = []
    for n, ws in enumerate(variants):
        if len(ws) < 1:
            continue
        # the side is not an Index subterm: the entry is read without it, then the code for that side
        # taken (Fracture, radius, lower end: S52.509A; "left": S52.502A)
        side = mention_side(" ".join(ws))
        hit = lookup(index_query(" ".join(w for w in ws if w not in SIDE_WORDS) if side else " ".join(ws)))
        if hit is None or not hit.complete:
            continue
        if side:
            hit = replace(hit, code=lateral(hit.code, " ".join(ws))[0])
        known = all(any(f in ix.postings or f in _clinical_words() for f in forms(w)) for w in ws)
        if not known and hit.share <= 0.5:
            continue  # mostly words neither the codes nor the clinical lexicon use ("diabetes zzqx"): no reading
        pos = bisect.bisect_left(ix.sorted_keys, hit.code.replace(".", ""))
        if pos < len(ix.sorted_keys) and ix.sorted_keys[pos] == hit.code.replace(".", ""):
            i = ix.by_code[pos]
            if ix.docs[i].billable or not billable_only:
                out.append(((0.5, n, -hit.covered), i))
    return out


@lru_cache(maxsize=1)
def _clinical_words() -> frozenset[str]:
    """Words of the extraction lexicon's clinical terms and abbreviation long forms ("community
    acquired", "rapid ventricular response"), which no code title need hold."""
    import gzip

    raw = resources.files("pipeline.extract").joinpath("data/terms.tsv.gz").read_bytes()
    text = gzip.decompress(raw).decode("utf-8")
    out = {w for line in text.splitlines()[1:] for w in words(line.split("\t", 1)[0])}
    return frozenset(out | {w for long in abbreviations().values() for w in long})


@lru_cache(maxsize=1)
def pcs_see_terms() -> dict[str, tuple[str, ...]]:
    """PCS Index words that send to root operations without naming a body part (so no code's terms
    hold them): "arthroplasty" -> ("replacement", "repair", "supplement") (0SR, 0SQ ...), "reduction"
    -> ("reposition", ...) (Reduction, fracture, see Reposition), most cited first."""
    counts: dict[str, dict[str, int]] = {}
    for e in get_codeset().pcs_index:
        if e.kind != "see" or not e.path or len(e.code) >= 4:  # a body part's code prefix: in the codes' terms
            continue
        word = e.path[0].lower()
        if " " in word or "," in word:
            continue
        target = words(e.target.split(",")[0])
        if len(target) == 1:
            slot = counts.setdefault(word, {})
            slot[target[0]] = slot.get(target[0], 0) + 1
    return {w: tuple(sorted(c, key=lambda t: (-c[t], t != "replacement", t))) for w, c in counts.items()}


def _reworded(
    ix: SystemIndex, variants: list[tuple[str, ...]]
) -> tuple[list[tuple[float, tuple[str, ...]]], list[tuple[float, tuple[str, ...]]]]:
    """More word queries for a system, each with the rank of the words it stands for: the Index's
    wording (a PCS Index see-term as each root operation it names, "total knee arthroplasty" ->
    "total knee replacement"; "distal radius" as "lower end of radius"), then without the words no
    code of the system uses with the others ("total knee replacement" -> "knee replacement"), for
    when no code has them all."""
    from pipeline.code.rules.specificity import index_query

    out: list[tuple[float, tuple[str, ...]]] = []
    see = pcs_see_terms() if ix.system == PCS else {}
    n: float  # a variant's position, then a reworded query's rank
    for n, ws in enumerate(variants):
        out += [(n + j / 100, combo) for j, combo in enumerate(_product([see.get(w, (w,)) for w in ws], limit=3))]
        if ix.system == CM:
            out.append((n, tuple(w for w in words(index_query(" ".join(ws))) if w not in STOPWORDS)))
    dropped = []
    for n, ws in [*enumerate(variants), *out]:
        if len(ws) >= 3:  # one word the codes do not use ("total" knee replacement, "displaced" ... radius)
            dropped += [(len(variants) + n, ws[:k] + ws[k + 1 :]) for k in range(len(ws) - 1)]
    seen = set(variants)
    fresh = [(n, q) for n, q in dict.fromkeys(out) if q and q not in seen]
    return fresh, [(n, q) for n, q in dict.fromkeys(dropped) if q and q not in seen]


def _product(options: list[tuple[str, ...]], limit: int) -> list[tuple[str, ...]]:
    """The first ``limit`` choices of one word per slot, varying one slot at a time from the first choices."""
    base = tuple(o[0] for o in options)
    out = [base]
    for k, o in enumerate(options):
        for alt in o[1:]:
            out.append(base[:k] + (alt,) + base[k + 1 :])
    return out[:limit]
