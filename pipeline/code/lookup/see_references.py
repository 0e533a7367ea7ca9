"""Words the Alphabetic Index only cross-references: "Thromboembolism - see Embolism".

A main term with no code and no subterms of its own, whose "see" names another main term, is that
term in other words: the coder reads on under the term it names ("pulmonary thromboembolism" is
Embolism, pulmonary, I26.99; "stomach ache" is Pain, ...). :func:`as_indexed` puts the named
term in place of the word when the word heads the mention (English noun phrases end in their head:
"pulmonary thromboembolism", "thromboembolism of the lung"), so a modifier ("congestive" in
"congestive heart failure") is never replaced.
"""

from __future__ import annotations

import re
from functools import lru_cache

_TAIL = re.compile(r"\s+(?:of|in|on|to|at|with|without|due to)\s.*$", re.I)


@lru_cache(maxsize=1)
def see_terms() -> dict[str, str]:
    """Lower-case word (a main term or one of its comma spellings) -> the main term its "see" names
    (first comma part, lower case), for main terms that are only such a reference."""
    from pipeline.code.lookup.codeset import get_codeset

    index = get_codeset().cm_index
    with_subterms = {e.path[0] for e in index if len(e.path) > 1}
    mains: dict[str, str] = {}
    for e in index:
        if len(e.path) == 1:
            for name in (e.path[0], e.path[0].split(",")[0]):
                mains.setdefault(_plain(name), e.path[0])
    out: dict[str, str] = {}
    for e in index:
        if len(e.path) != 1 or e.code or not e.see or e.path[0] in with_subterms or _plain(e.see).startswith("condition"):
            continue  # "see condition": the condition the word qualifies is looked up, not a term
        target = mains.get(_plain(e.see))
        if target is None or target not in with_subterms:
            continue
        head = _plain(target.split(",")[0])
        first, *others = (_plain(name) for name in e.path[0].split(","))
        # the term and its other spellings ("Dilated, dilation"), not a qualifier after its comma
        for word in [first, *(o for o in others if o[:4] == first[:4])]:
            # a spelling that is also another main term is read there
            if word and word != head and mains.get(word, e.path[0]) == e.path[0]:
                out.setdefault(word, head)
    return out


_BY_SITE = re.compile(r",\s*by site$")


@lru_cache(maxsize=1)
def by_site_terms() -> dict[str, tuple[str, frozenset[str]]]:
    """Lower-case word -> (the term its "see ..., by site" names, in the mention's word order; the words
    of its own subterms), for main terms with no code that send the coder to a term read by site:
    "Decubitus (ulcer) - see Ulcer, pressure, by site" gives "pressure ulcer", read on with the site the
    mention states ("sacral decubitus": Ulcer, pressure, sacral region). A neoplasm's morphology is the
    Table of Neoplasms' (:mod:`pipeline.code.rules.neoplasm`)."""
    from pipeline.code.lookup.codeset import get_codeset

    index = get_codeset().cm_index
    subterm_words: dict[str, set[str]] = {}
    for e in index:
        if len(e.path) == 2:
            subterm_words.setdefault(e.path[0], set()).update(re.findall(r"[a-z]+", _plain(e.path[1])))
    out: dict[str, tuple[str, frozenset[str]]] = {}
    for e in index:
        if len(e.path) != 1 or e.code or not e.see or not _BY_SITE.search(e.see.strip()):
            continue
        parts = [_plain(part) for part in _BY_SITE.sub("", e.see.strip()).split(",") if part.strip()]
        if not parts or "neoplasm" in parts or parts[0].startswith("also "):
            continue
        first, *others = (_plain(name) for name in e.path[0].split(","))
        # the term and its other spellings only: "Fracture, burst" and "Malunion, fracture" name a kind
        if any(o[:4] != first[:4] for o in others) or " " in first:
            continue
        target = " ".join([*parts[1:], parts[0]])  # "pressure ulcer": the main term last, as a noun phrase ends
        for word in [first, *others]:
            if word and word not in target.split():
                out.setdefault(word, (target, frozenset(subterm_words.get(e.path[0], ()))))
    return out


def _plain(text: str) -> str:
    return " ".join(re.sub(r"\([^)]*\)", " ", text.lower()).split())


def as_indexed(q: str) -> str:
    """``q`` with its head word, when the Index only cross-references it, as the term it names (a term
    read by site: :func:`by_site_terms`)."""
    tail = _TAIL.search(q)
    head_part, rest = (q[: tail.start()], q[tail.start() :]) if tail else (q, "")
    words = head_part.split()
    said = {w.lower() for w in q.split()}
    by_site = by_site_terms().get(words[-1].lower()) if words else None
    if by_site and not said & by_site[1]:  # "sacral decubitus", not "decubitus of the cervix" (Decubitus, cervix)
        return " ".join([*words[:-1], by_site[0]]) + rest
    terms = see_terms()
    for n in (3, 2, 1):
        target = terms.get(" ".join(words[-n:]).lower()) if len(words) >= n else None
        if target and not set(target.split()) <= {w.lower() for w in words}:  # "diabetes mellitus" is not "diabetes diabetes"
            return " ".join([*words[:-n], target]) + rest
    return q
