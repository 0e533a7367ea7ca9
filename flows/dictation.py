"""Flows: one dictation, and a folder of them.

Coarse tasks, one per stage per dictation; the work is in :mod:`pipeline.process`.
"""

from __future__ import annotations

from pathlib import Path

from flows import _prefect_env  # noqa: F401
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pipeline import process
from pipeline.errors import MediaError, RecordLocked
from pipeline.intake.sidecar import sidecar_for
from pipeline.transcribe.audio import is_media_file
from pipeline.transcribe.vocabulary import DictationContext

stage = task(cache_policy=NO_CACHE, persist_result=False)


@stage(name="register")
def register_task(path: str) -> process.Registration:
    return process.register(path)


@stage(name="load")
def load_task(path: str):
    return process.load(path)


@stage(name="transcribe")
def transcribe_task(audio, backend: str | None = None, context: DictationContext | None = None):
    transcript = process.transcribe(audio, backend=backend, context=context)
    process.check_speech(audio, transcript)
    return transcript


@stage(name="extract")
def extract_task(transcript):
    return process.extract_entities(transcript)


@stage(name="code")
def code_task(entities, setting: str | None = None, text: str | None = None):
    return process.code(entities, setting=setting, text=text)


@stage(name="store")
def store_task(registration, audio, transcript, entities, coding) -> dict:
    return process.store(registration, audio, transcript, entities, coding)


@flow(name="process-dictation", persist_result=False)
def process_dictation(path: str, setting: str | None = None, backend: str | None = None, reprocess: bool = False) -> dict:
    """Dictation file in, stored record with proposed codes out (idempotent by content).

    A sidecar ``NAME.wav.json`` or ``NAME.json`` next to the file is read with the drop folder's
    reader and its fields stored on the record (patient, encounter, physician, document type,
    setting, priority). ``setting`` overrides the care setting used for coding; else the sidecar's
    (or the record's encounter's), else the settings' default. ``reprocess`` never overwrites a
    finalized, pending or claimed record, nor a coder's decisions: it refuses with the reason
    (:class:`~pipeline.errors.RecordLocked`). On success the media is filed in the archive."""
    path = str(Path(path).absolute())
    sidecar = sidecar_for(path)
    registration = register_task(path)
    if registration.already_done and not reprocess:
        process.file_media(registration, path)  # an earlier copy may have gone: this one is kept
        return process.existing_summary(registration)
    if registration.already_done and (why := process.reprocess_refusal(registration)) is not None:
        raise RecordLocked(registration.dictation_id, why)
    stored_setting = process.attach_metadata(registration, sidecar, {"processed_from": Path(path).name})
    context = DictationContext.from_metadata(sidecar.model_dump() if sidecar is not None else None)
    try:
        audio = load_task(path)
        transcript = transcribe_task(audio, backend, context)
        entities = extract_task(transcript)
        coding = code_task(entities, setting or stored_setting, transcript.text)
        summary = store_task(registration, audio, transcript, entities, coding)
    except MediaError as e:
        process.fail(registration, e.kind, e.reason)
        raise
    process.file_media(registration, path)
    return summary


def media_files(folder: str | Path) -> list[Path]:
    """Dictation files in ``folder`` (recursively), in a stable order."""
    return sorted(p for p in Path(folder).rglob("*") if is_media_file(p))


def run_dictation(path: str | Path, **options) -> tuple[dict | None, BaseException | None]:
    """Run :func:`process_dictation`; (summary, None) on success, (None, error) on failure."""
    state = process_dictation(str(path), return_state=True, **options)
    if state.is_completed():
        return state.result(), None
    return None, state.result(raise_on_failure=False)


@flow(name="process-folder", persist_result=False)
def process_folder(folder: str, setting: str | None = None, backend: str | None = None) -> list[dict]:
    """Every dictation in a folder; one bad file is reported and the batch goes on."""
    results = []
    for path in media_files(folder):
        summary, error = run_dictation(path, setting=setting, backend=backend)
        if error is None:
            results.append({"path": str(path), "ok": True, **summary})
        else:
            results.append({"path": str(path), "ok": False, "error": str(error)})
    return results
