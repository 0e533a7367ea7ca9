"""The approach and root operation a procedure word leaves unstated, read as a coder reads them.

One procedure word matches several ICD-10-PCS codes that differ only in the approach (5th character)
or the root operation (3rd): "tonsillectomy" is the Index's "see Excision" and "see Resection" of the
tonsils, each open, percutaneous or external, and the code index scores them alike. A coder does not
pick among them by chance:

* **Approach.** The one the note states for the procedure, in the mention's words or its sentence
  ("laparoscopic", "via colonoscopy", "percutaneous", "closed reduction"): :data:`STATED`. Else, for
  a structure seen in the mouth (lips, gingiva, teeth, tongue, palate, uvula, tonsils, adenoids),
  External: ICD-10-PCS guideline B5.3a, "procedures performed within an orifice on structures that
  are visible without the aid of any instrumentation are coded to the approach External" (its example
  is the resection of tonsils). Else Open, the approach of a procedure whose words name no other.
* **Root operation.** An "-ectomy" of the whole body part is Resection (guideline B3.8: Resection
  when all of the body part is cut out); a partial one, a biopsy or a lesion's removal is Excision.
  So is an "-ectomy" that takes part of its body part unless the note says all of it was removed: a
  discectomy, meniscectomy or laminectomy is Excision unless "total" or "complete" (:data:`PARTIAL_UNLESS_TOTAL`).

:func:`conventional_order` puts the candidates the index scores alike in that order and leaves every
other candidate where it was: it only breaks ties, so a mention whose words decide still decides.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.code.lookup.candidates import Candidate

OPEN, PERCUTANEOUS, PERCUTANEOUS_ENDOSCOPIC, NATURAL_OPENING, NATURAL_OPENING_ENDOSCOPIC, EXTERNAL = "0", "3", "4", "7", "8", "X"

# words that state an approach, each with the approaches it can be (in the order a coder reads them:
# "endoscopic" through a natural opening first, else through the skin)
STATED: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(rf"\b(?:{words})", re.I), approaches)
    for words, approaches in (
        (r"laparoscop|thoracoscop|arthroscop|percutaneous endoscop|video-?assisted", (PERCUTANEOUS_ENDOSCOPIC,)),
        (
            r"colonoscop|sigmoidoscop|esophagogastroduodenoscop|egd\b|bronchoscop|cystoscop|ureteroscop|"
            r"hysteroscop|laryngoscop|nasolaryngoscop|proctoscop|anoscop|endoscop|transurethral|\bturp\b",
            (NATURAL_OPENING_ENDOSCOPIC, PERCUTANEOUS_ENDOSCOPIC),
        ),
        (
            r"percutaneous|(?:core|fine)[- ]needle|needle (?:biopsy|aspiration)|(?:ct|ultrasound|fluoroscop\w*)[- ]guided|"
            r"puncture\b|\w*centesis\b|bone marrow (?:biops|aspirat)",
            (PERCUTANEOUS,),
        ),
        (r"transvaginal|transanal|transoral|per rectum|via (?:the )?(?:vagina|rectum|urethra|mouth)", (NATURAL_OPENING,)),
        (r"closed reduction", (EXTERNAL,)),
        (r"open\b|laparotomy|thoracotomy|craniotomy|arthrotomy", (OPEN,)),
    )
)

# body parts of Mouth and Throat (0C) seen in the mouth (PCS body part values): B5.3a External
_SEEN_IN_THE_MOUTH = frozenset("01234567NPQWX")
_MOUTH_AND_THROAT = "0C"

MEDICAL_AND_SURGICAL = "0"
RESECTION, EXCISION = "T", "B"
_ECTOMY = re.compile(r"ectom(?:y|ies)\b", re.I)
_PART_OF = re.compile(
    r"\b(?:partial|subtotal|wedge|segmental|hemi|biops\w*|lesion|mass|polyp\w*|nodule|cyst|tumou?r|lumpectomy|excision\w*|debride\w*)",
    re.I,
)


def stated_approaches(words: str) -> tuple[str, ...]:
    """The approaches the words state, in the order they are read ("" none)."""
    out: list[str] = []
    for pattern, approaches in STATED:
        if pattern.search(words):
            out += [a for a in approaches if a not in out]
    return tuple(out)


def approach_preference(code: str, stated: Sequence[str]) -> int:
    """Rank of the code's approach (lower first): a stated one in its order, else B5.3a's External for
    a structure seen in the mouth, else Open, else the rest."""
    approach = code[4]
    if stated:
        return stated.index(approach) if approach in stated else len(stated)
    if code[:2] == _MOUTH_AND_THROAT and code[3] in _SEEN_IN_THE_MOUTH:
        return 0 if approach == EXTERNAL else 1 if approach == OPEN else 2
    return 0 if approach == OPEN else 1


# "-ectomies" that take part of the body part unless the note says all of it
PARTIAL_UNLESS_TOTAL = re.compile(r"\b(?:dis[ck]|menisc|lamin|facet|ost)ectom", re.I)
_ALL_OF_IT = re.compile(r"\b(?:total|complete|radical|entire)\b", re.I)


def root_preference(code: str, mention: str) -> int:
    """Rank of the code's root operation for an "-ectomy" (lower first): Resection unless the words
    say a part of the body part was removed, or the operation takes part of it unless said to take all
    of it (:data:`PARTIAL_UNLESS_TOTAL`), then Excision."""
    if not _ECTOMY.search(mention) or code[2] not in (RESECTION, EXCISION):
        return 0
    partial = _PART_OF.search(mention) or (PARTIAL_UNLESS_TOTAL.search(mention) and not _ALL_OF_IT.search(mention))
    wanted = EXCISION if partial else RESECTION
    return 0 if code[2] == wanted else 1


def conventional_order(cands: Sequence[Candidate], mention: str, sentence: str) -> list[Candidate]:
    """``cands`` (best first) with each run of equally scored Medical and Surgical codes ordered by the
    root operation, then the approach a coder reads (the module doc), the other codes of the run left
    in their places; ``sentence``: the mention's
    sentence in the note, read for a stated approach."""
    stated = stated_approaches(mention) or stated_approaches(sentence)
    out: list[Candidate] = []
    i = 0
    while i < len(cands):
        j = i + 1
        while j < len(cands) and round(cands[j].score, 6) == round(cands[i].score, 6):
            j += 1
        run = list(cands[i:j])
        slots = [k for k, c in enumerate(run) if c.code[0] == MEDICAL_AND_SURGICAL and len(c.code) == 7]
        ordered = sorted(
            (run[k] for k in slots), key=lambda c: (root_preference(c.code, mention), approach_preference(c.code, stated))
        )
        for k, c in zip(slots, ordered):
            run[k] = c
        out += run
        i = j
    return out
