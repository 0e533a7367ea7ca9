"""The pipeline's stages as plain functions; Prefect tasks in ``flows/`` call these.

register -> load -> transcribe -> extract -> code -> store. Each takes and returns typed
values; only :func:`register`, :func:`store` and :func:`fail` touch the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.code.coder import MODEL_VERSION, CodingResult, propose_codes
from pipeline.extract.pipeline import extract
from pipeline.extract.types import Entity
from pipeline.settings import Settings, get_settings
from pipeline.store import repository
from pipeline.store.db import session_scope
from pipeline.transcribe.audio import Audio, load_media
from pipeline.transcribe.transcribe import transcribe_audio
from pipeline.transcribe.types import Transcript


@dataclass(frozen=True)
class Registration:
    dictation_id: int
    created: bool
    status: str
    path: str
    content_hash: str

    @property
    def already_done(self) -> bool:
        return not self.created and self.status in repository.DONE


def register(path: str | Path, settings: Settings | None = None) -> Registration:
    """Record the file by content hash; the same content never gets a second record."""
    path = Path(path).resolve()
    if not path.is_file():
        from pipeline.errors import MediaError

        raise MediaError(path, "not_found", "file not found")
    content_hash = repository.sha256_file(path)
    with session_scope(settings=settings) as s:
        d, created = repository.register_dictation(s, path, content_hash)
        return Registration(d.id, created, d.status, str(path), content_hash)


def load(path: str | Path, settings: Settings | None = None) -> Audio:
    s = settings or get_settings()
    return load_media(path, max_duration=s.max_duration_s, min_duration=s.min_duration_s, max_bytes=s.max_file_bytes)


def transcribe(audio: Audio, settings: Settings | None = None, backend: str | None = None, context=None) -> Transcript:
    """``context``: a :class:`pipeline.transcribe.vocabulary.DictationContext` (document type,
    specialty from the sidecar) that chooses the biasing vocabulary; None: the general one."""
    return transcribe_audio(audio, settings or get_settings(), backend, context)


def extract_entities(transcript: Transcript) -> list[Entity]:
    return extract(transcript.text, transcript)


def code(
    entities: list[Entity], settings: Settings | None = None, setting: str | None = None, text: str | None = None
) -> CodingResult:
    """Code proposals; ``text`` (the transcript the entities come from) lets the coder read details
    stated next to a mention (CKD stage, episode of care, laterality)."""
    return propose_codes(entities, settings or get_settings(), setting, text=text)


def store(
    registration: Registration,
    audio: Audio,
    transcript: Transcript,
    entities: list[Entity],
    coding: CodingResult,
    settings: Settings | None = None,
) -> dict:
    """Write all stage results in one transaction; returns the stored record's summary."""
    with session_scope(settings=settings) as s:
        d = repository.store_results(
            s,
            registration.dictation_id,
            transcript=transcript,
            entities=entities,
            proposals=coding.proposals,
            has_video=audio.has_video,
            model_version=f"{transcript.backend}:{transcript.model}|{MODEL_VERSION}",
        )
        s.flush()
        s.refresh(d)
        return repository.dictation_summary(d)


def fail(registration: Registration, kind: str, reason: str, settings: Settings | None = None) -> None:
    with session_scope(settings=settings) as s:
        repository.mark_failed(s, registration.dictation_id, kind, reason)


def existing_summary(registration: Registration, settings: Settings | None = None) -> dict:
    with session_scope(settings=settings) as s:
        d = repository.load_dictation(s, registration.dictation_id)
        return {**repository.dictation_summary(d), "duplicate": True}
