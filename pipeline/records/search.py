"""Finding records: by patient name, MRN, date range, physician, status, document type, code
(exact, or every code under a category or subcategory prefix: ``E11`` finds ``E11.22``) and
free text over transcripts. The same SQL runs on SQLite and PostgreSQL: ``ILIKE`` (SQLite's
``lower() LIKE lower()``) with LIKE wildcards escaped; every word of the text must occur.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from pipeline.records.mpi import merged_ids, normalize_mrn
from pipeline.records.records import RecordError, iso, service_date
from pipeline.store.models import CodeProposalRecord, Dictation, DictationStatus, Encounter, Patient, TranscriptRecord

STATUSES = (
    DictationStatus.CODED,
    DictationStatus.PENDING,
    DictationStatus.FINALIZED,
    DictationStatus.FAILED,
    DictationStatus.RECEIVED,
)


@dataclass
class RecordQuery:
    patient: str | None = None  # part of the name
    mrn: str | None = None
    date_from: date | None = None  # date of service (or received date when none)
    date_to: date | None = None
    physician: str | None = None  # part of the name
    status: str | None = None
    document_type: str | None = None
    code: str | None = None  # exact code or prefix
    code_exact: bool = False
    text: str | None = None  # words that must all occur in the transcript
    patient_id: int | None = None
    limit: int = 500

    def is_empty(self) -> bool:
        return not any(
            (
                self.patient,
                self.mrn,
                self.date_from,
                self.date_to,
                self.physician,
                self.status,
                self.document_type,
                self.code,
                self.text,
                self.patient_id,
            )
        )


@dataclass
class RecordRow:
    id: int
    status: str
    patient_id: int | None
    mrn: str | None
    patient: str | None
    date_of_service: str | None
    physician: str | None
    document_type: str | None
    codes: list[str] = field(default_factory=list)
    snippet: str | None = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(column, text: str):
    return column.ilike(f"%{_escape(text)}%", escape="\\")


def code_forms(code: str) -> list[str]:
    """How a typed code may be stored: as typed (upper case, no spaces) and, for a CM code typed
    without its dot ('E1122'), with it ('E11.22')."""
    c = "".join(code.split()).upper().rstrip("*")
    forms = [c]
    if "." not in c and len(c) > 3 and re.fullmatch(r"[A-Z]\d[0-9A-Z]+", c):
        forms.append(f"{c[:3]}.{c[3:]}")
    return forms


def search_records(s: Session, q: RecordQuery) -> list[RecordRow]:
    for name in ("patient", "mrn", "physician", "code", "text"):
        value = getattr(q, name)
        if value and any(ord(c) < 32 and c not in "\t\n\r" for c in value):
            # SQLite's LIKE stops at a NUL: "%\x00%" would match every record
            raise RecordError(f"{name}: contains a control character (such as NUL); search for words")
    if q.status and q.status not in STATUSES:
        raise RecordError(f"status must be one of {', '.join(STATUSES)}")
    if q.date_from and q.date_to and q.date_from > q.date_to:
        raise RecordError("the date range ends before it starts")
    stmt = (
        select(Dictation)
        .outerjoin(Encounter, Dictation.encounter_id == Encounter.id)
        .outerjoin(Patient, Encounter.patient_id == Patient.id)
        .options(
            selectinload(Dictation.proposals),
            selectinload(Dictation.encounter).selectinload(Encounter.patient),
            selectinload(Dictation.transcript),
        )
    )
    conds = []
    if q.patient:
        conds += [_contains(Patient.name, w) for w in q.patient.split()]
    if q.patient_id is not None:
        conds.append(Encounter.patient_id == q.patient_id)
    if q.mrn:
        wanted = normalize_mrn(q.mrn)
        ids = [pid for pid, mrn in s.execute(select(Patient.id, Patient.mrn)) if normalize_mrn(mrn) == wanted and wanted]
        links = merged_ids(s)
        ids += [links[i] for i in ids if i in links]  # an old MRN finds the patient it was merged into
        conds.append(Encounter.patient_id.in_(ids or [-1]))
    day = func.coalesce(Encounter.date_of_service, func.date(Dictation.received_at))
    if q.date_from:
        conds.append(
            or_(
                Encounter.date_of_service >= q.date_from,
                and_(Encounter.date_of_service.is_(None), Dictation.received_at >= q.date_from),
            )
        )
    if q.date_to:
        conds.append(
            or_(
                Encounter.date_of_service <= q.date_to,
                and_(Encounter.date_of_service.is_(None), func.date(Dictation.received_at) <= q.date_to.isoformat()),
            )
        )
    if q.physician:
        conds.append(_contains(Encounter.physician, q.physician.strip()))
    if q.status:
        conds.append(Dictation.status == q.status)
    if q.document_type:
        conds.append(Dictation.document_type == q.document_type)
    if q.code:
        forms = code_forms(q.code)
        if not forms[0]:
            raise RecordError("code: give a code or the start of one")
        match = (
            CodeProposalRecord.code.in_(forms)
            if q.code_exact
            else or_(*[CodeProposalRecord.code.like(f"{_escape(c)}%", escape="\\") for c in forms])
        )
        conds.append(
            exists().where(CodeProposalRecord.dictation_id == Dictation.id, CodeProposalRecord.status != "rejected", match)
        )
    words = (q.text or "").split()
    if words:
        conds.append(
            exists().where(TranscriptRecord.dictation_id == Dictation.id, *[_contains(TranscriptRecord.text, w) for w in words])
        )
    stmt = stmt.where(*conds).order_by(day.desc(), Dictation.id.desc()).limit(max(1, min(q.limit, 5000)))
    rows = []
    for d in s.scalars(stmt).unique():
        p = d.encounter.patient if d.encounter is not None else None
        rows.append(
            RecordRow(
                id=d.id,
                status=d.status,
                patient_id=p.id if p else None,
                mrn=p.mrn if p else None,
                patient=p.name if p else None,
                date_of_service=iso(service_date(d)),
                physician=d.encounter.physician if d.encounter else None,
                document_type=d.document_type,
                codes=[c.code for c in d.proposals if c.status != "rejected"],
                snippet=_snippet(d.transcript.text if d.transcript else "", words),
            )
        )
    return rows


def _snippet(text: str, words: list[str], width: int = 60) -> str | None:
    if not words or not text:
        return None
    i = text.lower().find(words[0].lower())
    if i < 0:
        return None
    a, b = max(0, i - width), min(len(text), i + len(words[0]) + width)
    return ("…" if a else "") + text[a:b] + ("…" if b < len(text) else "")
