"""``mrt eval``: measured accuracy of the product's stages on public corpora.

``mrt eval coding --split dev`` scores code proposals on CodiEsp (see
:mod:`pipeline.code.evaluate`). ``pipeline/cli.py`` calls :func:`register` on its ``app``.
"""

from __future__ import annotations

import json
import sys
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

out = Console()
err = Console(stderr=True)

eval_app = typer.Typer(no_args_is_help=True, help="Accuracy on public corpora (needs the shared CodiEsp data).")

_METRICS = (("MAP", "map"), ("R@5", "recall_at_5"), ("R@10", "recall_at_10"), ("P", "precision"), ("R", "recall"), ("F1", "f1"))


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")


def _tables(report: dict) -> list[Table]:
    corpus = "the dictation set" if report.get("dataset") == "dictation" else "CodiEsp"
    title = (f"Coding on {corpus} {report['split']} ({report['documents']} documents, {report['setting']}, "
             f"P/R/F1 at score >= {report['threshold']:.2f}; {report['model_version']})")
    main = Table(title=title)
    for col in ("System", "Level", "Docs", "Gold", "Proposed", *(m for m, _ in _METRICS)):
        main.add_column(col, justify="left" if col in ("System", "Level") else "right")
    for system, res in report["results"].items():
        for level in ("full", "category"):
            s = res[level]
            main.add_row(system, level, str(s["documents"]), str(s["gold"]), str(s["proposed"]),
                         *(f"{s[key]:.3f}" for _, key in _METRICS))
    eces = ", ".join(f"{system} ECE {res.get('ece', 0.0):.3f}" for system, res in report["results"].items())
    rel = Table(title=f"Reliability (full code, proposals and alternatives): score bin vs fraction that are gold; {eces}")
    for col in ("System", "Score bin", "Codes", "Mean score", "Fraction correct"):
        rel.add_column(col, justify="left" if col == "System" else "right")
    for system, res in report["results"].items():
        for b in res["reliability"]:
            rel.add_row(system, f"{b['low']:.1f}-{b['high']:.1f}", str(b["proposals"]), f"{b['mean_score']:.3f}",
                        f"{b['correct']:.3f}")
    sweep = Table(title="Threshold choice (full code): P/R/F1 if the product threshold were ...")
    for col in ("System", "Threshold", "Proposed", "P", "R", "F1"):
        sweep.add_column(col, justify="left" if col == "System" else "right")
    for system, res in report["results"].items():
        for row in res.get("threshold_sweep", []):
            sweep.add_row(system, f"{row['threshold']:.2f}", str(row["proposed"]), f"{row['precision']:.3f}",
                          f"{row['recall']:.3f}", f"{row['f1']:.3f}")
    tables = [main, rel, sweep]
    if report.get("by_note_type"):
        per_type = Table(title="ICD-10-CM full code by note type (care setting from the gold file)")
        for col in ("Note type", "Setting", "Docs", "Gold", "Proposed", "P", "R", "F1", "MAP"):
            per_type.add_column(col, justify="left" if col in ("Note type", "Setting") else "right")
        for name, s in report["by_note_type"].items():
            per_type.add_row(name, s["setting"], str(s["documents"]), str(s["gold"]), str(s["proposed"]),
                             *(f"{s[k]:.3f}" for k in ("precision", "recall", "f1", "map")))
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
    split: str = typer.Option("dev", help="CodiEsp split: dev or train; dictation set: dev or test"),
    dataset: str = typer.Option("codiesp", help="codiesp (case reports) or dictation (hand-coded MTSamples dictations, "
                                "tests/data/dictation; each note in the care setting its gold record gives)"),
    limit: Optional[int] = typer.Option(None, help="Only the first N documents (sorted by id)"),
    setting: str = typer.Option("inpatient", help="Care setting the coder applies (CodiEsp cases are hospital cases)"),
    threshold: Optional[float] = typer.Option(None, help="Score threshold for P/R/F1 (default: the product's min_code_score)"),
    errors: bool = typer.Option(False, "--errors", help="Also list the most frequent missed and false-positive codes"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """MAP, recall@5/10 and P/R/F1 of the code proposals on CodiEsp or the dictation set, for CM and PCS,
    full code and category."""
    from pipeline.code.evaluate import evaluate, evaluate_dictation

    if dataset not in ("codiesp", "dictation"):
        err.print("[red]--dataset must be codiesp or dictation.[/red]")
        raise typer.Exit(2)
    splits = ("dev", "test") if dataset == "dictation" else ("dev", "train")
    if split not in splits:
        err.print(f"[red]--split must be {' or '.join(splits)} for --dataset {dataset}.[/red]")
        raise typer.Exit(2)
    if setting not in ("inpatient", "outpatient"):
        err.print("[red]--setting must be inpatient or outpatient.[/red]")
        raise typer.Exit(2)
    try:
        if dataset == "dictation":
            report = evaluate_dictation(split, limit, threshold=threshold)
        else:
            report = evaluate(split, limit, setting=setting, threshold=threshold)
    except (FileNotFoundError, ValueError) as e:
        err.print(f"[red]{e}[/red]")
        raise typer.Exit(2)
    if as_json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")
        return
    for table in _tables(report):
        out.print(table)
    if errors:
        out.print(_errors_table(report))


@eval_app.command("ner")
def ner(
    corpus: str = typer.Option(..., help="ncbi (NCBI-disease) or bc5cdr (BC5CDR, disease + chemical)"),
    split: str = typer.Option("dev", help="train or dev (the test splits are withheld)"),
    model: Optional[str] = typer.Option(None, help="Shipped model (ncbi, bc5cdr), installed spaCy package or directory; default: the corpus' own"),
    limit: Optional[int] = typer.Option(None, help="Only the first N sentences"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Entity-level exact-span precision, recall and F1 of an NER model on NCBI-disease or BC5CDR."""
    from pipeline.errors import PipelineError
    from pipeline.extract.ner_eval import evaluate as evaluate_ner

    try:
        report = evaluate_ner(corpus, split, model=model, limit=limit)
    except PipelineError as e:
        err.print(f"[red]{e}[/red]")
        raise typer.Exit(2)
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict()) + "\n")
        return
    table = Table(title=f"NER on {report.corpus} {report.split} ({report.sentences} sentences, {report.tokens} tokens; "
                        f"model {report.model}; exact span + type)")
    for col in ("Type", "Gold", "Predicted", "TP", "P", "R", "F1"):
        table.add_column(col, justify="left" if col == "Type" else "right")
    rows = [*report.per_label.items(), ("all", report.overall)]
    for label, s in rows:
        table.add_row(label, str(s.tp + s.fn), str(s.tp + s.fp), str(s.tp), f"{100 * s.precision:.1f}",
                      f"{100 * s.recall:.1f}", f"{100 * s.f1:.1f}")
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
    from pipeline.extract.context_eval import GOLD_FILE, evaluate as evaluate_context, load_gold
    from pipeline.extract.ner_corpora import shared_data_root

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
            table.add_row(feature, *(str(m[k]) for k in ("n", "tp", "tn", "fp", "fn")),
                          *(f"{m[k]:.3f}" for k in ("accuracy", "ppv", "sensitivity", "specificity")))
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
    from pipeline.extract.procedure_eval import evaluate as evaluate_procedures

    try:
        if split not in ("dev", "test"):
            raise FileNotFoundError("--split must be dev or test")
        report = evaluate_procedures(split=split)
    except FileNotFoundError as e:
        err.print(f"[red]{e}[/red]")
        raise typer.Exit(2)
    if as_json:
        sys.stdout.write(json.dumps(report) + "\n")
        return
    table = Table(title=f"Procedures on the MTSamples {split} set ({report['documents']} excerpts, {report['gold']} gold mentions)")
    for col in ("Match", "TP", "FP", "FN", "P", "R", "F1"):
        table.add_column(col, justify="left" if col == "Match" else "right")
    for match in ("exact", "overlap"):
        s = report[match]
        table.add_row(match, str(s["tp"]), str(s["fp"]), str(s["fn"]), f"{100 * s['precision']:.1f}",
                      f"{100 * s['recall']:.1f}", f"{100 * s['f1']:.1f}")
    out.print(table)
    if errors:
        for kind in ("missed", "spurious"):
            for text in report[kind]:
                err.print(f"{kind}: {text}")
