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


# the sections that report what was observed (the examination, vital signs, review of systems), not what the
# physician concludes from it
OBSERVATION_SECTIONS = frozenset({"physical_exam", "vital_signs", "review_of_systems"})
# the body systems an examination or review of systems is laid out by: "SKIN:", "VASCULAR:", "NERVOUS
# SYSTEM:", "ALLERGIC/LYMPH:", "SKIN AND BREASTS:" head what was found there, and are no finding themselves
# (L98.9, T14.8XXA, R45.0, R59.9)
_BODY_SYSTEM = re.compile(
    r"^(?:skin|integumentary|vascular|cardiovascular|nervous|neurologic(?:al)?|neuro|psychiatric|psych|lymph(?:atic)?|"
    r"musculoskeletal|extremities|genitourinary|gastrointestinal|respiratory|pulmonary|abdomen|chest|heent|neck|"
    r"breasts?|rectal|back|eyes|ears|endocrine|hematologic|allergic|constitutional|mental\s+status)$",
    re.I,
)
_HEADING_COLON = re.compile(r"^(?:\s+system|\s+and\s+[a-z]+)?\s*:", re.I)


def body_system_heading(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is the heading of a body system an examination or review of systems
    reports on (the word, then its colon), not a finding."""
    return bool(_BODY_SYSTEM.match(text[start:end].strip())) and bool(_HEADING_COLON.match(text[end : end + 20]))


_CAPITAL_HEADING = re.compile(r"\b([A-Z][A-Z/ ]{1,30}[A-Z])\s*:")


def under_body_system_heading(text: str, pos: int) -> bool:
    """Whether the last heading in capitals before ``pos`` on its line is a body system's ("SKIN: ... The
    skin was pink"): what the examination or review of systems found there, not a diagnosis."""
    line_start = text.rfind("\n", 0, pos) + 1
    last = None
    for last in _CAPITAL_HEADING.finditer(text, line_start, pos):
        pass
    if last is None:
        return False
    name = last.group(1).strip()
    return bool(_BODY_SYSTEM.match(name) or _BODY_SYSTEM.match(re.split(r"\s+AND\s+|/", name)[0].strip()))


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
