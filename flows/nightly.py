"""The nightly batch: the whole backlog by morning, failed dictations retried, a summary written.

Scheduled by the ``nightly`` deployment (``flows/deployments.py``, cron ``MRT_NIGHTLY_CRON``
in ``MRT_TIMEZONE``, default 02:00 local time). One run:

1. quarantines strays in the drop folder (orphan sidecars, unsupported files);
2. collects every complete dictation in the drop folder, and the dictations elsewhere that
   are due for another try (failed for a transient reason, or left by a worker that died),
   respecting each one's backoff and try limit;
3. runs them on the Dask workers (Prefect retries transient failures with backoff);
4. writes the daily summary (``summaries/YYYY-MM-DD.json`` and ``.md``) and a Prefect
   artifact with the counts;
5. writes the day's statistical report next to it (``YYYY-MM-DD-report.csv``, ``.xlsx``, ``-report-chapters.png``).
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger

from flows import _prefect_env  # noqa: F401
from flows.dropfolder import counts, run_drops
from pipeline.intake import runner, summary
from pipeline.intake.inbox import Drop
from pipeline.settings import get_settings
from pipeline.store.db import session_scope


@flow(name="nightly-batch", persist_result=False)
def nightly_batch(inbox: str | None = None, summary_hours: float = 24.0, workers: int | None = None) -> dict:
    """Process the backlog, retry what is due, write the daily summary."""
    logger = get_run_logger()
    settings = get_settings()
    root = Path(inbox) if inbox else settings.inbox_path
    plan = runner.plan_inbox(settings, root)
    strays = [runner.quarantine_stray(p, kind, why, settings, root).to_dict() for p, kind, why in plan.strays]
    elsewhere, gone = runner.retry_elsewhere(settings, root)
    drops = plan.ready + [Drop(p) for p in elsewhere]
    moves = [True] * len(plan.ready) + [False] * len(elsewhere)
    logger.info(
        "nightly batch: %d dictations in the drop folder, %d retries elsewhere, %d still being written, %d in backoff",
        len(plan.ready),
        len(elsewhere),
        len(plan.waiting),
        len(plan.deferred),
    )
    outcomes = run_drops(drops, root, settings, moves, n_workers=workers) + [g.to_dict() for g in gone]
    run = counts(outcomes, len(strays))
    run["deferred_backoff"] = len(plan.deferred)
    run["still_being_written"] = len(plan.waiting)

    def _build(s):
        return summary.build_summary(s, summary.now_utc(), settings.resolved_timezone, summary_hours, run)

    with session_scope(settings=settings) as s:
        daily = _build(s)
    json_path, md_path = summary.write_summary(daily, settings.summary_path)
    report_paths = _daily_report(daily.day, settings)
    _artifact(daily)
    logger.info(
        "nightly batch done: %d coded (%.2f audio hours), %d failed, %d codes proposed",
        daily.processed,
        daily.audio_hours,
        daily.failed_count,
        daily.codes_proposed,
    )
    return {
        "counts": run,
        "summary": daily.to_dict(),
        "summary_files": [str(json_path), str(md_path)],
        "report_files": [str(p) for p in report_paths],
        "outcomes": outcomes + strays,
    }


def _daily_report(day: str, settings) -> list[Path]:
    """The day's statistical report (CSV, XLSX, chart) next to the summary; a failure is logged, not fatal."""
    from datetime import date

    from pipeline.records.report_files import write_daily_report

    try:
        with session_scope(settings=settings) as s:
            return write_daily_report(s, date.fromisoformat(day), settings.summary_path)
    except Exception:  # noqa: BLE001 - the batch and its summary stand without the report
        get_run_logger().warning("daily report not written", exc_info=True)
        return []


def _artifact(daily: summary.DailySummary) -> None:
    """The day's counts in the Prefect UI (no file names: those stay in the summary files)."""
    from prefect.artifacts import create_markdown_artifact

    create_markdown_artifact(
        markdown=summary.render_markdown(daily, with_names=False),
        key="mrt-daily-summary",
        description=f"Dictation summary {daily.day}",
    )
