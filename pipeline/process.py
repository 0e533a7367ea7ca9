"""The pipeline's stages as plain functions; Prefect tasks in ``flows/`` call these.

register -> (metadata) -> load -> transcribe -> (speech check) -> extract -> code -> store ->
(file the media). Each takes and returns typed values; only :func:`register`,
:func:`attach_metadata`, :func:`store`, :func:`file_media`, :func:`reprocess_refusal` and
:func:`fail` touch the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.code.coder import MODEL_VERSION, CodingResult, propose_codes
from pipeline.extract.pipeline import extract
from pipeline.errors import MediaError
from pipeline.extract.types import Entity
from pipeline.intake.sidecar import Sidecar
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


def reprocess_refusal(registration: Registration, settings: Settings | None = None) -> str | None:
    """Why this record must not be processed again (finalized, pending, claimed, coder decisions), or None."""
    with session_scope(settings=settings) as s:
        d = repository.load_dictation(s, registration.dictation_id)
        return repository.reprocess_refusal(d) if d is not None else None


def attach_metadata(registration: Registration, sidecar: Sidecar | None, origin: dict, settings: Settings | None = None) -> str:
    """Store the sidecar's fields (patient, encounter, physician, document type, setting, priority)
    on the record, as the drop folder does; returns the care setting to code with."""
    from pipeline.store import processing

    settings = settings or get_settings()
    with session_scope(settings=settings) as s:
        d = s.get(repository.Dictation, registration.dictation_id)
        processing.attach_metadata(s, d, sidecar, origin, settings.care_setting)
        s.flush()
        return processing.care_setting(s, registration.dictation_id, settings.care_setting)


def load(path: str | Path, settings: Settings | None = None) -> Audio:
    s = settings or get_settings()
    return load_media(path, max_duration=s.max_duration_s, min_duration=s.min_duration_s, max_bytes=s.max_file_bytes)


def transcribe(audio: Audio, settings: Settings | None = None, backend: str | None = None, context=None) -> Transcript:
    """``context``: a :class:`pipeline.transcribe.vocabulary.DictationContext` (document type,
    specialty from the sidecar) that chooses the biasing vocabulary; None: the general one."""
    return transcribe_audio(audio, settings or get_settings(), backend, context)


def check_speech(audio: Audio, transcript: Transcript, settings: Settings | None = None) -> None:
    """Refuse media that decodes but holds no dictation (noise, a fragment, a cut-off file): a
    :class:`MediaError` of kind ``no_speech``, so it is quarantined with its reason, never queued
    for a coder as an empty record. ``min_words`` (0: off) sets the bar."""
    s = settings or get_settings()
    words = len(transcript.text.split())
    if s.min_words and words < s.min_words:
        heard = "no words were recognized" if words == 0 else f"only {words} word{'s' * (words != 1)} were recognized"
        raise MediaError(audio.source, "no_speech",
                         f"{heard} in {audio.duration:.1f} s of audio: noise, a fragment or a recording cut off, not a "
                         f"dictation (at least {s.min_words} words are expected; MRT_MIN_WORDS sets this)")


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


def file_media(registration: Registration, path: str | Path, settings: Settings | None = None) -> Path:
    """File a copy of the media in the archive (``archive/YYYY-MM-DD/``), unless the record's stored
    file is already there intact; the record then points at the archived file, the one the review
    app plays. The original is only read."""
    from pipeline.intake import inbox
    from pipeline.intake.runner import local_day

    settings = settings or get_settings()
    with session_scope(settings=settings) as s:
        d = repository.load_dictation(s, registration.dictation_id)
        current = Path(d.source_path)
    archive = settings.archive_path.resolve()
    if current.is_relative_to(archive) and current.is_file() and not current.is_symlink():
        if repository.sha256_file(current) == registration.content_hash:
            return current
    source = Path(path).resolve(strict=True)
    filed = inbox.copy_no_clobber(source, archive / local_day(settings), inbox.safe_name(source.name))
    if repository.sha256_file(filed) != registration.content_hash:  # changed while copied: keep nothing half-true
        filed.unlink()
        raise MediaError(source, "not_ready", "the file changed while it was filed (still being written?)")
    with session_scope(settings=settings) as s:
        repository.set_stored_media(s, registration.dictation_id, filed)
    return filed


def fail(registration: Registration, kind: str, reason: str, settings: Settings | None = None) -> None:
    with session_scope(settings=settings) as s:
        repository.mark_failed(s, registration.dictation_id, kind, reason)


def existing_summary(registration: Registration, settings: Settings | None = None) -> dict:
    with session_scope(settings=settings) as s:
        d = repository.load_dictation(s, registration.dictation_id)
        return {**repository.dictation_summary(d), "duplicate": True}
