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
    title = (f"Coding on CodiEsp {report['split']} ({report['documents']} documents, {report['setting']}, "
             f"P/R/F1 at score >= {report['threshold']:.2f}; {report['model_version']})")
    main = Table(title=title)
    for col in ("System", "Level", "Docs", "Gold", "Proposed", *(m for m, _ in _METRICS)):
        main.add_column(col, justify="left" if col in ("System", "Level") else "right")
    for system, res in report["results"].items():
        for level in ("full", "category"):
            s = res[level]
            main.add_row(system, level, str(s["documents"]), str(s["gold"]), str(s["proposed"]),
                         *(f"{s[key]:.3f}" for _, key in _METRICS))
    rel = Table(title="Reliability (full code): score bin vs fraction of proposals that are gold")
    for col in ("System", "Score bin", "Proposals", "Mean score", "Fraction correct"):
        rel.add_column(col, justify="left" if col == "System" else "right")
    for system, res in report["results"].items():
        for b in res["reliability"]:
            rel.add_row(system, f"{b['low']:.1f}-{b['high']:.1f}", str(b["proposals"]), f"{b['mean_score']:.3f}",
                        f"{b['correct']:.3f}")
    return [main, rel]


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
    split: str = typer.Option("dev", help="CodiEsp split: dev or train"),
    limit: Optional[int] = typer.Option(None, help="Only the first N documents (sorted by id)"),
    setting: str = typer.Option("inpatient", help="Care setting the coder applies (CodiEsp cases are hospital cases)"),
    threshold: Optional[float] = typer.Option(None, help="Score threshold for P/R/F1 (default: the product's min_code_score)"),
    errors: bool = typer.Option(False, "--errors", help="Also list the most frequent missed and false-positive codes"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """MAP, recall@5/10 and P/R/F1 of the code proposals on CodiEsp, for CM and PCS, full code and category."""
    from pipeline.code.evaluate import evaluate

    if split not in ("dev", "train"):
        err.print("[red]--split must be dev or train.[/red]")
        raise typer.Exit(2)
    if setting not in ("inpatient", "outpatient"):
        err.print("[red]--setting must be inpatient or outpatient.[/red]")
        raise typer.Exit(2)
    try:
        report = evaluate(split, limit, setting=setting, threshold=threshold)
    except FileNotFoundError as e:
        err.print(f"[red]{e}[/red]")
        raise typer.Exit(2)
    if as_json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")
        return
    for table in _tables(report):
        out.print(table)
    if errors:
        out.print(_errors_table(report))
