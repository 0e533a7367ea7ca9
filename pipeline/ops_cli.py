"""Operations commands of ``mrt``: the drop-folder watcher, the nightly batch, serving the
deployments, and the throughput benchmark (``mrt bench pipeline``). See docs/operations.md.

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
from rich.table import Table

out = Console()
err = Console(stderr=True)

ops = typer.Typer()  # commands collected here, added to the main app by register()
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks that print measured figures.")


def register(app: typer.Typer) -> None:
    """Add ``watch``, ``nightly``, ``deploy`` and the ``bench`` group to the ``mrt`` app."""
    for command in ops.registered_commands:
        app.registered_commands.append(command)
    app.add_typer(bench_app, name="bench")


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
            err.print(f"[green]coded[/green]       #{o['dictation_id']} {o['file']}  {o['duration'] or 0:.0f}s audio, {o['codes']} codes")
        elif o["outcome"] == "duplicate":
            err.print(f"[cyan]duplicate[/cyan]   #{o['dictation_id']} {o['file']}  already coded; archived")
        elif o["outcome"] == "quarantined":
            err.print(f"[red]quarantined[/red] {o['file']}: {o['reason']}")
        elif o["outcome"] in ("deferred", "error", "backoff"):
            err.print(f"[yellow]{o['outcome']}[/yellow]    {o['file']}: {o['reason']}")
    err.print(f"[dim]{c['coded']} coded, {c['duplicate']} duplicate, {c['quarantined'] + c['strays']} quarantined, "
              f"{c['deferred']} deferred ({c['audio_seconds'] / 60:.1f} min of audio)[/dim]")


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
    err.print(f"Watching [bold]{root}[/bold] (archive {settings.archive_path}, quarantine {settings.quarantine_path}); "
              + ("until it is empty." if once else "Ctrl-C to stop."))
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
    err.print(f"Daily summary {s['day']}: {s['processed']} coded, {s['audio_hours']:.2f} audio hours, "
              f"{s['codes_proposed']} codes proposed, {len(s['failed'])} failed -> {report['summary_files'][1]}")


@ops.command()
def deploy(
    work_pool: Optional[str] = typer.Option(None, "--work-pool", help="Register with this work pool instead of serving"),
) -> None:
    """Serve the drop-folder and nightly deployments (needs a Prefect server: PREFECT_API_URL)."""
    from flows.deployments import api_url, deploy_to_work_pool, serve_deployments
    from pipeline.settings import get_settings

    if not api_url():
        err.print("[red]No Prefect server configured.[/red] Start one with `prefect server start` and run\n"
                  "  prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api\n"
                  "(schedules live in the server; see docs/operations.md).")
        raise typer.Exit(2)
    settings = get_settings()
    err.print(f"Prefect API {api_url()}; drop folder {settings.inbox_path} every {settings.scan_interval_s:g} s; "
              f"nightly '{settings.nightly_cron}' ({settings.resolved_timezone}).")
    if work_pool:
        ids = deploy_to_work_pool(work_pool, settings)
        err.print(f"Registered {len(ids)} deployments with work pool '{work_pool}'. Start workers with:\n"
                  f"  prefect worker start --pool {work_pool}")
        return
    serve_deployments(settings)


@bench_app.command("pipeline")
def bench_pipeline(
    n: int = typer.Argument(8, help="How many dictations"),
    source: Optional[Path] = typer.Option(None, help="Take the dictations from this folder instead of generating them"),
    minutes: float = typer.Option(3.5, help="Length of each generated dictation"),
    workers: list[int] = typer.Option([1, 2], "--workers", help="Worker counts to measure (repeat the option)"),
    baseline: bool = typer.Option(True, help="Also run the same batch on Dask without Prefect (for Prefect's overhead)"),
    as_json: Optional[Path] = typer.Option(None, "--json", help="Also write the figures here"),
    keep: Optional[Path] = typer.Option(None, help="Keep the generated dictations and run folders here"),
) -> None:
    """End-to-end throughput of the drop-folder flow: audio hours per hour, stage times, Prefect's share, memory."""
    _quiet_prefect(False)
    from flows.benchmark import run_benchmark
    from flows.scaleout import local_prefect_api

    _stop_on_sigterm()
    with local_prefect_api():
        result = run_benchmark(n, source=source, minutes=minutes, worker_counts=workers, baseline=baseline, keep=keep,
                           progress=lambda msg: err.print(f"[dim]{msg}[/dim]"))
    table = Table(title=f"Pipeline throughput: {result['dictations']} dictations, {result['audio_minutes']:.1f} min of audio "
                        f"({result['machine']})")
    for col in ("workers", "wall s", "audio h/h", "Prefect", "peak MB", "load", "transcribe", "extract", "code",
                "store", "other"):
        table.add_column(col, justify="right")
    for r in result["runs"]:
        st = r["stage_seconds_per_dictation"]
        other = sum(v for k, v in st.items() if k not in ("load", "transcribe", "extract", "code", "store"))
        overhead = "-" if r.get("prefect_overhead") is None else f"{100 * r['prefect_overhead']:.1f}%"
        table.add_row(str(r["workers"]), f"{r['wall_s']:.1f}", f"{r['audio_hours_per_hour']:.1f}", overhead,
                      f"{max(r['peak_rss_mb']):.0f}", *(f"{st.get(k, 0):.2f}" for k in ("load", "transcribe", "extract", "code", "store")),
                      f"{other:.2f}")
    out.print(table)
    err.print("Stage columns: mean seconds per dictation on a worker. Prefect overhead: time the flow run spends outside "
              "dictation work (wall - busiest worker's work) beyond what the same batch on plain Dask spends, / flow wall.")
    if as_json:
        as_json.write_text(json.dumps(result, indent=2) + "\n")


@bench_app.command("extract")
def bench_extract(
    n: int = typer.Option(400, "--docs", help="How many MTSamples reports to time"),
    batch_size: int = typer.Option(32, help="nlp.pipe batch size"),
    as_json: Optional[Path] = typer.Option(None, "--json", help="Also write the figures here"),
) -> None:
    """Words per second through the whole extraction pipeline (NER, lexicon, context, linking) on MTSamples."""
    from pipeline.extract.bench import run

    try:
        result = run(n, batch_size=batch_size, progress=lambda msg: err.print(f"[dim]{msg}[/dim]"))
    except FileNotFoundError as e:
        err.print(f"[red]{e}[/red]")
        raise typer.Exit(2)
    table = Table(title=f"Extraction throughput on MTSamples ({result.documents} reports, {result.words} words; "
                        f"1 thread; {result.machine})")
    for col in ("words/s (wall)", "words/s per core (CPU time)", "entities", "wall s", "CPU s"):
        table.add_column(col, justify="right")
    table.add_row(f"{result.words_per_s:.0f}", f"{result.words_per_cpu_s:.0f}", str(result.entities),
                  f"{result.wall_s:.1f}", f"{result.cpu_s:.1f}")
    out.print(table)
    parts = Table(title="Time per component (wall)")
    for col in ("component", "s", "share"):
        parts.add_column(col, justify="left" if col == "component" else "right")
    total = sum(result.component_s.values()) or 1.0
    for name, seconds in result.component_s.items():
        parts.add_row(name, f"{seconds:.2f}", f"{100 * seconds / total:.0f}%")
    out.print(parts)
    if as_json:
        as_json.write_text(json.dumps(result.as_dict(), indent=2) + "\n")


@bench_app.command("code")
def bench_code(
    limit: Optional[int] = typer.Option(None, help="Only the first N CodiEsp dev documents"),
    setting: str = typer.Option("inpatient", help="Care setting the coder applies"),
    as_json: Optional[Path] = typer.Option(None, "--json", help="Also write the figures here"),
) -> None:
    """Documents per second and median ms per document of the coding stage alone, on CodiEsp dev."""
    from pipeline.code.bench import run, table

    try:
        result = run(limit, setting)
    except FileNotFoundError as e:
        err.print(f"[red]{e}[/red]")
        raise typer.Exit(2)
    out.print(table(result))
    if as_json:
        as_json.write_text(json.dumps(result.as_dict(), indent=2) + "\n")


@bench_app.command("transcribe")
def bench_transcribe(
    dirs: list[Path] = typer.Argument(None, help="Folders of media with NAME.txt references (default: samples/)"),
    backend: list[str] = typer.Option(["faster-whisper"], "--backend", help="faster-whisper and/or openai-whisper (repeat)"),
    model: list[str] = typer.Option(["tiny.en"], "--model", help="tiny.en, base (the optional extra) or a path (repeat)"),
    variant: list[str] = typer.Option(["plain", "bias+correct"], "--variant", help="plain (Whisper alone) and/or bias+correct"),
    beam: int = typer.Option(1, help="Beam size with biasing+correction (the default configuration)"),
    plain_beam: int = typer.Option(5, help="Beam size of the plain configuration (the previous default)"),
    compute_type: str = typer.Option("int8", help="faster-whisper compute type"),
    as_json: Optional[Path] = typer.Option(None, "--json", help="Also write the figures here"),
    split: Optional[str] = typer.Option(None, help="dev or heldout: the development set (built on first use) instead of DIRS"),
    devset_dir: Optional[Path] = typer.Option(None, help="Where the development set is built (default: cache_dir/transcribe-devset)"),
    ablation: bool = typer.Option(False, help="With --split: plain decoding, each word transformation alone, all on, all on less each"),
    write_precision: bool = typer.Option(False, help="With --split dev --ablation: store the term corrector's measured precision"),
    decode_cache: Optional[Path] = typer.Option(None, help="With --split: keep decodings here (keyed by configuration, file and decoding code)"),
    beams: list[int] = typer.Option([], "--beams", help="With --split (no --ablation): beam sizes to compare per --model (repeat); default: the profiles"),
) -> None:
    """Transcription accuracy and speed: RTF, WER, medical-term error rate, medwer medical WER per configuration.

    With ``--split``: one table of WER, medical-word WER (medwer terms, drug names, doses, units),
    insertions, deletions, RTF and peak memory per profile (or transformation) and per voice."""
    if split:
        _bench_devset(split, devset_dir, model, beam, ablation, write_precision, as_json, decode_cache, beams)
        return
    from rich.progress import Progress

    from pipeline.settings import get_settings
    from pipeline.transcribe.benchmark import configs_for, load_dataset, machine, run_config, table

    folders = dirs or [Path(__file__).resolve().parents[1] / "samples"]
    try:
        items = [it for d in folders for it in load_dataset(d)]
    except (OSError, ValueError) as e:
        err.print(f"[red]{e}[/red]")
        raise typer.Exit(2)
    configs = configs_for(backend, model, variant, beam, plain_beam, compute_type)
    base = get_settings()
    rows = []
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("transcribing", total=len(configs) * len(items))
        for c in configs:
            progress.update(task, description=f"{c.backend} {c.model} {c.label}")
            rows.append(run_config(c, items, base, on_file=lambda _n: progress.advance(task)))
    m = machine()
    audio = sum(it.audio.duration for it in items)
    Console(width=max(out.width, 150)).print(table(rows, f"Transcription: {len(items)} files, {audio:.0f} s of audio, {m['cpus']} CPUs "
                          f"(load average {m['load_average'][0]} at the end)"))
    if as_json:
        from dataclasses import asdict

        as_json.write_text(json.dumps({"machine": m, "folders": [str(d) for d in folders], "rows": [asdict(r) for r in rows]},
                                      indent=2) + "\n")


def _bench_devset(split: str, devset_dir: Optional[Path], models: list[str], beam: int, ablation: bool, write_precision: bool,
                  as_json: Optional[Path], decode_cache: Optional[Path] = None, beams: list[int] | None = None) -> None:
    from datetime import date

    from rich.progress import Progress

    from pipeline.settings import get_settings
    from pipeline.transcribe import devset
    from pipeline.transcribe.benchmark import ablation_variants, earns_default, machine, matrix_table, model_variants, profile_variants, run_matrix, STAGES

    try:
        folder = devset.split_dir(split, devset_dir)
        if not (folder.parent / "manifest.json").is_file():
            err.print(f"building the development set in {folder.parent} ...")
            devset.build(folder.parent)
    except (OSError, ValueError, RuntimeError) as e:
        err.print(f"[red]{e}[/red]")
        raise typer.Exit(2)
    base = get_settings()
    if ablation:
        variants = [v for m in models for v in ablation_variants(m, beam)]
    elif beams:
        variants = [v for m in models for b in beams for v in model_variants(m, b, base)]
    else:
        variants = profile_variants(base)
    n = len(list(folder.glob("*.txt")))
    decodes = len({v.decode_key for v in variants})
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task(f"{split}: {len(variants)} configurations", total=decodes * n)
        result = run_matrix(folder, variants, base, on_file=lambda _n: progress.advance(task), decode_cache=decode_cache)
    m = machine()
    audio = result["rows"][0]["audio_s"] if result["rows"] else 0
    Console(width=max(out.width, 120)).print(matrix_table(result, f"Transcription on the development set, {split} part: {result['files']} files, "
                                                    f"{audio:.0f} s; {m['cpus']} CPUs, load {m['load_average'][0]}"))
    decisions = {s: earns_default(result, s) for s in STAGES} if ablation else {}
    for stage, d in decisions.items():
        out.print(f"{stage}: " + "; ".join(f"{k}: WER {v['d_wer']:+.3f}, med-WER {v['d_medical_wer']:+.3f}, worst voice {v['worst_voice']:+.3f}"
                                           f" -> {'earns' if v['earns'] else 'does not earn'}" for k, v in d.items()))
    cp = result["correction_precision"]
    if cp["made"]:
        out.print(f"term corrector precision ({split}): {cp['right']}/{cp['made']} = {cp['precision']:.3f}")
    if write_precision and split == "dev" and cp["made"]:
        from pipeline.transcribe.correction import PRECISION_FILE

        Path(str(PRECISION_FILE)).write_text(json.dumps({**cp, "split": "dev", "model": models[0], "beam": beam,
                                                           "measured": date.today().isoformat()}, indent=1) + "\n")
    if as_json:
        as_json.write_text(json.dumps({"machine": m, "split": split, **result, "decisions": decisions}, indent=1) + "\n")


@ops.command("build-kb")
def build_kb() -> None:
    """Build (once) and cache the entity linker's knowledge base: ICD-10-CM and ICD-10-PCS TF-IDF indexes."""
    from pipeline.code.lookup.indexes import build_kb as build

    for system, meta in build().items():
        out.print(f"{system}: {meta['concepts']} codes, {meta['aliases']} aliases ({meta['backend']}) in {meta['directory']}")
