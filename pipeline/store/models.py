"""The master database: patients, encounters, dictations and everything derived from them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    encounters: Mapped[list[Encounter]] = relationship(back_populates="patient")


class Encounter(Base):
    __tablename__ = "encounters"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(64), index=True)
    setting: Mapped[str] = mapped_column(String(16), default="outpatient")  # outpatient | inpatient
    date_of_service: Mapped[date | None] = mapped_column(Date)
    physician: Mapped[str | None] = mapped_column(String(200))
    patient: Mapped[Patient | None] = relationship(back_populates="encounters")
    dictations: Mapped[list[Dictation]] = relationship(back_populates="encounter")


class DictationStatus:
    RECEIVED = "received"
    LOADING = "loading"  # a worker holds it: decoding the media
    TRANSCRIBING = "transcribing"
    EXTRACTING = "extracting"
    CODING = "coding"  # next: all stage results are stored in one transaction, then CODED
    TRANSCRIBED = "transcribed"
    EXTRACTED = "extracted"
    CODED = "coded"  # stage results stored: ready for review
    FAILED = "failed"
    PENDING = "pending"  # a coder parked it (pending reason, open physician query)
    FINALIZED = "finalized"

    #: statuses that belong in the coders' worklist
    REVIEWABLE = (CODED, PENDING)


class Dictation(Base):
    __tablename__ = "dictations"
    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the media file
    file_name: Mapped[str] = mapped_column(String(500))
    source_path: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(Integer)
    has_video: Mapped[bool | None] = mapped_column(Boolean)
    duration: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), default=DictationStatus.RECEIVED, index=True)
    error_kind: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
    document_type: Mapped[str | None] = mapped_column(String(80))
    priority: Mapped[str | None] = mapped_column(String(20))
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounters.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # processing (pipeline.store.processing): tries, which worker holds it until when, stage timings
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_owner: Mapped[str | None] = mapped_column(String(200))  # host:pid:token of the worker at it
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    stage_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    coded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    stage_seconds: Mapped[dict | None] = mapped_column(JSON)  # {"load": s, "transcribe": s, ...} of the last try
    source_meta: Mapped[dict | None] = mapped_column(JSON)  # drop folder origin, sidecar fields as given
    # review queue: who holds the record, until when, and why it is parked
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    claim_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pending_reason: Mapped[str | None] = mapped_column(String(80))
    review_note: Mapped[str | None] = mapped_column(Text)
    finalized_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    finalized_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    edit_errors: Mapped[int] = mapped_column(Integer, default=0)  # coding edits that block finalizing, last check
    edit_overrides: Mapped[list | None] = mapped_column(JSON)  # [{kind, codes, reason, user, at}] coder-documented exceptions

    encounter: Mapped[Encounter | None] = relationship(back_populates="dictations")
    transcript: Mapped[TranscriptRecord | None] = relationship(
        back_populates="dictation", cascade="all, delete-orphan", uselist=False
    )
    entities: Mapped[list[EntityRecord]] = relationship(
        back_populates="dictation", cascade="all, delete-orphan", order_by="EntityRecord.start"
    )
    proposals: Mapped[list[CodeProposalRecord]] = relationship(
        back_populates="dictation", cascade="all, delete-orphan", order_by="CodeProposalRecord.rank"
    )


class TranscriptRecord(Base):
    __tablename__ = "transcripts"
    id: Mapped[int] = mapped_column(primary_key=True)
    dictation_id: Mapped[int] = mapped_column(ForeignKey("dictations.id", ondelete="CASCADE"), unique=True)
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(String(200))
    backend: Mapped[str] = mapped_column(String(40))
    duration: Mapped[float] = mapped_column(Float)
    processing_seconds: Mapped[float] = mapped_column(Float)
    segments: Mapped[list] = mapped_column(JSON)  # [{id, start, end, text, words: [...]}, ...]
    dictation: Mapped[Dictation] = relationship(back_populates="transcript")


class EntityRecord(Base):
    __tablename__ = "entities"
    id: Mapped[int] = mapped_column(primary_key=True)
    dictation_id: Mapped[int] = mapped_column(ForeignKey("dictations.id", ondelete="CASCADE"), index=True)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(20))
    section: Mapped[str | None] = mapped_column(String(40))
    negated: Mapped[bool] = mapped_column(Boolean, default=False)
    uncertain: Mapped[bool] = mapped_column(Boolean, default=False)
    historical: Mapped[bool] = mapped_column(Boolean, default=False)
    hypothetical: Mapped[bool] = mapped_column(Boolean, default=False)
    family: Mapped[bool] = mapped_column(Boolean, default=False)
    audio_start: Mapped[float | None] = mapped_column(Float)
    audio_end: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[dict | None] = mapped_column(JSON)  # long_form, word_prob, cues
    dictation: Mapped[Dictation] = relationship(back_populates="entities")


class CodeProposalRecord(Base):
    __tablename__ = "code_proposals"
    __table_args__ = (UniqueConstraint("dictation_id", "system", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    dictation_id: Mapped[int] = mapped_column(ForeignKey("dictations.id", ondelete="CASCADE"), index=True)
    system: Mapped[str] = mapped_column(String(12))  # ICD-10-CM | ICD-10-PCS
    code: Mapped[str] = mapped_column(String(10), index=True)
    description: Mapped[str] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(Float)  # None for codes a coder added
    rank: Mapped[int] = mapped_column(Integer)
    rationale: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list] = mapped_column(JSON)  # [{start, end, text, audio_start, audio_end}]
    edits: Mapped[list] = mapped_column(JSON, default=list)
    model_version: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), default="proposed")  # proposed|accepted|edited|rejected|added
    # review: the code the pipeline proposed (kept when a coder edits), who added it, principal dx
    source: Mapped[str] = mapped_column(String(16), default="pipeline")  # pipeline | coder
    proposed_code: Mapped[str | None] = mapped_column(String(10))
    principal: Mapped[bool] = mapped_column(Boolean, default=False)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    dictation: Mapped[Dictation] = relationship(back_populates="proposals")


class User(Base):
    """A person who logs in to the review queue."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # coder | supervisor | admin
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebSession(Base):
    """A server-side login session; the browser holds only the random token (hashed here)."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    user: Mapped[User] = relationship()


class PhysicianQuery(Base):
    """A coder's clarification question to the dictating physician, and its answer."""

    __tablename__ = "physician_queries"
    id: Mapped[int] = mapped_column(primary_key=True)
    dictation_id: Mapped[int] = mapped_column(ForeignKey("dictations.id", ondelete="CASCADE"), index=True)
    template: Mapped[str] = mapped_column(String(40))
    question: Mapped[str] = mapped_column(Text)
    physician: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | answered | closed
    answer: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReviewDecision(Base):
    """A coder's decision on one code of a dictation (the review queue writes these)."""

    __tablename__ = "review_decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    dictation_id: Mapped[int] = mapped_column(ForeignKey("dictations.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("code_proposals.id", ondelete="SET NULL"))
    user: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(16))  # accept | edit | reject | add
    system: Mapped[str | None] = mapped_column(String(12))
    code_before: Mapped[str | None] = mapped_column(String(10))
    code_after: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    model_version: Mapped[str | None] = mapped_column(String(80))  # of the proposal decided on
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEvent(Base):
    """Append-only record of every action on a record, by the pipeline or a person."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    dictation_id: Mapped[int | None] = mapped_column(ForeignKey("dictations.id", ondelete="SET NULL"), index=True)
    actor: Mapped[str] = mapped_column(String(80))  # user name, or "pipeline"
    action: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


@event.listens_for(AuditEvent, "before_update", propagate=True)
@event.listens_for(AuditEvent, "before_delete", propagate=True)
def _audit_is_append_only(mapper, connection, target) -> None:
    raise PermissionError("audit events are append-only")


class PatientMerge(Base):
    """A supervisor's merge of a duplicate patient into the surviving one (pipeline.records.mpi).

    The merged patient's row stays (its MRN still finds the survivor); ``moved`` lists what was
    moved so the merge can be undone; ``undone_at`` is set when it was."""

    __tablename__ = "patient_merges"
    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    actor: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    moved: Mapped[dict | None] = mapped_column(JSON)  # {"encounters": [ids], "merged": {mrn, name, birth_date, sex}}
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by: Mapped[str | None] = mapped_column(String(80))


class PatientDateShift(Base):
    """The per-patient secret number of days de-identified releases shift this patient's dates by."""

    __tablename__ = "patient_date_shifts"
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    days: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReleaseOfInformation(Base):
    """One release of records to someone outside (pipeline.records.release): who, to whom, why, when, what."""

    __tablename__ = "releases"
    id: Mapped[int] = mapped_column(primary_key=True)
    released_by: Mapped[str] = mapped_column(String(80))
    recipient: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    released_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    format: Mapped[str] = mapped_column(String(16))  # json | csv | fhir
    deidentified: Mapped[bool] = mapped_column(Boolean, default=True)
    dictation_ids: Mapped[list] = mapped_column(JSON)
    record_count: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))  # of the file handed out
    file_name: Mapped[str] = mapped_column(String(200))


class InpatientAbstractRecord(Base):
    """A record's inpatient abstract as the coder saved it (pipeline.claim.abstract): dates, UB-04
    admission type/point of origin/discharge status, POA per diagnosis, procedure dates."""

    __tablename__ = "inpatient_abstracts"
    id: Mapped[int] = mapped_column(primary_key=True)
    dictation_id: Mapped[int] = mapped_column(ForeignKey("dictations.id", ondelete="CASCADE"), unique=True)
    admission_date: Mapped[date | None] = mapped_column(Date)
    discharge_date: Mapped[date | None] = mapped_column(Date, index=True)
    admission_type: Mapped[str | None] = mapped_column(String(2))
    admission_source: Mapped[str | None] = mapped_column(String(2))
    discharge_status: Mapped[str | None] = mapped_column(String(2))
    service: Mapped[str | None] = mapped_column(String(80))
    poa: Mapped[dict | None] = mapped_column(JSON)  # {"I5023": "Y", ...} undotted code -> confirmed indicator
    principal_procedure: Mapped[str | None] = mapped_column(String(7))
    procedure_dates: Mapped[dict | None] = mapped_column(JSON)  # {"5A1955Z": "2026-11-19"}
    source: Mapped[str] = mapped_column(String(16), default="coder")  # coder | sidecar
    updated_by: Mapped[str | None] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class CdiQueryRecord(Base):
    """The impact side of a CDI query (pipeline.claim.cdi): which answer gives which codes and DRG,
    which answer came back. The query itself (text, status, answer) is a PhysicianQuery."""

    __tablename__ = "cdi_queries"
    id: Mapped[int] = mapped_column(primary_key=True)
    query_id: Mapped[int] = mapped_column(ForeignKey("physician_queries.id", ondelete="CASCADE"), unique=True)
    dictation_id: Mapped[int] = mapped_column(ForeignKey("dictations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    target_code: Mapped[str | None] = mapped_column(String(10))
    options: Mapped[list] = mapped_column(JSON)  # [{label, codes, effect, drg, weight, hccs, specific}]
    drg_before: Mapped[int | None] = mapped_column(Integer)
    weight_before: Mapped[float | None] = mapped_column(Float)
    answer_option: Mapped[int | None] = mapped_column(Integer)  # index into options
    agreed: Mapped[bool | None] = mapped_column(Boolean)  # the physician documented a specific diagnosis
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
