"""Reading and writing records. Stage results land in one transaction, so a crash never
leaves a half-written record visible to the review queue."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from datetime import UTC
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from pipeline.code.types import CM, CodeProposal
from pipeline.extract.types import Entity
from pipeline.store.lease import LeaseGuard, LeaseLost, renew
from pipeline.store.models import (
    AuditEvent,
    CodeProposalRecord,
    Dictation,
    DictationStatus,
    EntityRecord,
    TranscriptRecord,
    utcnow,
)
from pipeline.transcribe.types import Transcript

DONE = (DictationStatus.CODED, DictationStatus.PENDING, DictationStatus.FINALIZED)  # never reprocessed over a coder's work


def reprocess_refusal(d: Dictation) -> str | None:
    """Why processing this record again would overwrite a coder's work (None: it would not).

    Finalized and pending records, a record a coder holds, and one with a coder's decisions on
    its codes are never overwritten; a finalized record must first be reopened by a supervisor.
    """
    if d.status == DictationStatus.FINALIZED:
        return (
            f"record {d.id} is finalized; it is not processed again (a supervisor can reopen it, "
            "then its codes can be reviewed again)"
        )
    if d.status == DictationStatus.PENDING:
        return f"record {d.id} is pending ({d.pending_reason or 'on hold'}); take it off hold before processing it again"
    expires = d.claim_expires_at
    if expires is not None and expires.tzinfo is None:  # SQLite hands datetimes back naive (UTC)
        expires = expires.replace(tzinfo=UTC)
    if d.claimed_by is not None and expires is not None and expires > utcnow():
        return f"record {d.id} is being reviewed by a coder; it is not processed again while claimed"
    worked = [p.code for p in d.proposals if p.status != "proposed" or p.source != "pipeline"]
    if worked:
        return (
            f"record {d.id} holds a coder's decisions ({', '.join(worked[:5])}); "
            "processing again would discard them, so it was not done"
        )
    return None


def set_stored_media(session: Session, dictation_id: int, path: Path) -> None:
    """Where the record's media is filed now (the archive): the file the review app plays."""
    d = session.get(Dictation, dictation_id)
    if d is None:
        raise LookupError(f"dictation {dictation_id} not found")
    new = path_text(Path(path).resolve())
    if d.source_path != new:
        session.add(
            AuditEvent(
                dictation_id=d.id, actor="pipeline", action="media_filed", before={"path": d.source_path}, after={"path": new}
            )
        )
        d.source_path = new


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def path_text(path: str | Path) -> str:
    """A path as storable text: bytes that are not UTF-8 (old scanners, Latin-1 shares) become \\xNN."""
    import os

    return os.fsencode(str(path)).decode("utf-8", "backslashreplace")


def register_dictation(session: Session, path: Path, content_hash: str) -> tuple[Dictation, bool]:
    """The dictation for this content, created if new. Returns (dictation, created)."""
    existing = session.scalar(select(Dictation).where(Dictation.content_hash == content_hash))
    if existing is not None:
        return existing, False
    dictation = Dictation(
        content_hash=content_hash, file_name=path_text(path.name), source_path=path_text(path), size_bytes=path.stat().st_size
    )
    try:
        with session.begin_nested():
            session.add(dictation)
            session.flush()
    except IntegrityError:  # another worker registered the same content a moment ago
        return session.scalars(select(Dictation).where(Dictation.content_hash == content_hash)).one(), False
    session.add(AuditEvent(dictation_id=dictation.id, actor="pipeline", action="received", after={"file": path_text(path.name)}))
    return dictation, True


def store_results(
    session: Session,
    dictation_id: int,
    *,
    transcript: Transcript,
    entities: list[Entity],
    proposals: list[CodeProposal],
    has_video: bool,
    model_version: str,
    lease: LeaseGuard | None = None,
) -> Dictation:
    """Replace the dictation's stage results and mark it coded, in the caller's transaction.

    With ``lease``: only while its owner holds the lease (else :class:`~pipeline.store.lease.LeaseLost`
    and nothing is written); the guard is a write, so the check and the results share one write
    transaction (SQLite too)."""
    if lease is not None:
        if not renew(session, dictation_id, lease.owner, 60):
            raise LeaseLost(f"dictation {dictation_id}: another worker took it over; results discarded")
    d = session.get(Dictation, dictation_id, with_for_update=True)
    if d is None:
        raise LookupError(f"dictation {dictation_id} not found")
    if d.status in DONE and (why := reprocess_refusal(d)) is not None:
        from pipeline.errors import RecordLocked

        raise RecordLocked(d.id, why)
    d.transcript = None
    d.entities.clear()
    d.proposals.clear()
    session.flush()
    seg_dicts = [asdict(s) for s in transcript.segments]
    d.transcript = TranscriptRecord(
        text=transcript.text,
        language=transcript.language,
        model=transcript.model,
        backend=transcript.backend,
        duration=transcript.duration,
        processing_seconds=transcript.processing_seconds,
        segments=seg_dicts,
    )
    for e in entities:
        d.entities.append(
            EntityRecord(
                start=e.start,
                end=e.end,
                text=e.text,
                label=e.label,
                section=e.section,
                negated=e.negated,
                uncertain=e.uncertain,
                historical=e.historical,
                hypothetical=e.hypothetical,
                family=e.family,
                audio_start=e.audio_start,
                audio_end=e.audio_end,
                detail={"long_form": e.long_form, "word_prob": e.word_prob, "cues": e.cues},
            )
        )
    first_cm = next((p for p in proposals if p.system == CM), None)
    for rank, p in enumerate(proposals, start=1):
        d.proposals.append(
            CodeProposalRecord(
                system=p.system,
                code=p.code,
                description=p.description,
                score=p.score,
                rank=rank,
                rationale=p.rationale,
                evidence=[asdict(ev) for ev in p.evidence],
                edits=list(p.edits),
                model_version=model_version,
                proposed_code=p.code,
                principal=p is first_cm,
            )
        )
    d.duration = transcript.duration
    d.has_video = has_video
    d.edit_errors = coding_edit_errors(d, proposals)
    d.status = DictationStatus.CODED
    d.error = d.error_kind = None
    session.add(
        AuditEvent(
            dictation_id=d.id,
            actor="pipeline",
            action="coded",
            after={"codes": [p.code for p in proposals], "model_version": model_version},
        )
    )
    if lease is not None:
        d.coded_at = utcnow()
        d.stage_seconds = dict(lease.stage_seconds)
        d.lease_owner = d.lease_expires_at = d.stage_started_at = d.next_attempt_at = None
    return d


def patient_age(d: Dictation) -> int | None:
    """Age in years on the date of service (or the day the dictation came in)."""
    enc = d.encounter
    if enc is None or enc.patient is None or enc.patient.birth_date is None:
        return None
    on = enc.date_of_service or (d.received_at or utcnow()).date()
    born = enc.patient.birth_date
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def coding_edit_errors(d: Dictation, proposals: list[CodeProposal]) -> int:
    """How many coding edits at error level the proposed code set trips (the worklist shows it)."""
    from pipeline.code.edits.checks import CodeLine, check_codes

    enc = d.encounter
    first_cm = next((p for p in proposals if p.system == CM), None)
    findings = check_codes(
        [CodeLine(p.system, p.code, p is first_cm) for p in proposals],
        sex=enc.patient.sex if enc is not None and enc.patient is not None else None,
        age=patient_age(d),
        setting=(enc.setting if enc is not None else None) or "outpatient",
    )
    return sum(1 for f in findings if f.severity == "error")


def mark_failed(session: Session, dictation_id: int, kind: str, reason: str) -> None:
    d = session.get(Dictation, dictation_id)
    if d is None:
        return
    d.status = DictationStatus.FAILED
    d.error_kind, d.error = kind, reason
    session.add(AuditEvent(dictation_id=d.id, actor="pipeline", action="failed", after={"kind": kind, "reason": reason}))


def load_dictation(session: Session, dictation_id: int) -> Dictation | None:
    return session.scalar(
        select(Dictation)
        .where(Dictation.id == dictation_id)
        .options(selectinload(Dictation.transcript), selectinload(Dictation.entities), selectinload(Dictation.proposals))
    )


def dictation_summary(d: Dictation) -> dict:
    """Plain-dict view of a stored dictation (for the CLI and flows)."""
    return {
        "id": d.id,
        "file": d.file_name,
        "status": d.status,
        "error": d.error,
        "duration": d.duration,
        "has_video": d.has_video,
        "transcript": d.transcript.text if d.transcript else None,
        "codes": [
            {
                "system": p.system,
                "code": p.code,
                "description": p.description,
                "score": p.score,
                "rationale": p.rationale,
                "evidence": p.evidence,
                "status": p.status,
            }
            for p in d.proposals
        ],
    }
