"""Operations commands of ``mrt``: the drop-folder watcher, the nightly batch, serving the
deployments and building the linker's knowledge base. See docs/operations.md. (The throughput
benchmark, ``mrt bench pipeline``, is in :mod:`mrt_eval.cli`.)

``pipeline/cli.py`` calls :func:`register` on its ``app`` (at the end, so ``python -m
pipeline.cli`` gets them too).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

out = Console()
err = Console(stderr=True)

ops = typer.Typer()  # commands collected here, added to the main app by register()


def register(app: typer.Typer) -> None:
    """Add ``watch``, ``nightly``, ``deploy`` and ``build-kb`` to the ``mrt`` app."""
    for command in ops.registered_commands:
        app.registered_commands.append(command)


def _stop_on_sigterm() -> None:
    """systemd stops a service with SIGTERM: end like Ctrl-C, so workers and Prefect's local API are shut down."""
    import signal

    signal.signal(signal.SIGTERM, signal.default_int_handler)


def _quiet_prefect(verbose: bool) -> None:
    import os

    # as in pipeline.cli: failures are reported with their reason; Prefect's run logs with -v
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "CRITICAL")


def _settings(**overrides):
    """Settings with command-line overrides, also exported for the flow processes and workers."""
    import os

    from pipeline.settings import get_settings

    for key, value in overrides.items():
        if value is not None:
            os.environ[f"MRT_{key.upper()}"] = str(value)
    get_settings.cache_clear()
    return get_settings()


def _print_report(report: dict) -> None:
    c = report["counts"]
    for o in report["outcomes"]:
        if o["outcome"] == "coded":
            err.print(
                f"[green]coded[/green]       #{o['dictation_id']} {o['file']}  {o['duration'] or 0:.0f}s audio, {o['codes']} codes"
            )
        elif o["outcome"] == "duplicate":
            err.print(f"[cyan]duplicate[/cyan]   #{o['dictation_id']} {o['file']}  already coded; archived")
        elif o["outcome"] == "quarantined":
            err.print(f"[red]quarantined[/red] {o['file']}: {o['reason']}")
        elif o["outcome"] in ("deferred", "error", "backoff"):
            err.print(f"[yellow]{o['outcome']}[/yellow]    {o['file']}: {o['reason']}")
    err.print(
        f"[dim]{c['coded']} coded, {c['duplicate']} duplicate, {c['quarantined'] + c['strays']} quarantined, "
        f"{c['deferred']} deferred ({c['audio_seconds'] / 60:.1f} min of audio)[/dim]"
    )


@ops.command()
def watch(
    inbox: Optional[Path] = typer.Argument(None, help="Drop folder (default MRT_INBOX_DIR, else DATA_DIR/inbox)"),
    once: bool = typer.Option(False, "--once", help="Process what is there (waiting for copies to finish), then exit"),
    workers: Optional[int] = typer.Option(None, help="Local Dask worker processes (default MRT_WORKERS)"),
    dask_address: Optional[str] = typer.Option(None, help="Use this Dask scheduler instead of local workers"),
    stable_seconds: Optional[float] = typer.Option(None, help="A file must be unchanged this long (default 10)"),
    interval: Optional[float] = typer.Option(None, help="Seconds between scans (default 30)"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show Prefect's run logs"),
) -> None:
    """Watch a drop folder in the foreground: code new dictations, archive or quarantine them."""
    _quiet_prefect(verbose)
    settings = _settings(inbox_dir=inbox, dask_address=dask_address, stable_seconds=stable_seconds, scan_interval_s=interval)
    from flows.dropfolder import watch as watch_loop
    from flows.scaleout import local_prefect_api

    root = settings.inbox_path
    err.print(
        f"Watching [bold]{root}[/bold] (archive {settings.archive_path}, quarantine {settings.quarantine_path}); "
        + ("until it is empty." if once else "Ctrl-C to stop.")
    )
    _stop_on_sigterm()
    try:
        with local_prefect_api():
            reports = watch_loop(root, settings, once=once, n_workers=workers, on_report=_print_report)
    except KeyboardInterrupt:
        err.print("Stopped.")
        return
    if once and any(r["counts"]["deferred"] or r["counts"]["error"] for r in reports):
        raise typer.Exit(1)


@ops.command()
def nightly(
    inbox: Optional[Path] = typer.Option(None, help="Drop folder (default from settings)"),
    workers: Optional[int] = typer.Option(None, help="Local Dask worker processes (default MRT_WORKERS)"),
    as_json: bool = typer.Option(False, "--json", help="Print the run report as JSON"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show Prefect's run logs"),
) -> None:
    """Run the nightly batch now: backlog, due retries, daily summary."""
    _quiet_prefect(verbose)
    settings = _settings(inbox_dir=inbox)
    from flows.nightly import nightly_batch
    from flows.scaleout import local_prefect_api

    _stop_on_sigterm()
    with local_prefect_api():
        report = nightly_batch(str(settings.inbox_path), workers=workers)
    if as_json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False, default=str) + "\n")
        return
    _print_report(report)
    s = report["summary"]
    err.print(
        f"Daily summary {s['day']}: {s['processed']} coded, {s['audio_hours']:.2f} audio hours, "
        f"{s['codes_proposed']} codes proposed, {len(s['failed'])} failed -> {report['summary_files'][1]}"
    )


@ops.command()
def deploy(
    work_pool: Optional[str] = typer.Option(None, "--work-pool", help="Register with this work pool instead of serving"),
) -> None:
    """Serve the drop-folder and nightly deployments (needs a Prefect server: PREFECT_API_URL)."""
    from flows.deployments import api_url, deploy_to_work_pool, serve_deployments
    from pipeline.settings import get_settings

    if not api_url():
        err.print(
            "[red]No Prefect server configured.[/red] Start one with `prefect server start` and run\n"
            "  prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api\n"
            "(schedules live in the server; see docs/operations.md)."
        )
        raise typer.Exit(2)
    settings = get_settings()
    err.print(
        f"Prefect API {api_url()}; drop folder {settings.inbox_path} every {settings.scan_interval_s:g} s; "
        f"nightly '{settings.nightly_cron}' ({settings.resolved_timezone})."
    )
    if work_pool:
        ids = deploy_to_work_pool(work_pool, settings)
        err.print(
            f"Registered {len(ids)} deployments with work pool '{work_pool}'. Start workers with:\n"
            f"  prefect worker start --pool {work_pool}"
        )
        return
    serve_deployments(settings)


@ops.command("build-kb")
def build_kb() -> None:
    """Build (once) and cache the entity linker's knowledge base: ICD-10-CM and ICD-10-PCS TF-IDF indexes."""
    from pipeline.code.lookup.indexes import build_kb as build

    for system, meta in build().items():
        out.print(f"{system}: {meta['concepts']} codes, {meta['aliases']} aliases ({meta['search']}) in {meta['directory']}")
