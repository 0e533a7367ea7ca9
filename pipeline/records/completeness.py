"""Completeness and standards check: does each record hold the elements a filed record must,
and are its coding edits resolved? The deviations report lists what is missing where, by
physician, so technicians can query them.

Required elements and where they are looked for:

| element | source |
|---|---|
| patient identity | the patient linked to the record has MRN, name and birth date |
| date of service, author physician | the encounter |
| document type | the record (from the sidecar or the review app) |
| chief complaint / reason | a transcript section: chief complaint, reason for visit/consult/admission, indications (operative notes: preoperative diagnosis; discharge summaries: admission diagnosis, history, hospital course) |
| assessment | assessment, assessment and plan, impression (operative: postoperative diagnosis, findings; discharge: discharge diagnosis) |
| plan | plan, assessment and plan, recommendations, disposition, discharge instructions/plan (not required of operative notes) |
| procedure | operative notes only: a procedure section |
| authentication | finalized (signed off) by a named coder |
| coding edits | none unresolved (error-level edits or open physician queries; records not yet finalized) |

The kind of note (general, operative, discharge) comes from the document type, else from the
first words of the dictation ("Operative note.", "Discharge summary."). Sections come from the project's header detection (``mrt_sections`` on a blank English
pipeline with a sentencizer: no model needed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pipeline.records.records import iso
from pipeline.store.models import Dictation, DictationStatus, Encounter

ELEMENTS = (
    "patient_identity",
    "date_of_service",
    "author_physician",
    "document_type",
    "chief_complaint",
    "assessment",
    "plan",
    "procedure",
    "authentication",
    "coding_edits",
)
# which transcript sections satisfy each element, by kind of note
SECTION_ELEMENTS = {
    "general": {
        "chief_complaint": {"chief_complaint", "indications", "admission_diagnosis"},
        "assessment": {"assessment", "assessment_and_plan", "impression", "discharge_diagnosis", "postoperative_diagnosis"},
        "plan": {"plan", "assessment_and_plan", "discharge_instructions"},
    },
    "operative": {  # reason, what was found, what was done; the plan is not required of an operative note
        "chief_complaint": {"preoperative_diagnosis", "indications", "chief_complaint"},
        "assessment": {"postoperative_diagnosis", "findings", "impression", "assessment"},
        "procedure": {"procedure", "procedure_details"},
    },
    "discharge": {
        "chief_complaint": {"admission_diagnosis", "chief_complaint", "hpi", "hospital_course"},
        "assessment": {"discharge_diagnosis", "assessment", "assessment_and_plan", "impression"},
        "plan": {"discharge_instructions", "discharge_medications", "plan", "assessment_and_plan"},
    },
}
# plan headers the section list does not name ("Recommendations:", "Discharge plan:", "Disposition:")
PLAN_HEADER = re.compile(
    r"(?:^|[.\n]\s*)(?:recommendations?|disposition|discharge plan|follow-up plan|treatment plan)\s*[:.,-]", re.I
)
CHECKED = (DictationStatus.CODED, DictationStatus.PENDING, DictationStatus.FINALIZED)


@dataclass
class RecordCheck:
    id: int
    status: str
    patient: str | None
    mrn: str | None
    physician: str | None
    date_of_service: str | None
    missing: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)  # element -> what exactly is missing

    @property
    def complete(self) -> bool:
        return not self.missing

    def to_dict(self) -> dict:
        return {**self.__dict__, "complete": self.complete}


@lru_cache(maxsize=1)
def _section_nlp():
    import spacy

    from pipeline.extract import sections  # noqa: F401  (registers mrt_sections)

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("mrt_sections", config={"split_sentences": False})
    return nlp


def sections_in(text: str) -> set[str]:
    """Canonical names of the sections found in a transcript."""
    if not text:
        return set()
    return {name for _, _, name in _section_nlp()(text)._.sections}


def note_kind(document_type: str | None, text: str) -> str:
    """'operative', 'discharge' or 'general', from the document type, else from how the dictation starts."""
    probe = (document_type or "").lower().replace("_", " ") or text[:80].lower()
    if any(w in probe for w in ("operative", "op note", "procedure note", "surgery", "operation")):
        return "operative"
    if "discharge" in probe:
        return "discharge"
    return "general"


def check_record(s: Session, d: Dictation) -> RecordCheck:
    from pipeline.records.validation import validate_record

    enc = d.encounter
    p = enc.patient if enc is not None else None
    day = enc.date_of_service if enc is not None else None
    rc = RecordCheck(d.id, d.status, p.name if p else None, p.mrn if p else None, enc.physician if enc else None, iso(day))

    def missing(element: str, detail: str) -> None:
        rc.missing.append(element)
        rc.details[element] = detail

    if p is None:
        missing("patient_identity", "no patient linked")
    else:
        lacks = [f for f, v in (("MRN", p.mrn), ("name", p.name), ("birth date", p.birth_date)) if not v]
        if lacks:
            missing("patient_identity", "patient has no " + ", ".join(lacks))
    if day is None:
        missing("date_of_service", "no date of service")
    if not (enc and enc.physician):
        missing("author_physician", "no dictating physician")
    if not d.document_type:
        missing("document_type", "no document type")
    text = d.transcript.text if d.transcript else ""
    found = sections_in(text)
    if PLAN_HEADER.search(text):
        found.add("plan")
    kind = note_kind(d.document_type, text)
    for element, names in SECTION_ELEMENTS[kind].items():
        if not found & names:
            missing(
                element,
                f"no {element.replace('_', ' ')} section in the transcript"
                + (f" ({kind} note: {', '.join(sorted(n.replace('_', ' ') for n in names))})" if kind != "general" else ""),
            )
    if d.status != DictationStatus.FINALIZED or not d.finalized_by:
        missing("authentication", "not finalized (signed off) by a coder")
        errors = [f.message for f in validate_record(s, d) if f.severity == "error"]
        if errors:
            missing("coding_edits", "; ".join(errors))
    return rc


def check_records(s: Session, ids: list[int] | None = None, only_incomplete: bool = False) -> list[RecordCheck]:
    stmt = (
        select(Dictation)
        .where(Dictation.status.in_(CHECKED))
        .options(
            selectinload(Dictation.transcript),
            selectinload(Dictation.proposals),
            selectinload(Dictation.encounter).selectinload(Encounter.patient),
        )
        .order_by(Dictation.id)
    )
    if ids:
        stmt = stmt.where(Dictation.id.in_(ids))
    out = [check_record(s, d) for d in s.scalars(stmt)]
    return [c for c in out if c.missing] if only_incomplete else out


def deviations_by_physician(checks: list[RecordCheck]) -> dict[str, list[RecordCheck]]:
    """Incomplete records grouped by the physician to query (records with none under '(no physician)')."""
    out: dict[str, list[RecordCheck]] = {}
    for c in checks:
        if c.missing:
            out.setdefault(c.physician or "(no physician)", []).append(c)
    return dict(sorted(out.items()))


def element_counts(checks: list[RecordCheck]) -> dict[str, int]:
    return {e: sum(1 for c in checks if e in c.missing) for e in ELEMENTS}


__all__ = ["ELEMENTS", "RecordCheck", "check_record", "check_records", "deviations_by_physician", "element_counts", "sections_in"]
