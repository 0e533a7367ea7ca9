"""Status codes a coder reads from the medication and allergy lists.

A dictated note's medication list says which drugs the patient takes long term; its allergy list
which drugs the patient must not get. Coders report both with status codes:

* **Long-term (current) drug therapy**, category Z79 (Guidelines I.C.21.c.3; for diabetes I.C.4.a.3:
  Z79.4 insulin, Z79.84 oral hypoglycemics, Z79.85 injectable non-insulin antidiabetics): a drug of a
  class in ``data/drug_classes.tsv`` named under a medication heading or in a list the prose
  introduces ("Discharged home with ..., Plavix 75 mg daily"; "her home medications, which are:" and
  numbered lines), or "on <drug>" or "<drug> therapy" anywhere in the note ("atrial fibrillation, on
  Coumadin" -> Z79.01),
  or the class itself the patient is said to be on ("chronic atrial fibrillation, on anticoagulation"
  -> Z79.01; "on oral hypoglycemics" -> Z79.84).
* **Allergy status**, Z88 (Index: Allergy, status, to ... penicillin Z88.0, narcotic agent Z88.5),
  Z91.04- (latex, radiographic dye) and Z91.01- (foods: seafood, peanuts, eggs): a drug named under
  the allergy heading, or after "allergic to" / "allergy to" (read from the words where extraction
  did not mark the drug). "No known drug allergies" names no drug, and a negated mention codes nothing.

The table holds the classes whose status bears on care (anticoagulants, antiplatelets, aspirin,
antidiabetics, hormonal contraceptives, systemic steroids, immunosuppressants and oral antineoplastics,
hormonal cancer therapy); a statin, an antihypertensive or an as-needed analgesic gets no Z79 code here,
as coders do not report one. A course of days ("prednisone taper", "for 10 days") is no long-term therapy. :func:`status_codes` only reads extraction's MEDICATION mentions, so
the evidence is the words (and audio) of the drug itself.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipeline.extract.types import Entity

DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "drug_classes.tsv"

MEDICATION_SECTIONS = frozenset({"medications", "discharge_medications"})
ALLERGY_SECTIONS = frozenset({"allergies"})
_ON_BEFORE = re.compile(
    r"\b(?:on|taking|takes|uses|using)\s+(?:(?:chronic|long[- ]term|daily|home|her|his)\s+)?"
    r"(?:\d+(?:\.\d+)?\s*(?:mg|mcg|g|units?)\s+(?:of\s+)?)?$",  # "on 20 mg of methotrexate"
    re.I,
)
# the patient's therapy with the drug: "attributed this to the Coumadin therapy", "her warfarin therapy"
_THERAPY_AFTER = re.compile(r"^\s+(?:therapy|treatment)\b", re.I)
# a drug coordinated with one the patient is said to be on: "on Synthroid and hydrocortisone", "on
# methotrexate every week as well as Remicade"
_ALSO_BEFORE = re.compile(r"^[^.;:\n]{0,40}?\s(?:and|as\s+well\s+as|plus|along\s+with)\s+$", re.I)
# a course of days is no long-term therapy: "prednisone taper", "Medrol Dosepak", "for 10 days"
_SHORT_COURSE_AFTER = re.compile(
    r"^[^.;\n]{0,40}?\b(?:taper(?:ing)?|dose\s*-?\s*paks?|dose\s+packs?|burst|(?:for|x|times)\s+(?:\d+|one|two|three|four|five|six|seven|ten|fourteen)\s+(?:more\s+)?days?)\b",
    re.I,
)
_ALLERGIC_BEFORE = re.compile(
    r"\b(?:allergic|allergy|allergies|intolerant|intolerance)\s+(?:to\s+)?(?:\w+\s+(?:and|or)\s+)?$", re.I
)
_NOT_THE_DRUG = re.compile(r"^[- ]?(?:dependent|requiring|resistant|independent|naive)\b", re.I)  # "non-insulin-dependent"
_NON_BEFORE = re.compile(r"\bnon[- ]?$", re.I)
# a drug the list says the patient no longer takes: "Warfarin discontinued 10 days earlier", "stopped her
# Coumadin" (not "held", which is a pause of a drug the patient stays on)
_STOPPED_AFTER = re.compile(r"^[^.;,\n]{0,12}?\b(?:was\s+|were\s+|has\s+been\s+)?(?:discontinued|stopped|d/c'?d)\b", re.I)
_STOPPED_BEFORE = re.compile(
    r"\b(?:discontinued|stopped|off(?:\s+of)?|no\s+longer\s+(?:on|taking))\s+(?:(?:his|her|the)\s+)?$", re.I
)


# the drug class itself, as a dictation says the patient is on it (read from the words: extraction marks
# drugs, not classes); what comes before may deny it ("not anticoagulated due to fall risk")
DRUG_CLASS_STATEMENTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"\b(?:on|takes|taking|receiv\w+|continu\w+(?:\s+on)?)\s+(?:(?:chronic|long[- ]term|oral|therapeutic|full|systemic)\s+)?"
            r"anticoagula(?:tion|nts?|nt\s+therapy)\b|\bchronically\s+anticoagulated\b",
            re.I,
        ),
        "Z79.01",
    ),
    (
        re.compile(
            r"\b(?:on|takes|taking|receiv\w+|continu\w+(?:\s+on)?)\s+(?:(?:his|her|an?)\s+)?oral\s+"
            r"(?:hypoglycemics?|hypoglycemic\s+(?:agents?|medications?|drugs?)|antidiabetics?|diabetic\s+medications?)\b",
            re.I,
        ),
        "Z79.84",
    ),
)
# what before the statement denies it ("does not have a history of being on anticoagulants") or makes it
# an episode of the past ("subdural hematoma while on anticoagulation")
_DENIED_BEFORE = re.compile(
    r"\b(?:not|no|never|off|stopped|discontinued|without|denies|held)\b[^.;\n]{0,30}$|\b(?:while|when|whilst)\s+$", re.I
)


class StatusKind(enum.Enum):
    LONG_TERM = "long_term"  # Z79: the patient takes the drug long term
    ALLERGY = "allergy"  # Z88 / Z91.04- / Z91.01-: the patient is allergic to it


@dataclass(frozen=True)
class DrugStatus:
    """One status code and the drug mentions it stands on."""

    kind: StatusKind
    code: str
    mentions: tuple[Entity, ...]

    @property
    def why(self) -> str:
        drugs = ", ".join(dict.fromkeys(e.text for e in self.mentions))
        if self.kind is StatusKind.LONG_TERM:
            return f"the patient takes {drugs} (medication list): long-term drug therapy (Guidelines I.C.21.c.3)"
        return f"the patient is allergic to {drugs} (allergy list): allergy status (Index: Allergy, status)"


@lru_cache(maxsize=1)
def drug_classes() -> dict[str, tuple[str | None, str | None]]:
    """Drug name (lower case) -> (long-term code or None, allergy code or None)."""
    table: dict[str, tuple[str | None, str | None]] = {}
    for line in DATA_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        drug, long_term, allergy = line.split("\t")
        table[drug.strip()] = (None if long_term == "-" else long_term, None if allergy == "-" else allergy)
    return table


# how a mention's own words may say the drug is taken: "chronic prednisone", "daily aspirin"
_DOSING_WORDS = re.compile(r"^(?:(?:chronic|daily|oral|home|long[- ]term|low[- ]dose|p\.?o\.?)\s+)+")


# a medication list in the prose of another section: "Discharged home with Synthroid 0.5 mg daily, Plavix
# 75 mg daily, ...", "continue her previous home medications, which are:" followed by numbered lines
_LIST_IN_PROSE = re.compile(
    r"\b(?:discharged(?:\s+(?:home|to\s+home))?\s+(?:with|on)|(?:home|current|discharge|outpatient)\s+medications?"
    r"(?:\s+(?:are|include|including|which\s+are|as\s+follows))?[,:]?)\s",
    re.I,
)
_SENTENCE_START = re.compile(r"\.\s+(?=[A-Z])|\n")
_NUMBERED_LINE = re.compile(r"^\s*\d+[.)]\s")
_LIST_HEADING_LINE = re.compile(r"\bmedications?\b[^\n]*:\s*$", re.I)


def listed_in_prose(text: str, start: int) -> bool:
    """Whether the drug at ``start`` is an item of a medication list the prose introduces: its
    sentence so far follows "discharged home with" or "home medications", or its numbered line is one
    of a run of numbered lines under a line ending in "medications ...:"."""
    begins = [m.end() for m in _SENTENCE_START.finditer(text, max(0, start - 400), start)]
    sentence = text[begins[-1] if begins else max(0, start - 400) : start]
    if _LIST_IN_PROSE.search(sentence):
        return True
    line_start = text.rfind("\n", 0, start) + 1
    if not _NUMBERED_LINE.match(text[line_start:start]):
        return False
    lines = text[:line_start].split("\n")[:-1]
    for line in reversed(lines[-30:]):
        if _NUMBERED_LINE.match(line):
            continue
        return bool(_LIST_HEADING_LINE.search(line))
    return False


def _drug(e: Entity, text: str) -> str | None:
    """The table's drug the mention names, or None ("non-insulin-dependent" names no insulin)."""
    name = _DOSING_WORDS.sub("", re.sub(r"\s+", " ", e.text.lower()).strip(" .,;:"))
    if name not in drug_classes():
        return None
    if _NOT_THE_DRUG.match(text[e.end : e.end + 12]) or _NON_BEFORE.search(text[max(0, e.start - 4) : e.start]):
        return None
    return name


def status_codes(entities: list[Entity], text: str | None) -> list[DrugStatus]:
    """The long-term drug therapy and allergy status codes the note's medication mentions support, one
    per code with all its mentions, in the order of their first mention."""
    if not text:
        return []
    found: dict[tuple[StatusKind, str], list[Entity]] = {}
    taken_until = -1  # the end of the last drug the patient was said to be on
    for e in entities:
        if e.label != "MEDICATION" or e.negated or e.family or e.hypothetical:
            continue
        before = text[max(0, e.start - 40) : e.start]
        said_on = bool(_ON_BEFORE.search(before) or _THERAPY_AFTER.match(text[e.end : e.end + 20])) or (
            0 <= taken_until <= e.start and bool(_ALSO_BEFORE.match(text[taken_until : e.start]))
        )
        if said_on:
            taken_until = e.end
        drug = _drug(e, text)
        if drug is None:
            continue
        long_term, allergy = drug_classes()[drug]
        if e.section in ALLERGY_SECTIONS or _ALLERGIC_BEFORE.search(before):
            if allergy:
                found.setdefault((StatusKind.ALLERGY, allergy), []).append(e)
        elif (
            long_term
            and (e.section in MEDICATION_SECTIONS or said_on or listed_in_prose(text, e.start))
            and not _STOPPED_AFTER.match(text[e.end : e.end + 40])
            and not _STOPPED_BEFORE.search(before)
            and not _SHORT_COURSE_AFTER.match(text[e.end : e.end + 60])
        ):
            found.setdefault((StatusKind.LONG_TERM, long_term), []).append(e)
    _allergies_extraction_missed(entities, text, found)
    _drug_classes_stated(text, found)
    return [DrugStatus(kind, code, tuple(ms)) for (kind, code), ms in found.items()]


def _drug_classes_stated(text: str, found: dict[tuple[StatusKind, str], list[Entity]]) -> None:
    """ "On anticoagulation", "on oral hypoglycemics": the long-term therapy of a drug class the note
    says the patient is on, with the class's words as the mention (:data:`DRUG_CLASS_STATEMENTS`)."""
    for pattern, code in DRUG_CLASS_STATEMENTS:
        for m in pattern.finditer(text):
            if _DENIED_BEFORE.search(text[max(0, m.start() - 45) : m.start()]):
                continue
            mention = Entity(m.start(), m.end(), m.group(0), "MEDICATION")
            found.setdefault((StatusKind.LONG_TERM, code), []).append(mention)


_ALLERGIC_TO = re.compile(r"\ballergic\s+to\s+([A-Za-z][\w-]*(?:\s+[A-Za-z][\w-]*){0,2})", re.I)
_NOT_ALLERGIC = re.compile(r"\b(?:not|no|denies|denied|never)\b[^.;\n]{0,20}$", re.I)


def _allergies_extraction_missed(entities: list[Entity], text: str, found: dict[tuple[StatusKind, str], list[Entity]]) -> None:
    """ "She is allergic to Lortab.": a drug of the table named after "allergic to" that extraction did
    not mark as a medication is read from the words themselves (the longest table name they start with)."""
    marked = [(e.start, e.end) for e in entities if e.label == "MEDICATION"]
    for m in _ALLERGIC_TO.finditer(text):
        if _NOT_ALLERGIC.search(text[max(0, m.start() - 40) : m.start()]):
            continue
        words = [(m.start(1) + w.start(), m.start(1) + w.end()) for w in re.finditer(r"\S+", m.group(1))]
        for n in range(len(words), 0, -1):
            start, end = words[0][0], words[n - 1][1]
            name = re.sub(r"\s+", " ", text[start:end]).lower()
            allergy = drug_classes().get(name, (None, None))[1]
            if allergy:
                if not any(s <= start < e for s, e in marked):
                    mention = Entity(start, end, text[start:end], "MEDICATION", section="allergies")
                    found.setdefault((StatusKind.ALLERGY, allergy), []).append(mention)
                break
