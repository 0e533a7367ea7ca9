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


def _plain(text: str) -> str:
    return " ".join(re.sub(r"\([^)]*\)", " ", text.lower()).split())


def as_indexed(q: str) -> str:
    """``q`` with its head word, when the Index only cross-references it, as the term it names."""
    tail = _TAIL.search(q)
    head_part, rest = (q[: tail.start()], q[tail.start() :]) if tail else (q, "")
    words = head_part.split()
    terms = see_terms()
    for n in (3, 2, 1):
        target = terms.get(" ".join(words[-n:]).lower()) if len(words) >= n else None
        if target and not set(target.split()) <= {w.lower() for w in words}:  # "diabetes mellitus" is not "diabetes diabetes"
            return " ".join([*words[:-n], target]) + rest
    return q
