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

* **Measurement.** A test (section 4, Measurement and Monitoring) is read to the function its words name,
  by the approach stated, else External, the approach of surface electrodes: an EEG is 4A00X4Z, a
  nerve conduction study the peripheral nerves' conductivity (:func:`measurement_preference`).

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


MEASUREMENT = "4A"  # Measurement and Monitoring, Measurement
# the function a test's words name (the 5th character of a measurement is its approach, the 6th its
# function): an EEG measures the central nervous system's electrical activity (4A00X4Z), a nerve
# conduction study the peripheral nerves' conductivity (4A01X2-), not the central nervous conductivity
# of an open approach the PCS Index's "see Measurement, Central Nervous 4A00" reads first
_FUNCTIONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.I), f)
    for p, f in (
        (r"\b(?:eeg|electroencephalogra\w*|ekg|ecg|electrocardiogra\w*|electrical activity)\b", "4"),
        (r"\bconduction\b|\bncs\b|\bconductivity\b", "2"),
        (r"\bpressures?\b", "B"),
    )
)
CENTRAL_NERVOUS, PERIPHERAL_NERVOUS = "0", "1"
_CENTRAL = re.compile(r"\b(?:eeg|electroencephalogra\w*|brain|cerebral|evoked|spinal cord)\b", re.I)


def measurement_preference(code: str, mention: str, stated: Sequence[str]) -> tuple[int, int, int]:
    """Rank of a measurement's function, body system and approach for a test's words (lower first): the
    function they name; a nerve conduction study's peripheral nerves unless the words name the brain or
    the cord; the approach stated, else External (a test of surface electrodes: 4A00X4Z, 4A02X4Z). A test
    of no function named keeps the index's order."""
    wanted = next((f for pattern, f in _FUNCTIONS if pattern.search(mention)), None)
    if wanted is None:
        return 0, 0, 0  # a test of no function named (an EMG's needle is percutaneous): the index's order
    function = 0 if code[5] == wanted else 1
    nervous = CENTRAL_NERVOUS if _CENTRAL.search(mention) else PERIPHERAL_NERVOUS
    system = 0 if code[3] not in (CENTRAL_NERVOUS, PERIPHERAL_NERVOUS) or code[3] == nervous else 1
    approach = code[4]
    if stated:
        return function, system, stated.index(approach) if approach in stated else len(stated)
    return function, system, 0 if approach == EXTERNAL else 1


def _with_external_measurements(cands: Sequence[Candidate]) -> list[Candidate]:
    """``cands`` with the External approach's code beside each measurement the index gave by another
    approach only, scored alike (the index's first few of the Index's "see Measurement, Central Nervous
    4A00" for an "EEG" are open, percutaneous and endoscopic ones)."""
    from dataclasses import replace

    from pipeline.code.lookup.codeset import get_codeset

    have = {c.code for c in cands}
    out: list[Candidate] = []
    for c in cands:
        out.append(c)
        external = f"{c.code[:4]}{EXTERNAL}{c.code[5:]}"
        if c.code.startswith(MEASUREMENT) and len(c.code) == 7 and external not in have and get_codeset().pcs_is_valid(external):
            have.add(external)
            out.append(replace(c, code=external, description=get_codeset().pcs_description(external) or external))
    return out


def conventional_order(cands: Sequence[Candidate], mention: str, sentence: str) -> list[Candidate]:
    """``cands`` (best first) with each run of equally scored Medical and Surgical codes ordered by the
    root operation, then the approach a coder reads (the module doc), the other codes of the run left
    in their places; ``sentence``: the mention's
    sentence in the note, read for a stated approach."""
    stated = stated_approaches(mention) or stated_approaches(sentence)
    cands = _with_external_measurements(cands)
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
        tests = [k for k, c in enumerate(run) if c.code.startswith(MEASUREMENT) and len(c.code) == 7]
        for k, c in zip(tests, sorted((run[k] for k in tests), key=lambda c: measurement_preference(c.code, mention, stated))):
            run[k] = c
        out += run
        i = j
    return out
