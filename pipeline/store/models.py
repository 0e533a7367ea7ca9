"""The master database: patients, encounters, dictations and everything derived from them."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


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
    encounters: Mapped[list["Encounter"]] = relationship(back_populates="patient")


class Encounter(Base):
    __tablename__ = "encounters"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(64), index=True)
    setting: Mapped[str] = mapped_column(String(16), default="outpatient")  # outpatient | inpatient
    date_of_service: Mapped[date | None] = mapped_column(Date)
    physician: Mapped[str | None] = mapped_column(String(200))
    patient: Mapped[Patient | None] = relationship(back_populates="encounters")
    dictations: Mapped[list["Dictation"]] = relationship(back_populates="encounter")


class DictationStatus:
    RECEIVED = "received"
    TRANSCRIBED = "transcribed"
    EXTRACTED = "extracted"
    CODED = "coded"  # stage results stored: ready for review
    FAILED = "failed"
    FINALIZED = "finalized"


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

    encounter: Mapped[Encounter | None] = relationship(back_populates="dictations")
    transcript: Mapped["TranscriptRecord | None"] = relationship(
        back_populates="dictation", cascade="all, delete-orphan", uselist=False
    )
    entities: Mapped[list["EntityRecord"]] = relationship(
        back_populates="dictation", cascade="all, delete-orphan", order_by="EntityRecord.start"
    )
    proposals: Mapped[list["CodeProposalRecord"]] = relationship(
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
    score: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)
    rationale: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list] = mapped_column(JSON)  # [{start, end, text, audio_start, audio_end}]
    edits: Mapped[list] = mapped_column(JSON, default=list)
    model_version: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), default="proposed")  # proposed|accepted|edited|rejected|added
    dictation: Mapped[Dictation] = relationship(back_populates="proposals")


class ReviewDecision(Base):
    """A coder's decision on one code of a dictation (the review queue writes these)."""

    __tablename__ = "review_decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    dictation_id: Mapped[int] = mapped_column(ForeignKey("dictations.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("code_proposals.id", ondelete="SET NULL"))
    user: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(16))  # accept | edit | reject | add
    code_before: Mapped[str | None] = mapped_column(String(10))
    code_after: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
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
