"""A report as a printed table (rich), CSV, XLSX (openpyxl, one sheet per table) and the
nightly flow's daily report files."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from pipeline.records.records import csv_safe
from pipeline.records.reports import Report, build_report


def _cell(v) -> str:
    return "" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v)


def print_report(report: Report, console: Console, tables: list[str] | None = None) -> None:
    span = f"service {report.start or '…'} to {report.end or '…'}" if report.start or report.end else "all dates of service"
    console.print(
        f"[bold]Records report[/bold] {span}: {report.records} records, {report.finalized} finalized; "
        f"codes counted: {'final only' if report.final_only else 'final and provisional'}"
    )
    for t in report.tables:
        if tables and t.name not in tables:
            continue
        table = Table(title=t.title, title_justify="left")
        for i, col in enumerate(t.columns):
            numeric = bool(t.rows) and all(isinstance(r[i], (int, float)) or r[i] is None for r in t.rows)
            table.add_column(col, justify="right" if numeric and i else "left")
        for row in t.rows:
            table.add_row(*(_cell(v) for v in row))
        console.print(table)


def report_csv(report: Report) -> str:
    """All tables in one CSV: each starts with a row naming it, then its header, then its rows."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        [
            "report",
            f"{report.start or ''}",
            f"{report.end or ''}",
            f"records={report.records}",
            f"finalized={report.finalized}",
            "final codes only" if report.final_only else "final and provisional codes",
        ]
    )
    for t in report.tables:
        w.writerow([])
        w.writerow([f"# {t.name}", t.title])
        w.writerow(t.columns)
        w.writerows([[csv_safe(_cell(v)) for v in row] for row in t.rows])
    return buf.getvalue()


def report_xlsx(report: Report, path: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    info = wb.active
    info.title = "report"
    info.append(["from", str(report.start or ""), "to", str(report.end or "")])
    info.append(["records", report.records, "finalized", report.finalized])
    info.append(["codes counted", "final only" if report.final_only else "final and provisional"])
    for t in report.tables:
        ws = wb.create_sheet(t.name[:31])
        ws.append(t.columns)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in t.rows:
            ws.append(list(row))
        for i, col in enumerate(t.columns, start=1):
            width = max([len(str(col))] + [len(_cell(r[i - 1])) for r in t.rows]) + 2
            ws.column_dimensions[ws.cell(1, i).column_letter].width = min(width, 80)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_daily_report(s: Session, day: date, directory: Path) -> list[Path]:
    """The day's report next to the daily summary: ``DAY-report.csv``, ``.xlsx`` and ``-codes.png``."""
    from pipeline.records.charts import chart_png

    report = build_report(s, day, day, period="day")
    directory.mkdir(parents=True, exist_ok=True)
    csv_path = directory / f"{day.isoformat()}-report.csv"
    tmp = csv_path.with_suffix(".csv.tmp")
    tmp.write_text(report_csv(report), encoding="utf-8")
    tmp.replace(csv_path)
    xlsx_path = report_xlsx(report, directory / f"{day.isoformat()}-report.xlsx")
    png_path = directory / f"{day.isoformat()}-report-chapters.png"
    png_path.write_bytes(chart_png(report, "chapters"))
    return [csv_path, xlsx_path, png_path]
