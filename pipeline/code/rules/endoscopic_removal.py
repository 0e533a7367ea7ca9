"""Polyps and lesions an endoscopy report narrates as removed, destroyed or biopsied: one ICD-10-PCS
code per root operation and segment of the gastrointestinal tract.

A colonoscopy report says what was done in its narrative, not under its procedure heading: "There were
five very small polyps in the rectum. One was resected using the electrocautery snare and the other
four were ablated using the snare and cautery." Extraction finds the colonoscopy, not a procedure in
those words. A coder reads them with the PCS Index and tables:

* **Root operation**, from the verb (:data:`ROOT_OPERATIONS`): removed, resected, excised, snared
  (Index: Polypectomy, gastrointestinal, see Excision) is Excision; ablated, fulgurated, destroyed,
  cauterized (Index: Fulguration, see Destruction) is Destruction; a biopsy with nothing removed is
  Excision with the diagnostic qualifier (guideline B3.4a).
* **Body part**, the segment the clause names (:data:`SEGMENTS`: the Gastrointestinal System's body
  part values, with the Body Part Key's entries for them, "hepatic flexure: use Transverse Colon", and the
  adjectives reports use, "rectal", "gastric"); where the clause names none ("One was resected"), the one
  segment a clause just before it named with its polyps. A named segment is read before the bare "colon".
* **Approach**, the endoscope's: Via Natural or Artificial Opening Endoscopic.
* One code per root operation and body part value (guideline B3.2a).

Only a report of an endoscopy is read (:data:`ENDOSCOPY`), and a clause that negates the lesion or
dates it to the past ("polyps removed in 2005") codes nothing. Inspection through the same endoscope is
then not coded on its own (B3.11a): :func:`pipeline.code.rules.guideline_filters.inspection_within_a_procedure`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GI_SYSTEM = "0D"  # Medical and Surgical, Gastrointestinal System
VIA_ENDOSCOPE = "8"  # Via Natural or Artificial Opening Endoscopic
NO_DEVICE = "Z"
EXCISION, DESTRUCTION = "B", "5"
THERAPEUTIC, DIAGNOSTIC = "Z", "X"

ENDOSCOPY = re.compile(
    r"\b(?:colonoscop|sigmoidoscop|proctoscop|esophagogastroduodenoscop|gastroscop|enteroscop|upper endoscop|egd\b)", re.I
)

# (words, body part value), the more specific first: a clause's words are read once each
SEGMENTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"\b(?:{words})\b", re.I), value)
    for words, value in (
        (r"upper (?:third of the )?esophag(?:us|eal)|cervical esophag(?:us|eal)", "1"),
        (r"mid(?:dle)?[- ]?esophag(?:us|eal)", "2"),
        (r"(?:lower|distal) (?:third of the )?esophag(?:us|eal)", "3"),
        (r"(?:gastroesophageal|esophagogastric|ge|g-e) junction", "4"),
        (r"esophag(?:us|eal)", "5"),
        (r"(?:pyloric )?antrum|antral|pylor(?:us|ic)", "7"),  # Body Part Key: pyloric antrum, use Stomach, Pylorus
        (r"stomach|gastric|fundus|fundic", "6"),
        (r"duoden(?:um|al)", "9"),
        (r"jejun(?:um|al)", "A"),
        (r"ileocecal valve", "C"),
        (r"(?:terminal )?ile(?:um|al)", "B"),
        (r"cec(?:um|al)", "H"),
        (r"append(?:ix|iceal)", "J"),
        (r"ascending colon", "K"),
        (r"hepatic flexure|transverse colon|splenic flexure", "L"),  # Body Part Key: use Transverse Colon
        (r"descending colon", "M"),
        (r"rectosigmoid(?: junction| colon)?|sigmoid(?: colon)?", "N"),  # Body Part Key: rectosigmoid junction
        (r"rect(?:um|al)", "P"),
        (r"an(?:us|al)", "Q"),
        (r"right colon", "F"),
        (r"left colon", "G"),
        (r"colon(?:ic)?|large (?:intestine|bowel)", "E"),
    )
)
LARGE_INTESTINE = "E"  # the bare "colon": only where the clause names no segment of it
LARGE_INTESTINE_SEGMENTS = frozenset("FGHJKLMNP")

LESION = re.compile(r"\b(?:polyp\w*|lesions?|adenomas?|mass(?:es)?|nodules?|tumou?rs?)\b", re.I)
ROOT_OPERATIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(?:removed|resected|excised|snared|polypectomy|polypectomies)\b", re.I), EXCISION),
    (re.compile(r"\b(?:ablated|fulgurated|destroyed|cauterized)\b", re.I), DESTRUCTION),
)
BIOPSY = re.compile(r"\bbiops(?:ies|ied)\b|\bbiopsy\s+(?:of|was|were)\b", re.I)
_NEGATED = re.compile(
    r"\b(?:no|without|not|none)\b[^.;]{0,30}?\b(?:polyp|lesion|mass|nodule|tumou?r|removed|resected|biops)", re.I
)
_PAST = re.compile(
    r"\b(?:previous(?:ly)?|prior|history|in (?:19|20)\d\d|years? ago|months? ago|last (?:year|colonoscopy|endoscopy))\b", re.I
)
_SENTENCE_BREAK = re.compile(r"[.;\n]+")
# the parts of a sentence a verb reads with: "a 7-mm lesion in the transverse colon, removed with the snare"
_FRAGMENT_BREAK = re.compile(r",|/|\band\b", re.I)


@dataclass(frozen=True)
class NarratedProcedure:
    """A PCS code the narrative's words build, with the clause that states it (start, end in the note)."""

    code: str
    start: int
    end: int
    why: str


def _spans(pattern: re.Pattern[str], text: str, begin: int, end: int) -> list[tuple[int, int]]:
    """The pieces of ``text[begin:end]`` between matches of ``pattern`` (offsets into ``text``)."""
    out, at = [], begin
    for m in pattern.finditer(text, begin, end):
        if m.start() > at:
            out.append((at, m.start()))
        at = m.end()
    if at < end:
        out.append((at, end))
    return out


def segments_named(clause: str) -> list[str]:
    """The body part values the clause names, each of its words read once, the more specific first;
    the bare "colon" only where no segment of it is named."""
    found: list[str] = []
    rest = clause
    for pattern, value in SEGMENTS:
        if pattern.search(rest):
            if value not in found:
                found.append(value)
            rest = pattern.sub(" ", rest)
    if LARGE_INTESTINE in found and LARGE_INTESTINE_SEGMENTS.intersection(found):
        found.remove(LARGE_INTESTINE)
    return found


def _operations(clause: str) -> list[tuple[str, str, str]]:
    """(root operation, qualifier, the verb) the clause states."""
    out = [(op, THERAPEUTIC, m.group(0)) for pattern, op in ROOT_OPERATIONS if (m := pattern.search(clause))]
    if not out and (m := BIOPSY.search(clause)):
        out.append((EXCISION, DIAGNOSTIC, m.group(0)))
    return out


_OPERATION_NAMES = {EXCISION: "Excision", DESTRUCTION: "Destruction"}


def narrated_procedures(text: str | None) -> list[NarratedProcedure]:
    """The Excision and Destruction codes the endoscopy report's narrative states (the module doc),
    in the order the report first states them. A verb is read with the segments its part of the
    sentence names ("a polyp in the sigmoid colon, removed"), else those its sentence names ("biopsies of
    the right, transverse, left colon"), else the one segment the sentence before named with its
    lesions ("five polyps in the rectum. One was resected ...")."""
    if not text or not ENDOSCOPY.search(text):
        return []
    out: dict[str, NarratedProcedure] = {}
    before: list[str] = []  # the one segment the sentence before named with its lesions
    for begin, end in _spans(_SENTENCE_BREAK, text, 0, len(text)):
        sentence = text[begin:end]
        named = segments_named(sentence)
        lesion = bool(LESION.search(sentence))
        if lesion or before or BIOPSY.search(sentence):
            for f_begin, f_end in [] if _PAST.search(sentence) else _spans(_FRAGMENT_BREAK, text, begin, end):
                fragment = text[f_begin:f_end]
                operations = _operations(fragment)
                if not operations or _NEGATED.search(fragment):
                    continue
                for op, qualifier, verb in operations:
                    for part in segments_named(fragment) or named or before:
                        code = f"{GI_SYSTEM}{op}{part}{VIA_ENDOSCOPE}{NO_DEVICE}{qualifier}"
                        if code not in out:
                            what = "a biopsy" if qualifier == DIAGNOSTIC else f'"{verb}"'
                            out[code] = NarratedProcedure(
                                code,
                                begin + len(sentence) - len(sentence.lstrip()),
                                end - len(sentence) + len(sentence.rstrip()),
                                f"the report narrates {what} through the endoscope: {_OPERATION_NAMES[op]} of the segment "
                                "its words name, via natural or artificial opening endoscopic (PCS guidelines B3.2a, B3.4a)",
                            )
        before = named if lesion and len(named) == 1 else []
    return list(out.values())
