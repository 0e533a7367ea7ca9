"""``mrt search``, ``mrt export``, ``mrt report``, ``mrt check``, ``mrt registry``,
``mrt release`` and ``mrt patients``: the master database from the command line."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

out = Console()
err = Console(stderr=True)
patients_app = typer.Typer(no_args_is_help=True, help="Master patient index: duplicates, merge, unmerge, link, show.")
release_app = typer.Typer(no_args_is_help=True, help="Release of information: create a (de-identified) release, list releases.")


def _day(value: Optional[str], name: str) -> Optional[date]:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        err.print(f"[red]{name}: use YYYY-MM-DD (got {value!r}).[/red]")
        raise typer.Exit(2)


def _session():
    from pipeline.store.db import session_scope

    return session_scope()


def _fail(e: Exception) -> None:
    err.print(f"[red]{e}[/red]")
    raise typer.Exit(2)


def write_output(text: str, output: Optional[Path]) -> None:
    """``text`` to the file ``output`` (its folder made), or to standard output."""
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        err.print(f"Wrote {output}")
    else:
        sys.stdout.write(text)


def _supervisor(s, username: str) -> None:
    """Merges and releases from the command line name the supervisor doing them."""
    from sqlalchemy import select

    from pipeline.roles import ROLES, has_role
    from pipeline.store.models import User

    u = s.scalar(select(User).where(User.username == username))
    if u is None or not u.active or u.role not in ROLES or not has_role(u.role, "supervisor"):
        raise PermissionError(f"{username!r} is not an active supervisor or admin account (mrt users list)")


def _query(patient, mrn, date_from, date_to, physician, status, code, exact, text, limit):
    from pipeline.records.search import RecordQuery

    return RecordQuery(
        patient=patient,
        mrn=mrn,
        date_from=_day(date_from, "--from"),
        date_to=_day(date_to, "--to"),
        physician=physician,
        status=status,
        code=code,
        code_exact=exact,
        text=text,
        limit=limit,
    )


PatientOpt = typer.Option(None, "--patient", help="Part of the patient's name")
MrnOpt = typer.Option(None, "--mrn", help="MRN (an old MRN of a merged patient finds the survivor)")
FromOpt = typer.Option(None, "--from", help="Date of service from (YYYY-MM-DD)")
ToOpt = typer.Option(None, "--to", help="Date of service to (YYYY-MM-DD)")
PhysOpt = typer.Option(None, "--physician", help="Part of the physician's name")
StatusOpt = typer.Option(None, "--status", help="coded, pending, finalized, failed, received")
CodeOpt = typer.Option(None, "--code", help="A code, or the start of one: E11 finds E11.22")
ExactOpt = typer.Option(False, "--exact", help="The code exactly, not as a prefix")
TextOpt = typer.Option(None, "--text", help="Words that must all occur in the transcript")


def search(
    patient: Optional[str] = PatientOpt,
    mrn: Optional[str] = MrnOpt,
    date_from: Optional[str] = FromOpt,
    date_to: Optional[str] = ToOpt,
    physician: Optional[str] = PhysOpt,
    status: Optional[str] = StatusOpt,
    code: Optional[str] = CodeOpt,
    exact: bool = ExactOpt,
    text: Optional[str] = TextOpt,
    limit: int = typer.Option(100, help="At most this many records"),
    as_json: bool = typer.Option(False, "--json", help="One JSON object: {records: [...]}"),
) -> None:
    """Find records by patient, MRN, dates, physician, status, code or transcript words."""
    from pipeline.records.records import RecordError
    from pipeline.records.search import search_records

    q = _query(patient, mrn, date_from, date_to, physician, status, code, exact, text, limit)
    try:
        with _session() as s:
            rows = search_records(s, q)
    except RecordError as e:
        _fail(e)
    if as_json:
        sys.stdout.write(json.dumps({"records": [r.to_dict() for r in rows]}, ensure_ascii=False) + "\n")
        return
    table = Table(title=f"{len(rows)} record(s)", title_justify="left")
    for col in ("ID", "Status", "MRN", "Patient", "Service", "Physician", "Type", "Codes"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r.id),
            r.status,
            r.mrn or "",
            r.patient or "",
            r.date_of_service or "",
            r.physician or "",
            r.document_type or "",
            " ".join(r.codes[:8]) + (" …" if len(r.codes) > 8 else ""),
        )
    out.print(table)


def export_cmd(
    ids: Optional[list[int]] = typer.Argument(None, help="Record IDs (or select them with the search options)"),
    fmt: str = typer.Option("json", "--format", "-f", help="json, csv or fhir (FHIR R4 Bundle)"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="File to write (default: standard output)"),
    final_only: bool = typer.Option(False, "--final-only", help="Only final codes (leave provisional ones out)"),
    patient: Optional[str] = PatientOpt,
    mrn: Optional[str] = MrnOpt,
    date_from: Optional[str] = FromOpt,
    date_to: Optional[str] = ToOpt,
    physician: Optional[str] = PhysOpt,
    status: Optional[str] = StatusOpt,
    code: Optional[str] = CodeOpt,
    exact: bool = ExactOpt,
    text: Optional[str] = TextOpt,
) -> None:
    """Export records as JSON, CSV or a validated FHIR R4 Bundle."""
    from pipeline.records.export import export
    from pipeline.records.fhir import FhirValidationError
    from pipeline.records.records import RecordError
    from pipeline.records.search import search_records

    q = _query(patient, mrn, date_from, date_to, physician, status, code, exact, text, 5000)
    if not ids and q.is_empty():
        _fail(ValueError("give record IDs or search options (e.g. --code E11 --from 2026-01-01)"))
    try:
        with _session() as s:
            chosen = list(ids or []) or [r.id for r in search_records(s, q)]
            if not chosen:
                _fail(RecordError("no record matches"))
            text_out, _ = export(s, chosen, fmt, final_only=final_only)
    except (RecordError, FhirValidationError, ValueError) as e:
        _fail(e)
    write_output(text_out, output)


def report(
    date_from: Optional[str] = FromOpt,
    date_to: Optional[str] = ToOpt,
    days: Optional[int] = typer.Option(None, "--days", help="The last N days (instead of --from/--to)"),
    period: str = typer.Option("month", help="day, week or month"),
    top: int = typer.Option(10, help="Top N codes and procedures"),
    include_provisional: bool = typer.Option(False, "--include-provisional", help="Count codes of records not yet finalized too"),
    table: Optional[list[str]] = typer.Option(None, "--table", help="Print only these tables (chapters, categories, codes, ...)"),
    csv_out: Optional[Path] = typer.Option(None, "--csv", help="Write the tables to this CSV file"),
    xlsx_out: Optional[Path] = typer.Option(None, "--xlsx", help="Write the tables to this XLSX workbook"),
    chart: Optional[Path] = typer.Option(None, "--chart", help="Write a PNG chart (records by CM chapter) here"),
    as_json: bool = typer.Option(False, "--json", help="The report as JSON"),
) -> None:
    """Statistical report: codes by chapter/category/code, procedures, physicians, settings, periods, turnaround, productivity."""
    from pipeline.records.report_files import print_report, report_csv, report_xlsx
    from pipeline.records.reports import build_report, last_days

    start, end = last_days(days) if days else (_day(date_from, "--from"), _day(date_to, "--to"))
    try:
        with _session() as s:
            rep = build_report(s, start, end, period=period, top=top, include_provisional=include_provisional)
    except ValueError as e:
        _fail(e)
    if csv_out:
        write_output(report_csv(rep), csv_out)
    if xlsx_out:
        report_xlsx(rep, xlsx_out)
        err.print(f"Wrote {xlsx_out}")
    if chart:
        from pipeline.records.charts import chart_png

        chart.parent.mkdir(parents=True, exist_ok=True)
        chart.write_bytes(chart_png(rep, "chapters"))
        err.print(f"Wrote {chart}")
    if as_json:
        sys.stdout.write(json.dumps(rep.to_dict(), ensure_ascii=False) + "\n")
    else:
        print_report(rep, out, table)


def check(
    ids: Optional[list[int]] = typer.Argument(None, help="Record IDs (default: every coded, pending or finalized record)"),
    incomplete: bool = typer.Option(False, "--incomplete", help="List only records missing something"),
    csv_out: Optional[Path] = typer.Option(None, "--csv", help="Write the deviations report as CSV"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Completeness check: required elements and unresolved coding edits; deviations by physician."""
    import csv
    import io

    from pipeline.records.completeness import ELEMENTS, check_records, deviations_by_physician, element_counts
    from pipeline.records.records import csv_safe

    with _session() as s:
        checks = check_records(s, ids or None, only_incomplete=incomplete)
    if as_json:
        sys.stdout.write(json.dumps({"records": [c.to_dict() for c in checks], "missing": element_counts(checks)}) + "\n")
        return
    if csv_out:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["physician", "record_id", "status", "mrn", "date_of_service", "missing", "details"])
        for doc, rows in deviations_by_physician(checks).items():
            for c in rows:
                w.writerow(
                    [
                        csv_safe(x)
                        for x in (
                            doc,
                            c.id,
                            c.status,
                            c.mrn or "",
                            c.date_of_service or "",
                            " ".join(c.missing),
                            "; ".join(f"{k}: {v}" for k, v in c.details.items()),
                        )
                    ]
                )
        write_output(buf.getvalue(), csv_out)
    counts = element_counts(checks)
    out.print(
        f"[bold]{len(checks)} record(s) checked[/bold], {sum(1 for c in checks if c.missing)} incomplete. Missing: "
        + ", ".join(f"{e} {counts[e]}" for e in ELEMENTS if counts[e])
    )
    for doc, rows in deviations_by_physician(checks).items():
        t = Table(title=f"Deviations: {doc}", title_justify="left")
        for col in ("ID", "Status", "MRN", "Service", "Missing"):
            t.add_column(col)
        for c in rows:
            t.add_row(str(c.id), c.status, c.mrn or "", c.date_of_service or "", ", ".join(c.missing))
        out.print(t)


def registry(
    csv_out: Optional[Path] = typer.Option(None, "--csv", help="Write the cases as CSV"),
    no_review: bool = typer.Option(False, "--no-review", help="Leave out codes that are usually not reportable (C44, D04, D06)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Cancer registry case finding: malignant, in situ, benign/uncertain CNS and reportable hematopoietic neoplasms."""
    from pipeline.records.registry import cases_csv, find_cases

    with _session() as s:
        cases = find_cases(s, include_review=not no_review)
    if csv_out:
        write_output(cases_csv(cases), csv_out)
    if as_json:
        sys.stdout.write(json.dumps({"cases": [c.to_dict() for c in cases]}, ensure_ascii=False) + "\n")
        return
    t = Table(title=f"{len(cases)} reportable neoplasm code(s)", title_justify="left")
    for col in ("Record", "MRN", "Patient", "Service", "Code", "Class", "Final", "Evidence"):
        t.add_column(col)
    for c in cases:
        t.add_row(
            str(c.record_id),
            c.mrn or "",
            c.patient or "",
            c.date_of_service or "",
            c.code,
            c.kind,
            "yes" if c.final else "no",
            c.evidence[:60],
        )
    out.print(t)


@release_app.command("create")
def release_create(
    ids: list[int] = typer.Argument(..., help="Record IDs to release"),
    recipient: str = typer.Option(..., "--to", help="To whom"),
    purpose: str = typer.Option(..., "--purpose", help="Why (e.g. research, quality review, legal request)"),
    by: str = typer.Option(..., "--by", help="The supervisor releasing them (user name)"),
    fmt: str = typer.Option("json", "--format", "-f", help="json, csv or fhir"),
    identified: bool = typer.Option(False, "--identified", help="Release with identifiers (default: de-identified)"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="File to write (default: the release's file name here)"),
) -> None:
    """Release records (de-identified unless --identified); the release is recorded and audited."""
    from pipeline.records.fhir import FhirValidationError
    from pipeline.records.records import RecordError
    from pipeline.records.release import archive_dir, release
    from pipeline.settings import get_settings

    try:
        with _session() as s:
            _supervisor(s, by)
            r = release(
                s,
                ids,
                actor=by,
                recipient=recipient,
                purpose=purpose,
                fmt=fmt,
                deidentify=not identified,
                archive=archive_dir(get_settings()),
            )
            path = output or Path(r.row.file_name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(r.content, encoding="utf-8")  # in the transaction: no file, no release row
    except (RecordError, FhirValidationError, PermissionError, OSError) as e:
        _fail(e)
    out.print(
        f"Release {r.row.id}: {r.row.record_count} record(s) to {recipient} ({'de-identified' if not identified else 'identified'}, "
        f"{fmt}) written to {path}; sha256 {r.row.sha256[:16]}…"
    )
    if r.replaced:
        out.print("Replaced: " + ", ".join(f"{k} {v}" for k, v in sorted(r.replaced.items())))


@release_app.command("list")
def release_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Releases made, newest first."""
    from pipeline.records.release import releases

    with _session() as s:
        rows: list[dict[str, Any]] = [
            {
                "id": r.id,
                "at": r.released_at.isoformat(),
                "by": r.released_by,
                "to": r.recipient,
                "purpose": r.purpose,
                "format": r.format,
                "deidentified": r.deidentified,
                "records": r.dictation_ids,
                "sha256": r.sha256,
            }
            for r in releases(s)
        ]
    if as_json:
        sys.stdout.write(json.dumps({"releases": rows}) + "\n")
        return
    t = Table(title="Releases of information", title_justify="left")
    for col in ("ID", "When", "By", "To", "Purpose", "Format", "De-identified", "Records"):
        t.add_column(col)
    for r in rows:
        t.add_row(
            str(r["id"]),
            r["at"][:16],
            r["by"],
            r["to"],
            r["purpose"],
            r["format"],
            "yes" if r["deidentified"] else "NO",
            " ".join(map(str, r["records"])),
        )
    out.print(t)


@patients_app.command("duplicates")
def patients_duplicates(
    min_score: float = typer.Option(0.6, help="Lowest score shown (0-1)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Likely duplicate patients (same MRN, or alike names and birth dates), best first."""
    from pipeline.records.mpi import find_duplicates

    with _session() as s:
        pairs = find_duplicates(s, min_score)
    if as_json:
        sys.stdout.write(json.dumps({"pairs": [p.to_dict() for p in pairs]}) + "\n")
        return
    t = Table(title=f"{len(pairs)} likely duplicate pair(s)", title_justify="left")
    for col in ("Score", "A", "B", "Reasons"):
        t.add_column(col)
    for p in pairs:
        fmt = lambda x: f"{x['id']} {x['mrn'] or ''} {x['name'] or ''} {x['birth_date'] or ''} {x['sex'] or ''}"  # noqa: E731
        t.add_row(f"{p.score:.2f}", fmt(p.a), fmt(p.b), "; ".join(p.reasons))
    out.print(t)


@patients_app.command("merge")
def patients_merge(
    survivor: int = typer.Argument(..., help="Patient ID that keeps the records"),
    duplicate: int = typer.Argument(..., help="Patient ID merged into it (kept, marked merged)"),
    by: str = typer.Option(..., "--by", help="The supervisor merging (user name)"),
    reason: str = typer.Option("", "--reason"),
) -> None:
    """Merge a duplicate patient into the survivor (reversible with `mrt patients unmerge`)."""
    from pipeline.records.mpi import merge
    from pipeline.records.records import RecordError

    try:
        with _session() as s:
            _supervisor(s, by)
            m = merge(s, survivor, duplicate, by, reason)
            assert m.moved is not None  # merge() records what it moved
            moved = len(m.moved["encounters"])
    except (RecordError, PermissionError) as e:
        _fail(e)
    out.print(f"Merge {m.id}: patient {duplicate} merged into {survivor}; {moved} encounter(s) moved.")


@patients_app.command("unmerge")
def patients_unmerge(merge_id: int, by: str = typer.Option(..., "--by", help="The supervisor (user name)")) -> None:
    """Undo a merge: the encounters go back to the duplicate patient."""
    from pipeline.records.mpi import unmerge
    from pipeline.records.records import RecordError

    try:
        with _session() as s:
            _supervisor(s, by)
            m = unmerge(s, merge_id, by)
    except (RecordError, PermissionError) as e:
        _fail(e)
    out.print(f"Merge {merge_id} undone: patient {m.merged_id} has its records back.")


@patients_app.command("link")
def patients_link(record_id: int, patient_id: int, by: str = typer.Option(..., "--by", help="Who links it (user name)")) -> None:
    """File a record under a patient."""
    from pipeline.records.mpi import link_record
    from pipeline.records.records import RecordError

    try:
        with _session() as s:
            link_record(s, record_id, patient_id, by)
    except RecordError as e:
        _fail(e)
    out.print(f"Record {record_id} filed under patient {patient_id}.")


@patients_app.command("show")
def patients_show(patient_id: int) -> None:
    """A patient, its records and merges."""
    from pipeline.records.mpi import patient_view
    from pipeline.records.records import RecordError

    try:
        with _session() as s:
            v = patient_view(s, patient_id)
            p = v["patient"]
            out.print(
                f"[bold]Patient {p.id}[/bold] MRN {p.mrn or '-'}  {p.name or '-'}  born {p.birth_date or '-'}  sex {p.sex or '-'}"
                + (f"  [yellow]merged into {v['merged_into']}[/yellow]" if v["merged_into"] else "")
            )
            for d in v["records"]:
                out.print(
                    f"  record {d.id}  {d.status}  {d.encounter.date_of_service or ''}  {d.encounter.physician or ''}  {d.document_type or ''}"
                )
            for m in v["merges"]:
                out.print(
                    f"  merge {m.id}: {m.merged_id} -> {m.survivor_id} by {m.actor} {m.at:%Y-%m-%d}"
                    + (" (undone)" if m.undone_at else "")
                )
    except RecordError as e:
        _fail(e)


def register(app: typer.Typer) -> None:
    app.command("search")(search)
    app.command("export")(export_cmd)
    app.command("report")(report)
    app.command("check")(check)
    app.command("registry")(registry)
    app.add_typer(release_app, name="release")
    app.add_typer(patients_app, name="patients")
