"""Flows: one dictation, and a folder of them.

Coarse tasks, one per stage per dictation; the work is in :mod:`pipeline.process`.
"""

from __future__ import annotations

from pathlib import Path

from flows import _prefect_env  # noqa: F401
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pipeline import process
from pipeline.errors import MediaError
from pipeline.intake.sidecar import sidecar_for
from pipeline.transcribe.audio import is_media_file

stage = task(cache_policy=NO_CACHE, persist_result=False)


@stage(name="register")
def register_task(path: str) -> process.Registration:
    return process.register(path)


@stage(name="load")
def load_task(path: str):
    return process.load(path)


@stage(name="transcribe")
def transcribe_task(audio, backend: str | None = None):
    return process.transcribe(audio, backend=backend)


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
    """Dictation file in, stored record with proposed codes out (idempotent by content). Without
    ``setting``, a sidecar ``NAME.json`` next to the file gives it (as in the drop folder), else the
    settings' default care setting."""
    if setting is None and (sidecar := sidecar_for(path)) is not None:
        setting = sidecar.setting
    registration = register_task(path)
    if registration.already_done and not reprocess:
        return process.existing_summary(registration)
    try:
        audio = load_task(path)
        transcript = transcribe_task(audio, backend)
        entities = extract_task(transcript)
        coding = code_task(entities, setting, transcript.text)
        return store_task(registration, audio, transcript, entities, coding)
    except MediaError as e:
        process.fail(registration, e.kind, e.reason)
        raise


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
