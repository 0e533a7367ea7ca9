"""Drop-folder flows: scan the inbox, run each complete dictation on the Dask workers.

``drop-folder`` is what the interval deployment (and ``mrt watch``) runs; ``process-drops``
is the subflow that fans the dictations out with the Dask task runner chosen at run time.
One task per dictation: it runs every stage on one worker, where the models are loaded
(stage-per-task would ship the decoded audio between workers). The work is
:func:`pipeline.intake.runner.process_drop`.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import (
    _prefect_env,  # noqa: F401
    scaleout,
)
from pipeline.intake import runner
from pipeline.intake.inbox import Drop
from pipeline.settings import Settings, get_settings
from pipeline.store.processing import backoff_delay

log = logging.getLogger(__name__)
TRANSCRIBE_LIMIT = "mrt-transcribe"


def _transient(task, task_run, state) -> bool:  # noqa: ANN001  (Prefect's retry_condition_fn)
    exc = state.result(raise_on_failure=False) if state.is_failed() else None
    return isinstance(exc, (runner.TransientFailure, runner.TryLater))


@task(name="process-drop", cache_policy=NO_CACHE, persist_result=False, retry_condition_fn=_transient)
def process_drop_task(drop: Drop, settings: Settings, inbox_root: str | None, move: bool = True) -> dict:
    """One dictation, all stages, on whichever worker Dask picked."""
    from prefect.runtime import task_run

    slot = None
    if settings.transcribe_concurrency:
        from prefect.concurrency.sync import concurrency

        def slot():
            return concurrency(TRANSCRIBE_LIMIT, occupy=1, lease_duration=settings.lease_seconds)

    settings = scaleout.on_this_host(settings)
    try:
        outcome = runner.process_drop(
            drop,
            settings,
            inbox_root=Path(inbox_root) if inbox_root else None,
            move=move,
            respect_backoff=task_run.get_run_count() <= 1,
            transcribe_slot=slot,
        )
    except runner.TransientFailure as e:
        raise runner.TransientFailure(str(e), e.dictation_id, e.attempts) from None  # no SQL parameters in tracebacks
    return outcome.to_dict()


def configured_task(settings: Settings):
    delays = [backoff_delay(i + 1, settings.retry_backoff_s) for i in range(settings.task_retries)] or 0
    return process_drop_task.with_options(retries=settings.task_retries, retry_delay_seconds=delays)


def ensure_concurrency_limit(settings: Settings) -> None:
    """Create or update the global concurrency limit on transcriptions (when one is set)."""
    if not settings.transcribe_concurrency:
        return
    from prefect import get_client

    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(TRANSCRIBE_LIMIT, settings.transcribe_concurrency)


def run_drops(
    drops: list[Drop], inbox_root: Path | None, settings: Settings, moves: list[bool] | None = None, n_workers: int | None = None
) -> list[dict]:
    """Fan the dictations out on the Dask task runner (inside a flow run); every one gets an outcome.

    Each dictation is one Prefect task run of the calling flow. A failure that outlives the
    task's retries comes back as outcome ``deferred`` (the file stays in the inbox)."""
    if not drops:
        return []
    ensure_concurrency_limit(settings)
    wsettings = scaleout.worker_settings(settings, scaleout.runner_workers(settings, n_workers))
    task_ = configured_task(wsettings)
    moves = moves or [True] * len(drops)
    root = str(inbox_root) if inbox_root else None
    with scaleout.task_runner(settings, n_workers) as tr:
        futures = [
            tr.submit(task_, parameters={"drop": d, "settings": wsettings, "inbox_root": root, "move": m})
            for d, m in zip(drops, moves)
        ]
        stalled = _wait_for_progress(futures, settings.batch_stall_minutes * 60)
        results = [_outcome(d, f, inbox_root, stalled) for d, f in zip(drops, futures)]
    return results


def _wait_for_progress(futures, stall_s: float) -> bool:
    """Wait for all dictations; give up (True) when none has finished for ``stall_s`` seconds.

    The ones left are cancelled here and stay in the inbox (or due for retry) for the next
    run; a worker that hangs keeps its lease alive, so nothing is processed twice."""
    import distributed

    pending = [f.wrapped_future for f in futures]
    while pending:
        try:
            with pending[0].client.as_current():  # the task runner's client is not the process default
                _, not_done = distributed.wait(pending, timeout=stall_s, return_when="FIRST_COMPLETED")
        except (TimeoutError, distributed.TimeoutError):
            for fut in pending:
                fut.cancel()
            log.warning(
                "batch stalled: no dictation finished for %.0f min; %d left for the next run (a stuck worker? "
                "restart the workers)",
                stall_s / 60,
                len(pending),
            )
            return True
        pending = list(not_done)
    return False


def _outcome(d: Drop, f, inbox_root: Path | None, stalled: bool) -> dict:  # noqa: ANN001
    if f.wrapped_future.done():
        f.wait()
        state = f.state
    else:  # the batch stalled: this dictation stays in the inbox for the next run
        return runner.Outcome(
            "deferred",
            runner.relative_name(d.media, inbox_root),
            kind="transient",
            reason="no dictation finished for too long; left for the next run",
        ).to_dict()
    if state.is_completed():
        return f.result()
    if state.is_final():
        exc = state.result(raise_on_failure=False)
    else:  # the worker died for good (Dask gave up on it): Prefect never heard the end
        exc = f.wrapped_future.exception() if f.wrapped_future.status == "error" else None
        exc = runner.TransientFailure(runner.describe_error(exc) if exc else "the task did not finish")
    retryable = isinstance(exc, (runner.TransientFailure, runner.TryLater))
    return runner.Outcome(
        "deferred" if retryable else "error",
        runner.relative_name(d.media, inbox_root),
        dictation_id=getattr(exc, "dictation_id", None),
        kind="transient" if retryable else "error",
        reason=runner.describe_error(exc) if isinstance(exc, BaseException) else str(state.message),
        attempts=getattr(exc, "attempts", 0),
    ).to_dict()


def counts(outcomes: list[dict], strays: int = 0) -> dict:
    c = Counter(o["outcome"] for o in outcomes)
    out = {
        k: c.get(k, 0)
        for k in ("coded", "duplicate", "quarantined", "backoff", "deferred", "not_ready", "superseded", "missing", "error")
    }
    out["strays"] = strays
    out["audio_seconds"] = round(sum(o.get("duration") or 0 for o in outcomes if o["outcome"] == "coded"), 1)
    return out


@flow(name="drop-folder", persist_result=False)
def drop_folder(inbox: str | None = None) -> dict:
    """One pass over the drop folder: complete files are processed, strays quarantined."""
    logger = get_run_logger()
    settings = get_settings()
    root = Path(inbox) if inbox else settings.inbox_path
    root.mkdir(parents=True, exist_ok=True)
    plan = runner.plan_inbox(settings, root)
    strays = [runner.quarantine_stray(p, kind, why, settings, root).to_dict() for p, kind, why in plan.strays]
    outcomes = run_drops(plan.ready, root, settings)
    report = {
        "counts": counts(outcomes, len(strays)),
        "waiting": len(plan.waiting),
        "deferred_backoff": len(plan.deferred),
        "outcomes": outcomes + strays,
    }
    c = report["counts"]
    if plan.ready or strays:
        logger.info(
            "drop folder: %d coded, %d duplicate, %d quarantined, %d deferred, %d strays; %d still being written",
            c["coded"],
            c["duplicate"],
            c["quarantined"],
            c["deferred"],
            c["strays"],
            len(plan.waiting),
        )
    return report


def watch(
    inbox: Path,
    settings: Settings | None = None,
    *,
    once: bool = False,
    n_workers: int | None = None,
    on_report=None,
    stop=None,
    max_wait_s: float | None = None,
) -> list[dict]:
    """Watch the drop folder in the foreground (``mrt watch``); returns the reports of the passes.

    Keeps local Dask workers warm for the whole session (or uses ``MRT_DASK_ADDRESS``), scans
    every ``scan_interval_s`` and runs the ``drop-folder`` flow when a file has been steady
    for ``stable_seconds`` by this machine's clock. ``once``: stop when nothing is left that
    is being written (files in backoff are left for later). ``stop``: a threading.Event.
    """
    import threading
    import time

    from flows.scaleout import start_shared_cluster
    from pipeline.intake.inbox import StabilityTracker

    settings = settings or get_settings()
    stop = stop or threading.Event()
    inbox = Path(inbox)
    inbox.mkdir(parents=True, exist_ok=True)
    tracker = StabilityTracker(settings.stable_seconds)
    import os

    saved_env = {k: os.environ.get(k) for k in ("MRT_DASK_ADDRESS", "MRT_CPU_THREADS")}
    cluster = None if settings.dask_address else start_shared_cluster(settings, n_workers)
    reports: list[dict] = []
    started = time.monotonic()
    try:
        while True:
            plan = runner.plan_inbox(get_settings(), inbox, tracker)
            if plan.ready or plan.strays:
                report = drop_folder(str(inbox))
                reports.append(report)
                if on_report:
                    on_report(report)
                c = report["counts"]
                if c["coded"] + c["duplicate"] + c["quarantined"] + c["strays"]:
                    continue  # progress: look again at once, more may have settled meanwhile
            if once and not plan.waiting:
                break
            if max_wait_s is not None and time.monotonic() - started > max_wait_s:
                break
            # files being written: look again soon; otherwise at the scan interval
            soon = min(settings.scan_interval_s, max(0.5, settings.stable_seconds / 2))
            if stop.wait(soon if (once or plan.waiting) else settings.scan_interval_s):
                break
    finally:
        if cluster is not None:
            cluster.close()
            for k, v in saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            get_settings.cache_clear()
    return reports
