"""Status codes for procedures in the patient's past (Guidelines I.C.21.c.3).

A procedure the physician documents as past ("history of hysterectomy", "previous nephrectomy") was
not performed in this encounter, so it gets no ICD-10-PCS code; what it left behind is reported with
an ICD-10-CM status code: the absence of the organ it removed (Z90.710), the transplant (Z94.0), the
implant (Z96.641), the ostomy (Z93.3). The Alphabetic Index holds these under "Status (post)" and
"Absence, acquired", so the mention is looked up as "status post <procedure>" in the ICD-10-CM index;
only a close match to a status code (Z89-Z99) counts.

A treatment the patient lives on ("ESRD on hemodialysis", "home oxygen") is a status too, the Z99
dependence codes, whether or not the treatment is also given in this stay (:func:`ongoing_dependences`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.code.lookup.candidates import Candidate
from pipeline.code.lookup.index_lookup import lookup
from pipeline.extract.types import Entity

STATUS_CATEGORIES = tuple(f"Z{n}" for n in range(89, 100))  # Z89 acquired absence of limb ... Z99 dependence on machines
STATUS_MIN_SCORE = 0.75
# the statuses a coder reports whenever documented, since they bear on care (Guidelines I.C.21.c.3):
# artificial openings, transplants, cardiac implants and grafts, joint implants, dialysis; an acquired
# absence (Z90, "status post cholecystectomy") is the coder's call
REPORTED_STATUS = ("Z93", "Z94", "Z95", "Z96.6", "Z99.2")
PAST_PROCEDURE = (
    "a past procedure, not performed in this encounter: no ICD-10-PCS code (ICD-10-PCS reports this stay's procedures)"
)


# a past procedure as dictated -> the Index's words for what it left (Status, Presence): "CABG" is
# Status, aortocoronary bypass; an AICD is Presence, cardiac, defibrillator; a stent in a coronary
# artery is Status, angioplasty, coronary artery, with implant
STATUS_READINGS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.I), query)
    for pattern, query in (
        (
            r"\bcabg\b|\bcoronary\s+(?:artery\s+)?bypass\b|\baortocoronary\b|\bbypass\s+graft",
            "status post coronary artery bypass graft",
        ),
        (r"\ba?icd\b|\bdefibrillator\b", "presence of cardiac defibrillator"),
        (r"\bpacemaker\b|\bppm\b", "status post cardiac pacemaker"),
        (r"\bstent(?:s|ing|ed)?\b|\bpci\b|\bptca\b|\bangioplasty\b", "status post angioplasty coronary artery with implant"),
        (r"\bknee\s+(?:replacement|arthroplasty)\b|\btka\b|\btkr\b", "presence of knee joint implant"),
        (r"\bhip\s+(?:replacement|arthroplasty)\b|\btha\b|\bthr\b", "presence of hip joint implant"),
        (r"\b(?:hemo|peritoneal\s+)?dialysis\b", "status post renal dialysis"),
        (
            r"\bgastric\s+bypass\b|\broux[- ]en[- ]y\b|\bbariatric\b|\bsleeve\s+gastrectomy\b|\bgastric\s+band(?:ing)?\b",
            "status post bariatric surgery",
        ),
        (
            r"\b(?:upper|lower|middle)\s+lobectomy\b|\blung\s+lobectomy\b|\blobectomy\s+of\s+the\s+(?:\w+\s+){0,3}lung\b",
            "acquired absence of lung",
        ),
    )
)


# a treatment the patient lives on, as dictated -> (its Z99 dependence code, the Index's words): "ESRD on
# hemodialysis", "continue with dialysis", "on home oxygen" (not oxygen given during the stay)
ONGOING_DEPENDENCE: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        re.compile(
            r"\b(?:on|receiv\w*|continu\w*(?:\s+with)?|needs?|needed|requir\w*|dependent\s+on)\s+"
            r"(?:chronic\s+|regular\s+|outpatient\s+|home\s+)?(?:hemo|peritoneal\s+)?dialysis\b|\bdialysis[- ]dependent\b",
            re.I,
        ),
        "Z99.2",
        "Dependence, on, renal dialysis",
    ),
    (
        re.compile(r"\bhome\s+(?:oxygen|o2)\b|\b(?:oxygen|o2)\s+at\s+home\b|\b(?:oxygen|o2)[- ]dependent\b", re.I),
        "Z99.81",
        "Dependence, on, supplemental oxygen",
    ),
)


@dataclass(frozen=True)
class OngoingDependence:
    code: str
    mention: Entity  # the mention of the treatment (its evidence)
    why: str


def ongoing_dependences(entities: Sequence[Entity], text: str | None) -> list[OngoingDependence]:
    """The Z99 dependence codes for treatments the note says the patient lives on (Guidelines
    I.C.21.c.3: a status a coder reports whenever documented), each with the mention of the treatment
    inside the words that say so; a negated, hypothetical or relative's mention says nothing."""
    if not text:
        return []
    out: dict[str, OngoingDependence] = {}
    for pattern, code, path in ONGOING_DEPENDENCE:
        for m in pattern.finditer(text):
            e = next(
                (
                    e
                    for e in entities
                    if m.start() <= e.start and e.end <= m.end() and not (e.negated or e.hypothetical or e.family)
                ),
                None,
            )
            if e is not None and code not in out:
                out[code] = OngoingDependence(code, e, f'"{m.group(0)}": Index: {path}, {code} (Guidelines I.C.21.c.3)')
    return list(out.values())


def names_a_past_procedure(mention: str) -> bool:
    """A mention :data:`STATUS_READINGS` reads as what a past procedure left, whatever extraction
    labelled it ("history of congestive heart failure status post AICD": the AICD as a finding)."""
    return any(pattern.search(mention) for pattern, _ in STATUS_READINGS)


def status_query(procedure: str) -> str:
    """The Index query for what a past procedure left: a reading of :data:`STATUS_READINGS`, else
    "status post <procedure>"."""
    return next((query for pattern, query in STATUS_READINGS if pattern.search(procedure)), f"status post {procedure}")


def index_status(query: str) -> Candidate | None:
    """The Alphabetic Index's status code for a :func:`status_query` (Status, Presence, Transplant),
    read as a coder reads it, when it is a status code (Z89-Z99)."""
    hit = lookup(query)
    if hit is None or not hit.code.startswith(STATUS_CATEGORIES) or hit.covered < hit.words:
        return None
    return Candidate(hit.code, hit.code, ", ".join(hit.path), 1.0)


def status_candidate(candidates: Sequence[Candidate]) -> Candidate | None:
    """The best index candidate for a "status post <procedure>" query when it is a close status code."""
    best = candidates[0] if candidates else None
    if best is None or best.score < STATUS_MIN_SCORE or not best.code.startswith(STATUS_CATEGORIES):
        return None
    return best
