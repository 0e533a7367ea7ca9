"""``mrt``: the command line for technicians and for other tools.

The ``--json`` outputs are a contract other tools depend on: keep their shapes (adding
fields is fine).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Medical records technician: dictations in, proposed ICD-10 codes out."
)
out = Console()
err = Console(stderr=True)


def _quiet_prefect(verbose: bool) -> None:
    # Failures are reported in the summary table with their reason; Prefect keeps the run
    # records and its tracebacks show with -v.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "CRITICAL")


SETTING_HELP = (
    "Care setting: outpatient (default from settings) or inpatient. Outpatient: uncertain diagnoses "
    "(probable, suspected, rule out) are not coded (Guidelines IV.H; their symptoms are) and ICD-10-PCS "
    "codes are only alternatives (procedures are reported with CPT); inpatient: uncertain diagnoses are "
    "coded as if established (II.H, III.C) and PCS codes are proposed"
)


def _emit(obj: dict, output: Optional[Path] = None) -> None:
    text = json.dumps(obj, ensure_ascii=False)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")


def _expand(paths: list[Path]) -> list[Path]:
    from flows.dictation import media_files

    files: list[Path] = []
    for p in paths:
        files.extend(media_files(p) if p.is_dir() else [p])
    return files


@app.command()
def process(
    paths: list[Path] = typer.Argument(..., help="Dictation files or folders"),
    backend: Optional[str] = typer.Option(None, help="faster-whisper or openai-whisper (default from settings)"),
    setting: Optional[str] = typer.Option(None, help=SETTING_HELP),
    reprocess: bool = typer.Option(False, help="Process again even if this content was already coded"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show Prefect's run logs"),
) -> None:
    """Transcribe, extract and code dictations through the Prefect flow; store the results."""
    _quiet_prefect(verbose)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from flows.dictation import run_dictation

    files = _expand(paths)
    if not files:
        err.print("[red]No dictation files found.[/red] Supported: wav mp3 m4a flac ogg mp4 mov mkv webm")
        raise typer.Exit(2)
    results = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err) as bar:
        job = bar.add_task("Processing", total=len(files))
        for f in files:
            bar.update(job, description=f"Processing {f.name}")
            results.append((f, *run_dictation(f, setting=setting, backend=backend, reprocess=reprocess)))
            bar.advance(job)

    table = Table(title="Proposed codes", show_lines=True)
    for col in ("ID", "Dictation", "Audio", "Top proposed codes (score)"):
        table.add_column(col)
    failed = 0
    for f, res, error in results:
        if res is None:
            failed += 1
            table.add_row("-", f.name, "-", f"[red]FAILED[/red]: {getattr(error, 'reason', error)}")
            continue
        codes = "\n".join(f"{c['code']:<8} {c['score']:.2f}  {c['description'][:60]}" for c in res["codes"][:8]) or "(none)"
        dur = f"{res['duration']:.0f}s" if res.get("duration") else "-"
        note = " (already processed)" if res.get("duplicate") else ""
        table.add_row(str(res["id"]), f.name + note, dur, codes)
    out.print(table)
    if failed:
        err.print(f"[red]{failed} of {len(files)} dictation(s) failed[/red]; see the reasons above.")
        raise typer.Exit(1)


@app.command()
def transcribe(
    file: Path = typer.Argument(..., help="Audio or video file"),
    backend: Optional[str] = typer.Option(None, help="faster-whisper or openai-whisper"),
    model: Optional[str] = typer.Option(None, help="Whisper model name or path (default tiny.en)"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Transcribe one dictation."""
    from pipeline.errors import MediaError
    from pipeline.settings import get_settings
    from pipeline.transcribe.transcribe import Transcriber

    settings = get_settings()
    if model:
        settings = settings.model_copy(update={"whisper_model": model})
    try:
        t = Transcriber(settings).transcribe_file(file, backend=backend)
    except MediaError as e:
        err.print(f"[red]Cannot use {e.path.name}[/red]: {e.reason}")
        raise typer.Exit(2)
    if as_json:
        d = t.to_dict()
        d["segments"] = [
            {"start": s.start, "end": s.end, "text": s.text, "words": [w.__dict__ for w in s.words]} for s in t.segments
        ]
        _emit(d)
        return
    for s in t.segments:
        out.print(f"[dim][{s.start:7.2f} → {s.end:7.2f}][/dim] {s.text}")
    err.print(f"{t.backend} {t.model}: {t.duration:.1f}s of audio in {t.processing_seconds:.1f}s (RTF {t.real_time_factor:.3f})")


def _text_inputs(text_file: Optional[Path], input_dir: Optional[Path]) -> list[tuple[str, str]]:
    if bool(text_file) == bool(input_dir):
        err.print("[red]Give exactly one of --text-file or --input-dir.[/red]")
        raise typer.Exit(2)
    if text_file:
        return [(text_file.stem, text_file.read_text(encoding="utf-8"))]
    assert input_dir is not None  # exactly one of the two is given
    files = sorted(input_dir.glob("*.txt"))
    if not files:
        err.print(f"[red]No *.txt files in {input_dir}[/red]")
        raise typer.Exit(2)
    return [(f.stem, f.read_text(encoding="utf-8")) for f in files]


def _entity_json(e) -> dict:
    return {
        "start": e.start,
        "end": e.end,
        "text": e.text,
        "label": e.label,
        "section": e.section,
        "negated": e.negated,
        "uncertain": e.uncertain,
        "historical": e.historical,
        "family": e.family,
        "hypothetical": e.hypothetical,
        "long_form": e.long_form,
    }


def _proposal_json(p) -> dict:
    return {
        "system": p.system,
        "code": p.code,
        "description": p.description,
        "score": p.score,
        "evidence": [{"start": ev.start, "end": ev.end, "text": ev.text} for ev in p.evidence],
        "rationale": p.rationale,
    }


def _code_json(coding) -> dict:
    """The coding JSON contract: "codes" (the proposals, principal first), "skipped" (findings not
    coded, with why) and "alternatives" (ranked codes below the proposal threshold, best first, each
    with its score and reason; an added field, so readers of the older contract are unaffected)."""
    return {
        "codes": [_proposal_json(p) for p in coding.proposals],
        "skipped": [s.__dict__ for s in coding.skipped],
        "alternatives": [_proposal_json(p) for p in coding.alternatives],
    }


def _batch(kind: str, docs: list[tuple[str, str]], as_json: bool, output: Optional[Path], batch_mode: bool, setting) -> None:
    from pipeline.code.coder import propose_codes
    from pipeline.extract.pipeline import extract_many

    all_entities = extract_many([t for _, t in docs])
    lines = []
    for (doc_id, doc_text), ents in zip(docs, all_entities):
        obj = (
            {"entities": [_entity_json(e) for e in ents]}
            if kind == "extract"
            else _code_json(propose_codes(ents, setting=setting, text=doc_text))
        )
        lines.append({"id": doc_id, **obj} if batch_mode else obj)
    if batch_mode:
        text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
        if output:
            output.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return
    if as_json:
        _emit(lines[0], output)
        return
    table = Table(title="Entities" if kind == "extract" else "Proposed codes")
    if kind == "extract":
        for col in ("Text", "Label", "Section", "Flags"):
            table.add_column(col)
        for e in lines[0]["entities"]:
            flags = ", ".join(k for k in ("negated", "uncertain", "historical", "hypothetical", "family") if e[k])
            table.add_row(e["text"], e["label"], e["section"] or "", flags)
    else:
        for col in ("System", "Code", "Score", "Description", "Evidence"):
            table.add_column(col)
        for c in lines[0]["codes"]:
            table.add_row(
                c["system"], c["code"], f"{c['score']:.2f}", c["description"], "; ".join(ev["text"] for ev in c["evidence"])
            )
    out.print(table)


@app.command()
def extract(
    text_file: Optional[Path] = typer.Option(None, "--text-file", help="A note as plain text"),
    input_dir: Optional[Path] = typer.Option(None, "--input-dir", help="Every *.txt in this folder (JSON lines out)"),
    output: Optional[Path] = typer.Option(None, "--output", help="Write JSON here instead of stdout"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Find diagnoses, symptoms, procedures, medications and tests, with their context."""
    _batch("extract", _text_inputs(text_file, input_dir), as_json, output, input_dir is not None, None)


@app.command()
def code(
    text_file: Optional[Path] = typer.Option(None, "--text-file", help="A note as plain text"),
    input_dir: Optional[Path] = typer.Option(None, "--input-dir", help="Every *.txt in this folder (JSON lines out)"),
    output: Optional[Path] = typer.Option(None, "--output", help="Write JSON here instead of stdout"),
    setting: Optional[str] = typer.Option(None, help=SETTING_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON: codes, skipped findings and ranked alternatives"),
) -> None:
    """Propose ranked ICD-10-CM and ICD-10-PCS codes for a note."""
    if setting not in (None, "outpatient", "inpatient"):
        err.print(f"[red]--setting must be outpatient or inpatient, not {setting!r}.[/red]")
        raise typer.Exit(2)
    _batch("code", _text_inputs(text_file, input_dir), as_json, output, input_dir is not None, setting)


@app.command()
def show(
    dictation_id: int = typer.Argument(..., help="Dictation ID (from mrt process)"), as_json: bool = typer.Option(False, "--json")
) -> None:
    """Print a stored dictation with its transcript and codes."""
    from pipeline.store.db import session_scope
    from pipeline.store.repository import dictation_summary, load_dictation

    with session_scope() as s:
        d = load_dictation(s, dictation_id)
        if d is None:
            err.print(f"[red]No dictation with ID {dictation_id}.[/red]")
            raise typer.Exit(1)
        summary = dictation_summary(d)
    if as_json:
        _emit(summary)
        return
    out.print(f"[bold]Dictation {summary['id']}[/bold]  {summary['file']}  status: {summary['status']}")
    if summary["error"]:
        out.print(f"[red]Error:[/red] {summary['error']}")
    if summary["transcript"]:
        out.print(summary["transcript"])
    table = Table(title="Proposed codes")
    for col in ("System", "Code", "Score", "Description", "Evidence (audio time)", "Status"):
        table.add_column(col)
    for c in summary["codes"]:
        ev = "; ".join(
            f"{e['text']}" + (f" @{e['audio_start']:.1f}s" if e.get("audio_start") is not None else "") for e in c["evidence"]
        )
        score = f"{c['score']:.2f}" if c["score"] is not None else "added"
        table.add_row(c["system"], c["code"], score, c["description"], ev, c["status"])
    out.print(table)


from mrt_eval.cli import register as _register_eval  # noqa: E402  (eval and bench groups; the only product import of evaluation)

_register_eval(app)
from pipeline.review.cli import register as _register_review  # noqa: E402

_register_review(app)


from pipeline.ops_cli import register as _register_ops  # noqa: E402  (watch, nightly, deploy, build-kb)

_register_ops(app)
from pipeline.records.cli import register as _register_records  # noqa: E402  (search, export, report, check, registry, release, patients)

_register_records(app)
from pipeline.claim.cli import register as _register_claim  # noqa: E402  (claim group, export, report)

_register_claim(app)

if __name__ == "__main__":
    app()
