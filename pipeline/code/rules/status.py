"""Status codes for procedures in the patient's past (Guidelines I.C.21.c.3).

A procedure the physician documents as past ("history of hysterectomy", "previous nephrectomy") was
not performed in this encounter, so it gets no ICD-10-PCS code; what it left behind is reported with
an ICD-10-CM status code: the absence of the organ it removed (Z90.710), the transplant (Z94.0), the
implant (Z96.641), the ostomy (Z93.3). The Alphabetic Index holds these under "Status (post)" and
"Absence, acquired", so the mention is looked up as "status post <procedure>" in the ICD-10-CM index;
only a close match to a status code (Z89-Z99) counts.

A treatment the patient lives on ("ESRD on hemodialysis", "home oxygen") is a status too, the Z99
dependence codes, whether or not the treatment is also given in this stay (:func:`ongoing_dependences`),
and so is a device or artificial opening the patient lives with (a ureteral stent, an ileal conduit:
:func:`device_statuses`), read from the words, since extraction marks no device.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.code.lookup.candidates import Candidate
from pipeline.code.lookup.index_lookup import lookup
from pipeline.code.rules.note_text import sentence_at
from pipeline.extract.types import Entity

STATUS_CATEGORIES = tuple(f"Z{n}" for n in range(89, 100))  # Z89 acquired absence of limb ... Z99 dependence on machines
STATUS_MIN_SCORE = 0.75
# the statuses a coder reports whenever documented, since they bear on care (Guidelines I.C.21.c.3):
# artificial openings, transplants, cardiac implants and grafts, joint implants, dialysis; an acquired
# absence (Z90, "status post cholecystectomy") is the coder's call
# ... except an absent spleen (asplenia bears on every infection and vaccination). An organ removed for a
# malignancy is not reported by itself: the training notes' coder did (a mastectomy for breast cancer,
# Z90.10), the dev notes' coder did not (a nephrectomy for renal cell carcinoma), and the two cancel out
ASPLENIA = "Z90.81"
REPORTED_STATUS = ("Z93", "Z94", "Z95", "Z96.6", "Z99.2", ASPLENIA)


PAST_PROCEDURE = (
    "a past procedure, not performed in this encounter: no ICD-10-PCS code (ICD-10-PCS reports this stay's procedures)"
)


# a past procedure as dictated -> the Index's words for what it left (Status, Presence): "CABG" is
# Status, aortocoronary bypass; an AICD is Presence, cardiac, defibrillator; a stent in a coronary
# artery is Status, angioplasty, coronary artery, with implant (one in a carotid or leg artery the
# peripheral Status, angioplasty, with implant)
STATUS_READINGS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.I), query)
    for pattern, query in (
        (
            r"\bcabg\b|\bcoronary\s+(?:artery\s+)?bypass\b|\baortocoronary\b|\bbypass\s+graft",
            "status post coronary artery bypass graft",
        ),
        (r"\ba?icd\b|\bdefibrillator\b", "presence of cardiac defibrillator"),
        (r"\bpacemaker\b|\bppm\b", "status post cardiac pacemaker"),
        (  # a stent in an artery outside the heart: Status, angioplasty, with implant (peripheral, Z95.820)
            r"\b(?:carotid|iliac|femoral|popliteal|tibial|subclavian|renal|vertebral|mesenteric|peripheral)\s+"
            r"(?:arter(?:y|ies|ial)\s+)?(?:stent(?:s|ing|ed)?|angioplasty)\b",
            "status post angioplasty with implant",
        ),
        (
            r"(?<!ureteral\s)(?<!biliary\s)(?<!esophageal\s)\bstent(?:s|ing|ed)?\b(?![^.;\n]{0,25}\b(?:ureter|bile|biliary|esophag))"
            r"|\bpci\b|\bptca\b|\bangioplasty\b",
            "status post angioplasty coronary artery with implant",
        ),
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


# a device or artificial opening the patient lives with, as dictated -> (its status code, the Index's words).
# Read from the words wherever the note says the patient has it ("status post a stent placement" in a
# ureter, "ileal conduit urinary diversion"), since extraction marks no device.
DEVICE_PRESENCE: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern, re.I), code, path)
    for pattern, code, path in (
        (
            r"\bureteral\s+stents?\b|\bstents?\s+(?:was\s+|were\s+)?(?:placed\s+)?in\s+the\s+(?:left\s+|right\s+)?ureters?\b"
            r"|\bdouble[- ]j\s+stents?\b",
            "Z96.0",
            "Presence, ureteral stent",
        ),
        (  # the stent of a ureter the sentence names: "ureteral obstruction and is status post a stent placement"
            r"\bureteral\s+obstruction\b[^.;\n]{0,40}\b(?P<device>stents?(?:\s+placement)?)\b",
            "Z96.0",
            "Presence, ureteral stent",
        ),
        (
            r"\bileal\s+(?:conduit|loop)\b|\burostomy\b|\bnephrostomy(?:\s+tubes?)?\b",
            "Z93.6",
            "Status, artificial opening, urinary tract NEC",
        ),
        (r"\b(?:permanent\s+|cardiac\s+|dual[- ]chamber\s+)?pacemaker\b", "Z95.0", "Presence, cardiac pacemaker"),
        (
            r"\baicd\b|\bimplant(?:ed|able)\s+(?:cardioverter[- ])?defibrillator\b",
            "Z95.810",
            "Presence, cardiac defibrillator (with synchronous cardiac pacemaker)",
        ),
        (r"\bcolostomy\b", "Z93.3", "Status, colostomy"),
        (r"\bileostomy\b", "Z93.2", "Status, ileostomy"),
        (r"\btracheostomy\b|\btrach\b", "Z93.0", "Status, tracheostomy"),
        (r"\bgastrostomy\b|\bpeg\s+tube\b|\bg[- ]tube\b", "Z93.1", "Status, gastrostomy"),
    )
)
# the device is the reason for this encounter's procedure, or it is gone: no status
_DEVICE_HANDLED_AFTER = re.compile(
    r"^[^.;\n]{0,30}?\b(?:removal|removed|exchange[ds]?|takedown|reversal|closure|closed|revision|pulled)\b", re.I
)
_DEVICE_DENIED_BEFORE = re.compile(
    r"\b(?:no|not|never|without|denies|removal\s+of|removed|will|would|may|might|need\w*|requir\w*|recommend\w*|"
    r"candidate\s+for|consider\w*|discuss\w*|plan\w*|take\s*down|reversal\s+of|closure\s+of)\b[^.;\n]{0,25}$",
    re.I,
)
# a sentence that tells of this encounter placing the device: its procedure code, not a status
_PLACED_NOW = re.compile(
    r"\b(?:underwent|performed|placed|created|inserted|implanted|insertion|implantation|placement|constructed|taken\s+to\s+the\s+operating)\b",
    re.I,
)
_DENIED_IN_SENTENCE = re.compile(r"\b(?:denies|denied|negative\s+for|no\s+history\s+of|without)\b", re.I)
_PAST = re.compile(
    r"\b(?:status\s+post|s/p|history\s+of|prior|previous(?:ly)?|in\s+(?:19|20)\d\d|(?:years?|months?|weeks?)\s+ago)\b",
    re.I,
)
_ENCOUNTER_PROCEDURE_SECTIONS = frozenset({"procedure", "procedure_details", "findings", "anesthesia", "complications"})


def device_statuses(entities: Sequence[Entity], text: str | None) -> list[DocumentedStatus]:
    """The status codes of devices and artificial openings the note says the patient has
    (:data:`DEVICE_PRESENCE`; Guidelines I.C.21.c.3), each with the device's words as its evidence;
    not where the note denies it or plans it, and not at all where this encounter places, removes or
    closes it (its procedure is coded instead: "Permanent pacemaker was placed on 09/05/2007")."""
    if not text:
        return []
    starts = [e.start for e in entities]
    out: dict[str, DocumentedStatus] = {}
    for pattern, code, path in DEVICE_PRESENCE:
        found: list[tuple[int, int, str]] = []
        handled_now = False
        for m in pattern.finditer(text):
            before, after = text[max(0, m.start() - 40) : m.start()], text[m.end() : m.end() + 40]
            sentence = sentence_at(text, m.start(), m.end())
            near = [e for e, start in zip(entities, starts) if start <= m.start()]
            section = max(near, key=lambda e: e.start).section if near else None
            if (
                _DEVICE_HANDLED_AFTER.match(after)
                or section in _ENCOUNTER_PROCEDURE_SECTIONS
                or (_PLACED_NOW.search(sentence) and not _PAST.search(sentence))
            ):
                handled_now = True
                break
            if _DEVICE_DENIED_BEFORE.search(before) or _DENIED_IN_SENTENCE.search(sentence[: sentence.find(m.group(0))]):
                continue
            start, end = m.span("device") if "device" in pattern.groupindex else m.span()  # the device's own words
            found.append((start, end, section or ""))
        if found and not handled_now and code not in out:
            start, end, section = found[0]
            mention = Entity(start, end, text[start:end], "PROBLEM", section=section or None)
            out[code] = DocumentedStatus(code, mention, f'"{text[start:end]}": Index: {path}, {code} (Guidelines I.C.21.c.3)')
    return list(out.values())


def device_gone(after: str) -> bool:
    """The words after a device or opening say this encounter removes or closes it ("colostomy takedown")."""
    return bool(_DEVICE_HANDLED_AFTER.match(after))


@dataclass(frozen=True)
class DocumentedStatus:
    """A status code the note's words state (a dependence, a device), with the words as its evidence."""

    code: str
    mention: Entity  # the mention of the treatment or device (its evidence)
    why: str


def ongoing_dependences(entities: Sequence[Entity], text: str | None) -> list[DocumentedStatus]:
    """The Z99 dependence codes for treatments the note says the patient lives on (Guidelines
    I.C.21.c.3: a status a coder reports whenever documented), each with the mention of the treatment
    inside the words that say so; a negated, hypothetical or relative's mention says nothing."""
    if not text:
        return []
    out: dict[str, DocumentedStatus] = {}
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
                out[code] = DocumentedStatus(code, e, f'"{m.group(0)}": Index: {path}, {code} (Guidelines I.C.21.c.3)')
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
