"""``mrt eval`` and ``mrt bench``: measured accuracy and speed of the product's stages.

``mrt eval coding --split dev`` scores code proposals on CodiEsp (see
:mod:`mrt_eval.coding.evaluate`); ``mrt bench pipeline|extract|code|transcribe`` prints measured
throughput. ``pipeline/cli.py`` calls :func:`register` on its ``app`` (the only place the product
package reaches this package; the commands import their modules when they run).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

out = Console()
err = Console(stderr=True)

eval_app = typer.Typer(no_args_is_help=True, help="Accuracy on public corpora (needs the shared CodiEsp data).")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks that print measured figures.")

_METRICS = (("MAP", "map"), ("R@5", "recall_at_5"), ("R@10", "recall_at_10"), ("P", "precision"), ("R", "recall"), ("F1", "f1"))


def register(app: typer.Typer) -> None:
    """Add the ``eval`` and ``bench`` groups to the ``mrt`` app."""
    app.add_typer(eval_app, name="eval")
    app.add_typer(bench_app, name="bench")


def _report_or_exit(make: Callable[[], dict], *errors: type[Exception]) -> dict:
    """``make()``'s report; one of ``errors`` (missing corpus, wrong split) is printed and exits 2."""
    try:
        return make()
    except errors as e:
        err.print(f"[red]{e}[/red]")
        raise typer.Exit(2)


def _print_json(report: dict) -> None:
    sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")


def _tables(report: dict) -> list[Table]:
    corpus = "the dictation set" if report.get("dataset") == "dictation" else "CodiEsp"
    title = (
        f"Coding on {corpus} {report['split']} ({report['documents']} documents, {report['setting']}, "
        f"P/R/F1 at score >= {report['threshold']:.2f}; {report['model_version']})"
    )
    main = Table(title=title)
    for col in ("System", "Level", "Docs", "Gold", "Proposed", *(m for m, _ in _METRICS)):
        main.add_column(col, justify="left" if col in ("System", "Level") else "right")
    for system, res in report["results"].items():
        for level in ("full", "category"):
            s = res[level]
            main.add_row(
                system, level, str(s["documents"]), str(s["gold"]), str(s["proposed"]), *(f"{s[key]:.3f}" for _, key in _METRICS)
            )
    eces = ", ".join(f"{system} ECE {res.get('ece', 0.0):.3f}" for system, res in report["results"].items())
    rel = Table(title=f"Reliability (full code, proposals and alternatives): score bin vs fraction that are gold; {eces}")
    for col in ("System", "Score bin", "Codes", "Mean score", "Fraction correct"):
        rel.add_column(col, justify="left" if col == "System" else "right")
    for system, res in report["results"].items():
        for b in res["reliability"]:
            rel.add_row(
                system, f"{b['low']:.1f}-{b['high']:.1f}", str(b["proposals"]), f"{b['mean_score']:.3f}", f"{b['correct']:.3f}"
            )
    sweep = Table(title="Threshold choice (full code): P/R/F1 if the product threshold were ...")
    for col in ("System", "Threshold", "Proposed", "P", "R", "F1"):
        sweep.add_column(col, justify="left" if col == "System" else "right")
    for system, res in report["results"].items():
        for row in res.get("threshold_sweep", []):
            sweep.add_row(
                system,
                f"{row['threshold']:.2f}",
                str(row["proposed"]),
                f"{row['precision']:.3f}",
                f"{row['recall']:.3f}",
                f"{row['f1']:.3f}",
            )
    tables = [main, rel, sweep]
    if report.get("by_note_type"):
        per_type = Table(title="ICD-10-CM full code by note type (care setting from the gold file)")
        for col in ("Note type", "Setting", "Docs", "Gold", "Proposed", "P", "R", "F1", "MAP"):
            per_type.add_column(col, justify="left" if col in ("Note type", "Setting") else "right")
        for name, s in report["by_note_type"].items():
            per_type.add_row(
                name,
                s["setting"],
                str(s["documents"]),
                str(s["gold"]),
                str(s["proposed"]),
                *(f"{s[k]:.3f}" for k in ("precision", "recall", "f1", "map")),
            )
        tables.append(per_type)
    return tables


def _errors_table(report: dict) -> Table:
    t = Table(title="Most frequent errors at the threshold (full code)")
    for col in ("System", "Missed gold codes (count)", "False positives (count)"):
        t.add_column(col)

    def fmt(pairs: list) -> str:
        return ", ".join(f"{c} ({n})" for c, n in pairs)

    for system, res in report["results"].items():
        t.add_row(system, fmt(res["errors"]["missed"]), fmt(res["errors"]["false_positive"]))
    return t


@eval_app.command("coding")
def coding(
    split: str = typer.Option("dev", help="CodiEsp split: dev or train; dictation set: train, dev or test"),
    dataset: str = typer.Option(
        "codiesp",
        help="codiesp (case reports) or dictation (hand-coded MTSamples dictations, "
        "tests/data/dictation; each note in the care setting its gold record gives)",
    ),
    limit: Optional[int] = typer.Option(None, help="Only the first N documents (sorted by id)"),
    setting: str = typer.Option("inpatient", help="Care setting the coder applies (CodiEsp cases are hospital cases)"),
    threshold: Optional[float] = typer.Option(None, help="Score threshold for P/R/F1 (default: the product's min_code_score)"),
    errors: bool = typer.Option(False, "--errors", help="Also list the most frequent missed and false-positive codes"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """MAP, recall@5/10 and P/R/F1 of the code proposals on CodiEsp or the dictation set, for CM and PCS,
    full code and category."""
    from mrt_eval.coding.evaluate import evaluate, evaluate_dictation

    if dataset not in ("codiesp", "dictation"):
        err.print("[red]--dataset must be codiesp or dictation.[/red]")
        raise typer.Exit(2)
    splits = ("train", "dev", "test") if dataset == "dictation" else ("dev", "train")
    if split not in splits:
        err.print(f"[red]--split must be {' or '.join(splits)} for --dataset {dataset}.[/red]")
        raise typer.Exit(2)
    if setting not in ("inpatient", "outpatient"):
        err.print("[red]--setting must be inpatient or outpatient.[/red]")
        raise typer.Exit(2)
    report = _report_or_exit(
        lambda: (
            evaluate_dictation(split, limit, threshold=threshold)
            if dataset == "dictation"
            else evaluate(split, limit, setting=setting, threshold=threshold)
        ),
        FileNotFoundError,
        ValueError,
    )
    if as_json:
        _print_json(report)
        return
    for table in _tables(report):
        out.print(table)
    if errors:
        out.print(_errors_table(report))


@eval_app.command("agreement")
def agreement(
    split: str = typer.Option("dev", help="The dictation set's split; the second reading covers the dev notes"),
    product: bool = typer.Option(True, "--product/--no-product", help="Also score the product's proposals against both readings"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Agreement of two coders on the dictation set (ICD-10-CM): a second, independent reading of the
    notes scored against the gold, by note type and code group, and the product between the two."""
    from mrt_eval.coding.agreement import GROUPS, evaluate_agreement

    report = _report_or_exit(lambda: evaluate_agreement(split, with_product=product), FileNotFoundError, ValueError)
    if as_json:
        _print_json(report)
        return
    table = Table(
        title=f"Two coders on the dictation set, {split} ({report['notes']} notes, ICD-10-CM): "
        "the second reading scored against the gold"
    )
    for col in ("Part", "Notes", "Gold codes", "Second's codes", "Both", "P", "R", "F1"):
        table.add_column(col, justify="left" if col == "Part" else "right")

    def row(name: str, s: dict) -> None:
        table.add_row(
            name,
            str(s["notes"]),
            str(s["reference"]),
            str(s["compared"]),
            str(s["both"]),
            *(f"{s[k]:.3f}" for k in ("precision", "recall", "f1")),
        )

    row("all, full code", report["second_vs_first"]["full"])
    row("all, category", report["second_vs_first"]["category"])
    for t, s in report["by_note_type"].items():
        row(t, s)
    for g in GROUPS:
        row(f"codes: {g}", report["by_code_group"][g])
    out.print(table)
    if "product" in report:
        p = report["product"]
        t2 = Table(title="The product's proposals (full code) between the two readings")
        for col in ("Against", "P", "R", "F1"):
            t2.add_column(col, justify="left" if col == "Against" else "right")
        for name, key in (("the gold (first coder)", "vs_first"), ("the second coder", "vs_second")):
            t2.add_row(name, *(f"{p[key][k]:.3f}" for k in ("precision", "recall", "f1")))
        t2.add_row("codes both coders assign (recall)", "", f"{p['recall_of_codes_both_assign']:.3f}", "")
        t2.add_row("codes either coder assigns (precision)", f"{p['precision_against_codes_either_assigns']:.3f}", "", "")
        out.print(t2)


@eval_app.command("ner")
def ner(
    corpus: str = typer.Option(..., help="ncbi (NCBI-disease) or bc5cdr (BC5CDR, disease + chemical)"),
    split: str = typer.Option("dev", help="train or dev (the test splits are withheld)"),
    model: Optional[str] = typer.Option(
        None, help="Shipped model (ncbi, bc5cdr), installed spaCy package or directory; default: the corpus' own"
    ),
    limit: Optional[int] = typer.Option(None, help="Only the first N sentences"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Entity-level exact-span precision, recall and F1 of an NER model on NCBI-disease or BC5CDR."""
    from mrt_eval.extract.ner import evaluate as evaluate_ner
    from pipeline.errors import PipelineError

    try:
        report = evaluate_ner(corpus, split, model=model, limit=limit)
    except PipelineError as e:
        err.print(f"[red]{e}[/red]")
        raise typer.Exit(2)
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict()) + "\n")
        return
    table = Table(
        title=f"NER on {report.corpus} {report.split} ({report.sentences} sentences, {report.tokens} tokens; "
        f"model {report.model}; exact span + type)"
    )
    for col in ("Type", "Gold", "Predicted", "TP", "P", "R", "F1"):
        table.add_column(col, justify="left" if col == "Type" else "right")
    rows = [*report.per_label.items(), ("all", report.overall)]
    for label, s in rows:
        table.add_row(
            label,
            str(s.tp + s.fn),
            str(s.tp + s.fp),
            str(s.tp),
            f"{100 * s.precision:.1f}",
            f"{100 * s.recall:.1f}",
            f"{100 * s.f1:.1f}",
        )
    out.print(table)
    err.print(f"{report.tokens / max(report.seconds, 1e-9):.0f} tokens/s")


@eval_app.command("context")
def context(
    split: str = typer.Option("dev", help="dev: NegEx gold reports 1-60 (the set the rules were tuned on)"),
    limit: Optional[int] = typer.Option(None, help="Only the first N annotated concepts"),
    errors: bool = typer.Option(False, "--errors", help="Also list the misclassified concepts"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Negation accuracy, PPV and sensitivity of the ConText component on the NegEx gold set."""
    from mrt_eval.extract.context import GOLD_FILE, load_gold
    from mrt_eval.extract.context import evaluate as evaluate_context
    from mrt_eval.extract.ner_corpora import shared_data_root

    if split != "dev":
        err.print("[red]--split must be dev (NegEx reports 1-60; there is no other split).[/red]")
        raise typer.Exit(2)
    gold = shared_data_root() / "negex" / GOLD_FILE
    if not gold.is_file():
        err.print(f"[red]NegEx gold set not found at {gold} (needs ../shared/data).[/red]")
        raise typer.Exit(2)
    rows = load_gold(gold)[:limit] if limit else load_gold(gold)
    report = evaluate_context(rows)
    if as_json:
        sys.stdout.write(json.dumps(report) + "\n")
        return
    table = Table(title=f"Assertion on NegEx reports 1-60 ({len(rows)} concepts)")
    for col in ("Feature", "n", "TP", "TN", "FP", "FN", "Accuracy", "PPV", "Sensitivity", "Specificity"):
        table.add_column(col, justify="left" if col == "Feature" else "right")
    for feature in ("negation", "historical", "experiencer"):
        m = report.get(feature)
        if isinstance(m, dict):
            table.add_row(
                feature,
                *(str(m[k]) for k in ("n", "tp", "tn", "fp", "fn")),
                *(f"{m[k]:.3f}" for k in ("accuracy", "ppv", "sensitivity", "specificity")),
            )
    out.print(table)
    err.print(f"concepts not found in their sentence: {report['concept_not_found']}")
    if errors:
        for e in report["errors"]:
            err.print(f"- [{e['report']}] gold={'Negated' if e['gold'] else 'Affirmed'} {e['concept']!r} cues={e['cues']}")


@eval_app.command("procedures")
def procedures(
    split: str = typer.Option("dev", help="dev (developed on) or test (held out, never tuned on)"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
    errors: bool = typer.Option(False, "--errors", help="Also list missed and spurious mentions"),
) -> None:
    """P/R/F1 of PROCEDURE mentions on the hand-checked MTSamples dev set (tests/data/procedures)."""
    from mrt_eval.extract.procedures import evaluate as evaluate_procedures

    if split not in ("dev", "test"):
        err.print("[red]--split must be dev or test[/red]")
        raise typer.Exit(2)
    report = _report_or_exit(lambda: evaluate_procedures(split=split), FileNotFoundError)
    if as_json:
        _print_json(report)
        return
    table = Table(
        title=f"Procedures on the MTSamples {split} set ({report['documents']} excerpts, {report['gold']} gold mentions)"
    )
    for col in ("Match", "TP", "FP", "FN", "P", "R", "F1"):
        table.add_column(col, justify="left" if col == "Match" else "right")
    for match in ("exact", "overlap"):
        s = report[match]
        table.add_row(
            match,
            str(s["tp"]),
            str(s["fp"]),
            str(s["fn"]),
            f"{100 * s['precision']:.1f}",
            f"{100 * s['recall']:.1f}",
            f"{100 * s['f1']:.1f}",
        )
    out.print(table)
    if errors:
        for kind in ("missed", "spurious"):
            for text in report[kind]:
                err.print(f"{kind}: {text}")


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
    from flows.scaleout import local_prefect_api
    from mrt_eval.throughput import run_benchmark
    from pipeline.ops_cli import _quiet_prefect, _stop_on_sigterm

    _quiet_prefect(False)

    _stop_on_sigterm()
    with local_prefect_api():
        result = run_benchmark(
            n,
            source=source,
            minutes=minutes,
            worker_counts=workers,
            baseline=baseline,
            keep=keep,
            progress=lambda msg: err.print(f"[dim]{msg}[/dim]"),
        )
    table = Table(
        title=f"Pipeline throughput: {result['dictations']} dictations, {result['audio_minutes']:.1f} min of audio "
        f"({result['machine']})"
    )
    for col in (
        "workers",
        "wall s",
        "audio h/h",
        "Prefect",
        "peak MB",
        "load",
        "transcribe",
        "extract",
        "code",
        "store",
        "other",
    ):
        table.add_column(col, justify="right")
    for r in result["runs"]:
        st = r["stage_seconds_per_dictation"]
        other = sum(v for k, v in st.items() if k not in ("load", "transcribe", "extract", "code", "store"))
        overhead = "-" if r.get("prefect_overhead") is None else f"{100 * r['prefect_overhead']:.1f}%"
        table.add_row(
            str(r["workers"]),
            f"{r['wall_s']:.1f}",
            f"{r['audio_hours_per_hour']:.1f}",
            overhead,
            f"{max(r['peak_rss_mb']):.0f}",
            *(f"{st.get(k, 0):.2f}" for k in ("load", "transcribe", "extract", "code", "store")),
            f"{other:.2f}",
        )
    out.print(table)
    err.print(
        "Stage columns: mean seconds per dictation on a worker. Prefect overhead: time the flow run spends outside "
        "dictation work (wall - busiest worker's work) beyond what the same batch on plain Dask spends, / flow wall."
    )
    if as_json:
        as_json.write_text(json.dumps(result, indent=2) + "\n")


@bench_app.command("extract")
def bench_extract(
    n: int = typer.Option(400, "--docs", help="How many MTSamples reports to time"),
    batch_size: int = typer.Option(32, help="nlp.pipe batch size"),
    as_json: Optional[Path] = typer.Option(None, "--json", help="Also write the figures here"),
) -> None:
    """Words per second through the whole extraction pipeline (NER, lexicon, context, linking) on MTSamples."""
    from mrt_eval.extract.bench import run

    try:
        result = run(n, batch_size=batch_size, progress=lambda msg: err.print(f"[dim]{msg}[/dim]"))
    except FileNotFoundError as e:
        err.print(f"[red]{e}[/red]")
        raise typer.Exit(2)
    table = Table(
        title=f"Extraction throughput on MTSamples ({result.documents} reports, {result.words} words; 1 thread; {result.machine})"
    )
    for col in ("words/s (wall)", "words/s per core (CPU time)", "entities", "wall s", "CPU s"):
        table.add_column(col, justify="right")
    table.add_row(
        f"{result.words_per_s:.0f}",
        f"{result.words_per_cpu_s:.0f}",
        str(result.entities),
        f"{result.wall_s:.1f}",
        f"{result.cpu_s:.1f}",
    )
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
    from mrt_eval.coding.bench import run, table

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
    model: list[str] = typer.Option(
        ["tiny.en"],
        "--model",
        help="tiny.en, base (the optional extra), a path, or tiny.en+base: tiny.en, then base re-decodes "
        "its unsure and medical words (MRT_REDECODE_* settings) (repeat)",
    ),
    variant: list[str] = typer.Option(["plain", "bias+correct"], "--variant", help="plain (Whisper alone) and/or bias+correct"),
    beam: int = typer.Option(1, help="Beam size with biasing+correction (the default configuration)"),
    plain_beam: int = typer.Option(5, help="Beam size of the plain configuration (the previous default)"),
    compute_type: str = typer.Option("int8", help="faster-whisper compute type"),
    as_json: Optional[Path] = typer.Option(None, "--json", help="Also write the figures here"),
    split: Optional[str] = typer.Option(None, help="dev or heldout: the development set (built on first use) instead of DIRS"),
    devset_dir: Optional[Path] = typer.Option(
        None, help="Where the development set is built (default: cache_dir/transcribe-devset)"
    ),
    ablation: bool = typer.Option(
        False, help="With --split: plain decoding, each word transformation alone, all on, all on less each"
    ),
    write_precision: bool = typer.Option(
        False, help="With --split dev --ablation: store the term corrector's measured precision"
    ),
    decode_cache: Optional[Path] = typer.Option(
        None, help="With --split: keep decodings here (keyed by configuration, file and decoding code)"
    ),
    beams: list[int] = typer.Option(
        [], "--beams", help="With --split (no --ablation): beam sizes to compare per --model (repeat); default: the profiles"
    ),
) -> None:
    """Transcription accuracy and speed: RTF, WER, medical-term error rate, medwer medical WER per configuration.

    With ``--split``: one table of WER, medical-word WER (medwer terms, drug names, doses, units),
    insertions, deletions, RTF and peak memory per profile (or transformation) and per voice."""
    if split:
        _bench_devset(split, devset_dir, model, beam, ablation, write_precision, as_json, decode_cache, beams)
        return
    from rich.progress import Progress

    from mrt_eval.transcribe.benchmark import configs_for, load_dataset, machine, run_config, table
    from pipeline.settings import get_settings

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
    Console(width=max(out.width, 150)).print(
        table(
            rows,
            f"Transcription: {len(items)} files, {audio:.0f} s of audio, {m['cpus']} CPUs "
            f"(load average {m['load_average'][0]} at the end)",
        )
    )
    if as_json:
        from dataclasses import asdict

        as_json.write_text(
            json.dumps({"machine": m, "folders": [str(d) for d in folders], "rows": [asdict(r) for r in rows]}, indent=2) + "\n"
        )


@bench_app.command("transcript-stages")
def bench_transcript_stages(
    folder: Optional[Path] = typer.Argument(None, help="A folder of media with NAME.txt references (default: samples/)"),
) -> None:
    """Per file, a fingerprint of each transcription stage (decoded audio, VAD, features, encoder,
    transcript) with the product's settings: run it on two CPUs and compare to find the stage whose
    kernels differ (docs/benchmarks.md, Transcription)."""
    from mrt_eval.transcribe.benchmark import load_dataset
    from mrt_eval.transcribe.stages import cpu_description, pinned_variables, stage_fingerprints
    from pipeline.settings import get_settings
    from pipeline.transcribe.transcribe import Transcriber

    settings = get_settings()
    if settings.transcribe_backend != "faster-whisper":
        err.print("[red]transcript-stages reads faster-whisper's stages; set MRT_TRANSCRIBE_BACKEND=faster-whisper[/red]")
        raise typer.Exit(2)
    try:
        items = load_dataset(folder or Path(__file__).resolve().parents[1] / "samples")
    except (OSError, ValueError) as e:
        err.print(f"[red]{e}[/red]")
        raise typer.Exit(2)
    model = Transcriber(settings).model()
    cpu = cpu_description()
    tab = Table(title=f"Transcription stages ({settings.whisper_model}; {', '.join(f'{k} {v}' for k, v in cpu.items())})")
    for col in ("file", "audio", "vad", "features", "encoder", "transcript"):
        tab.add_column(col)
    for item in items:
        f = stage_fingerprints(item, model, settings)
        tab.add_row(f.name, f.audio, f.vad, f.features, f.encoder, f.transcript)
    Console(width=max(out.width, 160)).print(tab)
    out.print(f"pinned: {pinned_variables() or 'nothing (cpu_kernels=native or not x86-64)'}")


def _bench_devset(
    split: str,
    devset_dir: Optional[Path],
    models: list[str],
    beam: int,
    ablation: bool,
    write_precision: bool,
    as_json: Optional[Path],
    decode_cache: Optional[Path] = None,
    beams: list[int] | None = None,
) -> None:
    from datetime import date

    from rich.progress import Progress

    from mrt_eval.transcribe import devset
    from mrt_eval.transcribe.benchmark import (
        STAGES,
        ablation_variants,
        earns_default,
        machine,
        matrix_table,
        model_variants,
        profile_variants,
        run_matrix,
    )
    from pipeline.settings import get_settings

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
    Console(width=max(out.width, 120)).print(
        matrix_table(
            result,
            f"Transcription on the development set, {split} part: {result['files']} files, "
            f"{audio:.0f} s; {m['cpus']} CPUs, load {m['load_average'][0]}",
        )
    )
    decisions = {s: earns_default(result, s) for s in STAGES} if ablation else {}
    for stage, d in decisions.items():
        out.print(
            f"{stage}: "
            + "; ".join(
                f"{k}: WER {v['d_wer']:+.3f}, med-WER {v['d_medical_wer']:+.3f}, worst voice {v['worst_voice']:+.3f}"
                f" -> {'earns' if v['earns'] else 'does not earn'}"
                for k, v in d.items()
            )
        )
    cp = result["correction_precision"]
    if cp["made"]:
        out.print(f"term corrector precision ({split}): {cp['right']}/{cp['made']} = {cp['precision']:.3f}")
    if write_precision and split == "dev" and cp["made"]:
        from pipeline.transcribe.correction import PRECISION_FILE

        Path(str(PRECISION_FILE)).write_text(
            json.dumps({**cp, "split": "dev", "model": models[0], "beam": beam, "measured": date.today().isoformat()}, indent=1)
            + "\n"
        )
    if as_json:
        as_json.write_text(json.dumps({"machine": m, "split": split, **result, "decisions": decisions}, indent=1) + "\n")
