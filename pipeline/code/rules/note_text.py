"""Where a position of the note lies: the sentence around it and the section it is in.

One place for the rules that read a mention's surroundings (:mod:`status`, :mod:`tobacco`,
:mod:`drug_effects`), so that "the sentence" means the same thing to each of them.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

from pipeline.extract.types import Entity

# a sentence ends at a period or a line break (a list line is a sentence of its own)
SENTENCE_STOPS = (".", "\n")
# a clause ends at a period followed by a space (not the one inside "2.5 mg"), a line break or a semicolon
CLAUSE_STOPS = (". ", "\n", "; ")


_CLAUSE_BREAK = re.compile(r"[.;:,()\n]")


def clause_before(preceding: str) -> str:
    """The words of ``preceding`` (the text up to a mention) in the mention's own clause: after its last
    period, colon, semicolon, comma, parenthesis or line break ("a history of uterine papillary serous ")."""
    return _CLAUSE_BREAK.split(preceding)[-1]


def sentence_bounds(text: str, start: int, end: int, stops: Sequence[str] = SENTENCE_STOPS) -> tuple[int, int]:
    """(first, last) character offsets of the sentence that holds ``text[start:end]``: from just after
    the nearest stop before ``start`` to the nearest stop at or after ``end`` (the text's ends where there
    is none)."""
    first = max(text.rfind(s, 0, start) for s in stops) + 1
    after = [i for i in (text.find(s, end) for s in stops) if i >= 0]
    return first, min(after) if after else len(text)


def sentence_at(text: str, start: int, end: int, stops: Sequence[str] = SENTENCE_STOPS) -> str:
    """The sentence (or list line) that holds ``text[start:end]``."""
    first, last = sentence_bounds(text, start, end, stops)
    return text[first:last]


def section_at(ordered: Sequence[Entity], starts: Sequence[int], pos: int) -> str | None:
    """The section of the last mention starting at or before ``pos`` (the first mention's before any):
    ``ordered`` are the note's mentions by start, ``starts`` their starts."""
    i = bisect.bisect_right(starts, pos) - 1
    return ordered[i].section if i >= 0 else (ordered[0].section if ordered else None)
