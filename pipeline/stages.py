"""The one stage runner: register -> (metadata) -> load -> transcribe -> extract -> code -> store -> (file).

:class:`StageRunner` owns the order of the stages and writes the results through one store path
(:func:`pipeline.store.repository.store_results`). Its callers differ only in what they hang on
the stages, given as :class:`StageHooks`:

* ``flows/dictation.py`` (``mrt process``): each stage runs as a Prefect task (``run_stage``);
* the drop folder (:mod:`pipeline.intake.runner`, on Dask workers through ``flows/dropfolder.py``):
  a lease renewed by a heartbeat, the stage recorded on the record (``enter_stage``), stage
  timings, a concurrency slot around transcription, retried database steps, and a lease guard
  on the store, so a worker whose lease was taken over stores nothing.

The loaded models belong to a :class:`Models` bundle (a :class:`Transcriber`, an
:class:`Extractor`, a :class:`Coder`), created once per process or Dask worker by
:func:`models_for`. Every stage takes its settings from the runner, never from the environment.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from pipeline.code.coder import MODEL_VERSION, Coder, CodingResult
from pipeline.code.lookup.indexes import shared_code_indexes
from pipeline.errors import MediaError, RecordLocked
from pipeline.extract.pipeline import Extractor
from pipeline.extract.reading import heard_result, read_entity, suggested_reading
from pipeline.extract.types import Entity
from pipeline.intake import inbox
from pipeline.intake.sidecar import Sidecar, sidecar_for
from pipeline.settings import Settings
from pipeline.store import processing, repository
from pipeline.store.db import session_scope
from pipeline.store.lease import LeaseGuard, LeaseLost
from pipeline.store.models import Dictation, DictationStatus
from pipeline.transcribe.audio import Audio, load_media
from pipeline.transcribe.transcribe import Transcriber
from pipeline.transcribe.types import Transcript
from pipeline.transcribe.vocabulary import DictationContext

log = logging.getLogger(__name__)
T = TypeVar("T")

#: the stages :meth:`StageRunner.run` runs, in order (``register`` comes before, in :meth:`StageRunner.process_file`)
STAGES = ("load", "transcribe", "extract", "code", "store")


# -- the models a process owns ------------------------------------------------------------------

#: settings that choose what is loaded; settings that differ only elsewhere (database, folders,
#: lease times) share one process's models
MODEL_FIELDS = (
    "transcribe_backend",
    "whisper_model",
    "compute_type",
    "device",
    "cpu_threads",
    "cpu_kernels",
    "beam_size",
    "redecode_model",
    "redecode_beam_size",
    "language",
    "vad_filter",
    "cache_dir",
    "ner_models",
    "link_candidates",
)
#: the ones the spaCy pipeline is built from
EXTRACT_FIELDS = ("ner_models", "link_candidates", "cache_dir")


@dataclass(frozen=True)
class Models:
    """What one process or Dask worker loads: the Whisper model(s), the spaCy pipeline, the code
    indexes and re-ranker. Each object owns what it loaded."""

    settings: Settings
    transcriber: Transcriber
    extractor: Extractor
    coder: Coder

    @classmethod
    def load(cls, settings: Settings) -> Models:
        """The three model owners; the spaCy pipeline is built now, Whisper and the indexes on first use."""
        return cls(settings, Transcriber(settings), Extractor(settings), Coder(settings))

    def warm(self) -> dict[str, float]:
        """Load everything now (a no-op when loaded); seconds per part."""
        from pipeline.code.types import CM, PCS

        out = {}
        for name, fn in (
            ("whisper", lambda: self.transcriber.warm(self.settings)),  # and the second model of cpu-combined
            ("cm_index", lambda: self.coder.index(CM)),
            ("pcs_index", lambda: self.coder.index(PCS)),
            ("reranker", lambda: self.coder.reranker),
        ):
            t0 = time.perf_counter()
            fn()
            out[name] = round(time.perf_counter() - t0, 3)
        return out


_process_models: dict[tuple, Models] = {}
_models_lock = threading.Lock()


def models_for(settings: Settings) -> Models:
    """This process's models for ``settings``: created on first use, then shared by every
    :class:`StageRunner` of the process whose settings load the same models (:data:`MODEL_FIELDS`),
    so a Dask worker loads Whisper and spaCy once, not once per dictation. Bundles share what they
    can: one :class:`Transcriber` per process (it keeps one model per model setting), one
    :class:`Extractor` per :data:`EXTRACT_FIELDS` values."""
    key = tuple(str(getattr(settings, f)) for f in MODEL_FIELDS)
    with _models_lock:
        if key not in _process_models:
            others = list(_process_models.values())
            transcriber = others[0].transcriber if others else Transcriber(settings)
            same_nlp = _extract_key(settings)
            extractor = next((m.extractor for m in others if _extract_key(m.settings) == same_nlp), None)
            indexes = shared_code_indexes(settings.cache_dir / "code-index")  # the linker's and the coder's
            _process_models[key] = Models(
                settings, transcriber, extractor or Extractor(settings, indexes), Coder(settings, indexes)
            )
        return _process_models[key]


def _extract_key(settings: Settings) -> tuple:
    return tuple(str(getattr(settings, f)) for f in EXTRACT_FIELDS)


def loaded_models() -> list[Models]:
    """The model bundles this process has created (one per distinct :data:`MODEL_FIELDS` values)."""
    with _models_lock:
        return list(_process_models.values())


# -- hooks --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageHooks:
    """What a caller hangs on the stages; every hook is optional.

    ``run_stage(name, fn, args)``: runs one stage (the Prefect flow runs each as a task); default ``fn(*args)``.
    ``enter_stage(status)``: before transcribe, extract and code (the drop folder records it on its lease).
    ``timed(name)``: a context manager around each stage (stage seconds).
    ``transcribe_slot()``: a context manager around transcription (a concurrency limit).
    ``heartbeat()``: a context manager around all stages; what it yields is checked for ``lost``
    (the lease) before the store.
    ``lease()``: the :class:`LeaseGuard` the store must hold (None: unguarded).
    ``transaction(fn, what)``: runs one database transaction ``fn(session)`` (the drop folder retries them).
    """

    run_stage: Callable[[str, Callable[..., Any], tuple], Any] | None = None
    enter_stage: Callable[[str], None] | None = None
    timed: Callable[[str], AbstractContextManager] | None = None
    transcribe_slot: Callable[[], AbstractContextManager] | None = None
    heartbeat: Callable[[], AbstractContextManager] | None = None
    lease: Callable[[], LeaseGuard] | None = None
    transaction: Callable[[Callable[[Session], Any], str], Any] | None = None


NO_HOOKS = StageHooks()


def _call(name: str, fn: Callable[..., T], args: tuple) -> T:
    return fn(*args)


def _untimed(name: str) -> AbstractContextManager:
    return contextlib.nullcontext()


# -- results ------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Processed:
    """What :meth:`StageRunner.run` produced and stored."""

    transcript: Transcript
    entities: list[Entity]
    coding: CodingResult
    duration: float
    has_video: bool
    summary: dict
    transcribe_window: tuple[float, float] = field(default=(0.0, 0.0))  # epoch seconds: when this process transcribed


# -- the runner ---------------------------------------------------------------------------------


class StageRunner:
    """Runs the stages in their order with ``settings`` and a process's :class:`Models`."""

    def __init__(self, settings: Settings, models: Models | None = None) -> None:
        self.settings = settings
        self.models = models or models_for(settings)

    def _transaction(self, hooks: StageHooks, fn: Callable[[Session], T], what: str) -> T:
        if hooks.transaction is not None:
            return hooks.transaction(fn, what)
        with session_scope(settings=self.settings) as s:
            return fn(s)

    # -- the stages, each usable on its own ------------------------------------------------------

    def register(self, path: str | Path) -> Registration:
        """Record the file by content hash; the same content never gets a second record."""
        path = Path(path).resolve()
        if not path.is_file():
            raise MediaError(path, "not_found", "file not found")
        content_hash = repository.sha256_file(path)
        with session_scope(settings=self.settings) as s:
            d, created = repository.register_dictation(s, path, content_hash)
            return Registration(d.id, created, d.status, str(path), content_hash)

    def reprocess_refusal(self, registration: Registration) -> str | None:
        """Why this record must not be processed again (finalized, pending, claimed, coder decisions), or None."""
        with session_scope(settings=self.settings) as s:
            d = repository.load_dictation(s, registration.dictation_id)
            return repository.reprocess_refusal(d) if d is not None else None

    def attach_metadata(self, dictation_id: int, sidecar: Sidecar | None, origin: dict, hooks: StageHooks = NO_HOOKS) -> str:
        """Store the sidecar's fields (patient, encounter, physician, document type, setting,
        priority) and ``origin`` on the record; returns the care setting to code with."""
        default = self.settings.care_setting

        def attach(s: Session) -> str:
            d = s.get(Dictation, dictation_id)
            assert d is not None  # registered before its metadata is attached; dictations are not deleted
            processing.attach_metadata(s, d, sidecar, origin, default)
            s.flush()
            return processing.care_setting(s, dictation_id, default)

        return self._transaction(hooks, attach, "metadata")

    def load(self, path: str | Path) -> Audio:
        s = self.settings
        return load_media(path, max_duration=s.max_duration_s, min_duration=s.min_duration_s, max_bytes=s.max_file_bytes)

    def transcribe(self, audio: Audio, context: DictationContext | None = None, backend: str | None = None) -> Transcript:
        """The transcript, refused as ``no_speech`` when it holds no dictation (:meth:`check_speech`).
        ``context`` (document type, specialty from the sidecar) chooses the biasing vocabulary."""
        transcript = self.models.transcriber.transcribe(audio, context, backend, settings=self.models.settings)
        self.check_speech(audio, transcript)
        return transcript

    def check_speech(self, audio: Audio, transcript: Transcript) -> None:
        """Refuse media that decodes but holds no dictation (noise, a fragment, a cut-off file): a
        :class:`MediaError` of kind ``no_speech``, so it is quarantined with its reason, never queued
        for a coder as an empty record. ``min_words`` (0: off) sets the bar."""
        min_words = self.settings.min_words
        words = len(transcript.text.split())
        if min_words and words < min_words:
            heard = "no words were recognized" if words == 0 else f"only {words} word{'s' * (words != 1)} were recognized"
            raise MediaError(
                audio.source,
                "no_speech",
                f"{heard} in {audio.duration:.1f} s of audio: noise, a fragment or a recording cut off, not a "
                f"dictation (at least {min_words} words are expected; MRT_MIN_WORDS sets this)",
            )

    def extract(self, transcript: Transcript) -> list[Entity]:
        return self.models.extractor.extract(transcript.text, transcript, read_suggestions=self.settings.read_suggestions)

    def code(
        self, entities: list[Entity], setting: str | None = None, text: str | None = None, transcript: Transcript | None = None
    ) -> CodingResult:
        """Code proposals; ``text`` (the transcript the entities come from) lets the coder read details
        stated next to a mention (CKD stage, episode of care, laterality). With ``transcript`` and
        ``read_suggestions``, the coder reads what extraction read (the term corrector's suggestions in
        place of the words heard) and the evidence is put back on the words as heard."""
        reading = suggested_reading(transcript) if self.settings.read_suggestions and transcript is not None else None
        if reading is None or reading.heard != text:
            return self.models.coder.propose(entities, setting, text)
        result = self.models.coder.propose([read_entity(e, reading) for e in entities], setting, reading.text)
        return heard_result(result, reading)

    def store(
        self,
        dictation_id: int,
        transcript: Transcript,
        entities: list[Entity],
        coding: CodingResult,
        has_video: bool,
        guard: LeaseGuard | None = None,
        hooks: StageHooks = NO_HOOKS,
    ) -> dict:
        """Write all stage results in one transaction (only while ``guard``'s lease is held, when
        given); returns the stored record's summary."""

        def write(s: Session) -> dict:
            d = repository.store_results(
                s,
                dictation_id,
                transcript=transcript,
                entities=entities,
                proposals=coding.proposals,
                has_video=has_video,
                model_version=f"{transcript.backend}:{transcript.model}|{MODEL_VERSION}",
                lease=guard,
            )
            s.flush()
            s.refresh(d)
            return repository.dictation_summary(d)

        return self._transaction(hooks, write, "store")

    def file_media(self, registration: Registration, path: str | Path) -> Path:
        """File a copy of the media in the archive (``archive/YYYY-MM-DD/``), unless the record's stored
        file is already there intact; the record then points at the archived file, the one the review
        app plays. The original is only read."""
        with session_scope(settings=self.settings) as s:
            d = repository.load_dictation(s, registration.dictation_id)
            assert d is not None  # registered; dictations are not deleted
            current = Path(d.source_path)
        archive = self.settings.archive_path.resolve()
        if current.is_relative_to(archive) and current.is_file() and not current.is_symlink():
            if repository.sha256_file(current) == registration.content_hash:
                return current
        source = Path(path).resolve(strict=True)
        filed = inbox.copy_no_clobber(source, archive / inbox.local_day(self.settings), inbox.safe_name(source.name))
        if repository.sha256_file(filed) != registration.content_hash:  # changed while copied: keep nothing half-true
            filed.unlink()
            raise MediaError(source, "not_ready", "the file changed while it was filed (still being written?)")
        with session_scope(settings=self.settings) as s:
            repository.set_stored_media(s, registration.dictation_id, filed)
        return filed

    def fail(self, registration: Registration, kind: str, reason: str) -> None:
        with session_scope(settings=self.settings) as s:
            repository.mark_failed(s, registration.dictation_id, kind, reason)

    def existing_summary(self, registration: Registration) -> dict:
        with session_scope(settings=self.settings) as s:
            d = repository.load_dictation(s, registration.dictation_id)
            assert d is not None  # registered; dictations are not deleted
            return {**repository.dictation_summary(d), "duplicate": True}

    # -- the order ------------------------------------------------------------------------------

    def run(
        self,
        dictation_id: int,
        media: str | Path,
        *,
        setting: str,
        context: DictationContext | None = None,
        backend: str | None = None,
        hooks: StageHooks = NO_HOOKS,
    ) -> Processed:
        """load -> transcribe (with the speech check) -> extract -> code -> store, for a registered
        dictation. Raises :class:`MediaError` for bad media (nothing stored) and
        :class:`~pipeline.store.LeaseLost` when the heartbeat lost the lease."""
        call = hooks.run_stage or _call
        timed = hooks.timed or _untimed
        enter = hooks.enter_stage or (lambda status: None)
        with hooks.heartbeat() if hooks.heartbeat else contextlib.nullcontext() as beat:
            with timed("load"):
                audio = call("load", self.load, (media,))
            enter(DictationStatus.TRANSCRIBING)
            with hooks.transcribe_slot() if hooks.transcribe_slot else contextlib.nullcontext(), timed("transcribe"):
                t0 = time.time()
                transcript = call("transcribe", self.transcribe, (audio, context, backend))
                window = (t0, time.time())
            has_video, duration = audio.has_video, audio.duration
            del audio  # the decoded samples are the largest thing held: gone before extraction
            enter(DictationStatus.EXTRACTING)
            with timed("extract"):
                entities = call("extract", self.extract, (transcript,))
            enter(DictationStatus.CODING)
            with timed("code"):
                coding = call("code", self.code, (entities, setting, transcript.text, transcript))
            if getattr(beat, "lost", False):
                raise LeaseLost(f"dictation {dictation_id}: lease lost")
            guard = hooks.lease() if hooks.lease else None
            with timed("store"):
                summary = call("store", self.store, (dictation_id, transcript, entities, coding, has_video, guard, hooks))
        log.debug("dictation %s stored: %d entities, %d codes", dictation_id, len(entities), len(coding.proposals))
        return Processed(transcript, entities, coding, duration, has_video, summary, window)

    def process_file(
        self,
        path: str | Path,
        *,
        setting: str | None = None,
        backend: str | None = None,
        reprocess: bool = False,
        hooks: StageHooks = NO_HOOKS,
    ) -> dict:
        """One dictation file's whole life outside the drop folder (``mrt process``): register,
        sidecar metadata, :meth:`run`, file the media in the archive. Idempotent by content.

        A sidecar ``NAME.wav.json`` or ``NAME.json`` next to the file is read and stored on the
        record. ``setting`` overrides the care setting used for coding; else the sidecar's (or the
        record's encounter's), else the settings' default. ``reprocess`` never overwrites a
        finalized, pending or claimed record, nor a coder's decisions: it refuses with the reason
        (:class:`RecordLocked`). Bad media is recorded as failed and raised; the file is kept."""
        call = hooks.run_stage or _call
        path = str(Path(path).absolute())
        sidecar = sidecar_for(path)
        registration = call("register", self.register, (path,))
        if registration.already_done and not reprocess:
            self.file_media(registration, path)  # an earlier copy may have gone: this one is kept
            return self.existing_summary(registration)
        if registration.already_done and (why := self.reprocess_refusal(registration)) is not None:
            raise RecordLocked(registration.dictation_id, why)
        stored_setting = self.attach_metadata(registration.dictation_id, sidecar, {"processed_from": Path(path).name}, hooks)
        context = DictationContext.from_metadata(sidecar.model_dump() if sidecar is not None else None)
        try:
            done = self.run(
                registration.dictation_id, path, setting=setting or stored_setting, context=context, backend=backend, hooks=hooks
            )
        except MediaError as e:
            self.fail(registration, e.kind, e.reason)
            log.warning("dictation %s failed (%s)", registration.dictation_id, e.kind)
            raise
        self.file_media(registration, path)
        log.info(
            "dictation %s coded: %.0f s of audio, %d codes", registration.dictation_id, done.duration, len(done.coding.proposals)
        )
        return done.summary
