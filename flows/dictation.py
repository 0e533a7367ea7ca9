"""Flows: one dictation, and a folder of them.

The stages and their order are :class:`pipeline.stages.StageRunner`'s; here each stage runs as a
Prefect task (one task run per stage per dictation), a thin wrapper over the runner's method.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows import _prefect_env  # noqa: F401
from pipeline.settings import get_settings
from pipeline.stages import StageHooks, StageRunner
from pipeline.transcribe.audio import is_media_file

log = logging.getLogger(__name__)


def _run_stage(stage: Callable[..., Any], args: tuple) -> Any:
    return stage(*args)


#: one Prefect task per stage, each running the runner's method for that stage
STAGE_TASKS = {
    name: task(name=name, cache_policy=NO_CACHE, persist_result=False)(_run_stage)
    for name in ("register", "load", "transcribe", "extract", "code", "store")
}


def as_task(name: str, stage: Callable[..., Any], args: tuple) -> Any:
    """The ``run_stage`` hook: the stage runs as its Prefect task."""
    return STAGE_TASKS[name](stage, args)


PREFECT_HOOKS = StageHooks(run_stage=as_task)


@flow(name="process-dictation", persist_result=False)
def process_dictation(path: str, setting: str | None = None, backend: str | None = None, reprocess: bool = False) -> dict:
    """Dictation file in, stored record with proposed codes out (idempotent by content): see
    :meth:`pipeline.stages.StageRunner.process_file` (sidecar, care setting, ``reprocess``)."""
    return StageRunner(get_settings()).process_file(
        path, setting=setting, backend=backend, reprocess=reprocess, hooks=PREFECT_HOOKS
    )


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
            log.warning("a dictation in the folder failed (%s)", type(error).__name__)
            results.append({"path": str(path), "ok": False, "error": str(error)})
    return results
