"""Reading and writing records. Stage results land in one transaction, so a crash never
leaves a half-written record visible to the review queue."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from pipeline.code.types import CodeProposal
from pipeline.extract.types import Entity
from pipeline.store.models import (
    AuditEvent,
    CodeProposalRecord,
    Dictation,
    DictationStatus,
    EntityRecord,
    TranscriptRecord,
)
from pipeline.transcribe.types import Transcript

DONE = (DictationStatus.CODED, DictationStatus.FINALIZED)


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def register_dictation(session: Session, path: Path, content_hash: str) -> tuple[Dictation, bool]:
    """The dictation for this content, created if new. Returns (dictation, created)."""
    existing = session.scalar(select(Dictation).where(Dictation.content_hash == content_hash))
    if existing is not None:
        return existing, False
    dictation = Dictation(
        content_hash=content_hash, file_name=path.name, source_path=str(path), size_bytes=path.stat().st_size
    )
    try:
        with session.begin_nested():
            session.add(dictation)
            session.flush()
    except IntegrityError:  # another worker registered the same content a moment ago
        return session.scalars(select(Dictation).where(Dictation.content_hash == content_hash)).one(), False
    session.add(AuditEvent(dictation_id=dictation.id, actor="pipeline", action="received", after={"file": path.name}))
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
) -> Dictation:
    """Replace the dictation's stage results and mark it coded, in the caller's transaction."""
    d = session.get(Dictation, dictation_id, with_for_update=True)
    if d is None:
        raise LookupError(f"dictation {dictation_id} not found")
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
                start=e.start, end=e.end, text=e.text, label=e.label, section=e.section, negated=e.negated,
                uncertain=e.uncertain, historical=e.historical, hypothetical=e.hypothetical, family=e.family,
                audio_start=e.audio_start, audio_end=e.audio_end,
                detail={"long_form": e.long_form, "word_prob": e.word_prob, "cues": e.cues},
            )
        )
    for rank, p in enumerate(proposals, start=1):
        d.proposals.append(
            CodeProposalRecord(
                system=p.system, code=p.code, description=p.description, score=p.score, rank=rank,
                rationale=p.rationale, evidence=[asdict(ev) for ev in p.evidence], edits=list(p.edits),
                model_version=model_version,
            )
        )
    d.duration = transcript.duration
    d.has_video = has_video
    d.status = DictationStatus.CODED
    d.error = d.error_kind = None
    session.add(
        AuditEvent(
            dictation_id=d.id, actor="pipeline", action="coded",
            after={"codes": [p.code for p in proposals], "model_version": model_version},
        )
    )
    return d


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
                "system": p.system, "code": p.code, "description": p.description, "score": p.score,
                "rationale": p.rationale, "evidence": p.evidence, "status": p.status,
            }
            for p in d.proposals
        ],
    }
