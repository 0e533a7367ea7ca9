"""The records pages of the review app: search, patient index and merges, exports, the
statistical report with its charts, the deviations report, registry case finding and
release of information. Each page has a JSON twin (``Accept: application/json``)."""

from __future__ import annotations

from datetime import date
from typing import Callable
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.records import completeness, export, mpi, registry, release, reports, search
from pipeline.records.fhir import FhirValidationError
from pipeline.records.records import RecordError
from pipeline.review.audit import record as audit
from pipeline.review.guards import RecordId, RowId, editable_record
from pipeline.review.worklist import ClaimError
from pipeline.store.models import Dictation, Patient

DOWNLOAD_TYPES = {"json": ("application/json", "json"), "csv": ("text/csv; charset=utf-8", "csv"),
                  "fhir": ("application/fhir+json", "fhir.json")}


def _day(request: Request, name: str) -> date | None:
    v = request.query_params.get(name)
    try:
        return date.fromisoformat(v) if v else None
    except ValueError:
        raise HTTPException(400, f"{name}: use YYYY-MM-DD")


def _download(content: str | bytes, media_type: str, filename: str) -> Response:
    return Response(content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def register_records_routes(app: FastAPI) -> None:  # noqa: C901 - one place that lists the records routes
    from pipeline.review.app import back, role_dependency, wants_json

    settings = app.state.settings
    templates = app.state.templates
    db: Callable = app.state.db
    current_user: Callable = app.state.current_user

    coder, supervisor = role_dependency(current_user, "coder"), role_dependency(current_user, "supervisor")
    # filing a record under another patient: its claim holder's action, or a supervisor's
    linkable = editable_record(coder, db, settings, supervisor_may=True)

    def page(request: Request, name: str, user, **ctx) -> HTMLResponse:
        ctx.setdefault("msg", request.query_params.get("msg"))
        ctx.setdefault("error", request.query_params.get("error"))
        return templates.TemplateResponse(request, name, {"user": user, **ctx})

    def refused(request: Request, s: Session, e: Exception, to: str) -> Response:
        s.rollback()
        if wants_json(request):
            return JSONResponse({"ok": False, "error": str(e)}, status_code=404 if isinstance(e, LookupError) else 409)
        return back(to, error=str(e))

    def done(request: Request, s: Session, msg: str, to: str, payload: dict | None = None) -> Response:
        s.commit()
        if wants_json(request):
            return JSONResponse({"ok": True, "message": msg, **(payload or {})})
        return back(to, msg=msg)

    # ---------------------------------------------------------------- search and export
    def parse_query(request: Request) -> search.RecordQuery:
        q = request.query_params
        return search.RecordQuery(
            patient=q.get("patient") or None, mrn=q.get("mrn") or None, date_from=_day(request, "from"), date_to=_day(request, "to"),
            physician=q.get("physician") or None, status=q.get("status") or None, code=q.get("code") or None,
            code_exact=q.get("exact") == "1", text=q.get("text") or None, limit=200,
        )

    @app.get("/search", response_class=HTMLResponse)
    def search_page(request: Request, user=Depends(coder), s: Session = Depends(db)) -> Response:
        q = parse_query(request)
        rows, error = [], None
        if not q.is_empty():
            try:
                rows = search.search_records(s, q)
            except RecordError as e:
                error = str(e)
        if wants_json(request):
            if error:
                return JSONResponse({"ok": False, "error": error}, status_code=400)
            return JSONResponse({"records": [r.to_dict() for r in rows]})
        qs = urlencode({k: v for k, v in request.query_params.items() if k != "format" and v})
        return page(request, "search.html", user, q=q, rows=rows, searched=not q.is_empty(), qs=qs, error=error or request.query_params.get("error"),
                    statuses=search.STATUSES)

    @app.get("/api/search")
    def search_api(request: Request, user=Depends(coder), s: Session = Depends(db)) -> Response:
        try:
            return JSONResponse({"records": [r.to_dict() for r in search.search_records(s, parse_query(request))]})
        except RecordError as e:
            return JSONResponse({"ok": False, "error": str(e)}, status_code=400)

    def export_response(s: Session, user, ids: list[int], fmt: str, name: str, final_only: bool) -> Response:
        if fmt not in DOWNLOAD_TYPES:
            raise HTTPException(400, "format must be json, csv or fhir")
        try:
            text, _ = export.export(s, ids, fmt, final_only=final_only)
        except (RecordError, FhirValidationError) as e:
            raise HTTPException(409, str(e))
        for rid in ids:
            audit(s, user.username, "export", dictation_id=rid, after={"format": fmt, "records": len(ids)})
        s.commit()
        media, ext = DOWNLOAD_TYPES[fmt]
        return _download(text, media, f"{name}.{ext}")

    @app.get("/search/export")
    def search_export(request: Request, user=Depends(coder), s: Session = Depends(db)) -> Response:
        q = parse_query(request)
        if q.is_empty():
            raise HTTPException(400, "search for something first")
        q.limit = 5000
        try:
            ids = [r.id for r in search.search_records(s, q)]
        except RecordError as e:
            raise HTTPException(400, str(e))
        if not ids:
            raise HTTPException(404, "no record matches")
        return export_response(s, user, ids, request.query_params.get("format", "csv"), "records", request.query_params.get("final") == "1")

    @app.get("/records/{rid}/export")
    def record_export(rid: RecordId, request: Request, user=Depends(coder), s: Session = Depends(db)) -> Response:
        return export_response(s, user, [rid], request.query_params.get("format", "json"), f"record-{rid}", request.query_params.get("final") == "1")

    # ---------------------------------------------------------------- patient index
    @app.get("/patients", response_class=HTMLResponse)
    def patients_page(request: Request, user=Depends(supervisor), s: Session = Depends(db)) -> Response:
        try:
            min_score = float(request.query_params.get("min", mpi.MIN_SCORE))
        except ValueError:
            raise HTTPException(400, "min: a number from 0 to 1")
        pairs = mpi.find_duplicates(s, min_score)
        if wants_json(request):
            return JSONResponse({"pairs": [p.to_dict() for p in pairs]})
        return page(request, "patients.html", user, pairs=pairs, merges=mpi.merges(s), min_score=min_score)

    @app.get("/patients/{pid}", response_class=HTMLResponse)
    def patient_page(pid: RowId, request: Request, user=Depends(coder), s: Session = Depends(db)) -> Response:
        try:
            view = mpi.patient_view(s, pid)
        except RecordError as e:
            raise HTTPException(404, str(e))
        if wants_json(request):
            p = view["patient"]
            born = p.birth_date.isoformat() if p.birth_date else None
            return JSONResponse({"patient": {"id": p.id, "mrn": p.mrn, "name": p.name, "birth_date": born, "sex": p.sex},
                                 "merged_into": view["merged_into"],
                                 "records": [{"id": d.id, "status": d.status} for d in view["records"]],
                                 "merges": [{"id": m.id, "survivor_id": m.survivor_id, "merged_id": m.merged_id, "undone": m.undone_at is not None}
                                            for m in view["merges"]]})
        dups = [p for p in mpi.find_duplicates(s) if pid in (p.patient_a, p.patient_b)] if user.has_role("supervisor") else []
        return page(request, "patient.html", user, **view, dups=dups)

    @app.post("/patients/merge")
    async def patients_merge(request: Request, user=Depends(supervisor), s: Session = Depends(db)) -> Response:
        form = await request.form()
        try:
            survivor, duplicate = int(form.get("survivor", "")), int(form.get("duplicate", ""))
        except ValueError:
            return refused(request, s, RecordError("choose the surviving and the duplicate patient"), "/patients")
        try:
            m = mpi.merge(s, survivor, duplicate, user.username, str(form.get("reason", "")).strip())
        except RecordError as e:
            return refused(request, s, e, "/patients")
        return done(request, s, f"Patient {duplicate} merged into {survivor} ({len(m.moved['encounters'])} encounter(s) moved).",
                    f"/patients/{survivor}", {"merge_id": m.id})

    @app.post("/patients/merges/{mid}/undo")
    async def patients_unmerge(mid: RowId, request: Request, user=Depends(supervisor), s: Session = Depends(db)) -> Response:
        try:
            m = mpi.unmerge(s, mid, user.username)
        except RecordError as e:
            return refused(request, s, e, "/patients")
        return done(request, s, f"Merge {mid} undone.", f"/patients/{m.merged_id}")

    @app.get("/records/{rid}/link", response_class=HTMLResponse)
    def link_page(rid: RecordId, request: Request, user=Depends(coder), s: Session = Depends(db)) -> Response:
        return page(request, "link.html", user, rid=rid)

    @app.post("/records/{rid}/link")
    async def link_record(rid: RecordId, request: Request, user=Depends(coder), s: Session = Depends(db),
                          d: Dictation = Depends(linkable)) -> Response:
        form = await request.form()
        mrn = str(form.get("mrn", "")).strip()
        wanted = mpi.normalize_mrn(mrn)
        pid = next((p.id for p in s.scalars(select(Patient)) if wanted and mpi.normalize_mrn(p.mrn) == wanted), None)
        try:
            if pid is None:
                raise RecordError(f"no patient with MRN {mrn!r}")
            d = mpi.link_record(s, rid, pid, user.username, actor_id=user.id, supervisor=user.has_role("supervisor"))
        except RecordError as e:
            return refused(request, s, e, f"/records/{rid}/link")
        return done(request, s, f"Record {rid} filed under patient {d.encounter.patient_id}.", f"/records/{rid}")

    # ---------------------------------------------------------------- reports
    def parse_report(request: Request) -> dict:
        q = request.query_params
        try:
            top = max(1, min(int(q.get("top") or 10), 100))
        except ValueError:
            raise HTTPException(400, "top: a whole number")
        return dict(start=_day(request, "from"), end=_day(request, "to"), period=q.get("period") or "month", top=top,
                    include_provisional=q.get("provisional") == "1")

    def build(s: Session, request: Request) -> reports.Report:
        try:
            return reports.build_report(s, **parse_report(request))
        except ValueError as e:
            raise HTTPException(400, str(e))

    @app.get("/reports", response_class=HTMLResponse)
    def report_page(request: Request, user=Depends(supervisor), s: Session = Depends(db)) -> Response:
        rep = build(s, request)
        if wants_json(request):
            return JSONResponse(rep.to_dict())
        qs = urlencode({k: v for k, v in request.query_params.items() if v})
        return page(request, "report.html", user, rep=rep, qs=qs, args=request.query_params, periods=reports.PERIODS,
                    charts=["chapters", "codes", "periods", "physicians"])

    @app.get("/reports/chart/{kind}.png")
    def report_chart(kind: str, request: Request, user=Depends(supervisor), s: Session = Depends(db)) -> Response:
        from pipeline.records.charts import CHARTS, chart_png

        if kind not in CHARTS:
            raise HTTPException(404, "no such chart")
        return Response(chart_png(build(s, request), kind), media_type="image/png")

    @app.get("/reports/report.{ext}")
    def report_download(ext: str, request: Request, user=Depends(supervisor), s: Session = Depends(db)) -> Response:
        from pipeline.records.report_files import report_csv, report_xlsx

        rep = build(s, request)
        if ext == "csv":
            return _download(report_csv(rep), "text/csv; charset=utf-8", "report.csv")
        if ext == "xlsx":
            import tempfile
            from pathlib import Path

            with tempfile.TemporaryDirectory() as tmp:
                data = report_xlsx(rep, Path(tmp) / "report.xlsx").read_bytes()
            return _download(data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "report.xlsx")
        raise HTTPException(404, "report.csv or report.xlsx")

    @app.get("/reports/deviations", response_class=HTMLResponse)
    def deviations_page(request: Request, user=Depends(coder), s: Session = Depends(db)) -> Response:
        checks = completeness.check_records(s)
        s.rollback()
        groups = completeness.deviations_by_physician(checks)
        if wants_json(request):
            return JSONResponse({"records": [c.to_dict() for c in checks], "missing": completeness.element_counts(checks)})
        return page(request, "deviations.html", user, groups=groups, checked=len(checks), counts=completeness.element_counts(checks),
                    elements=completeness.ELEMENTS)

    # ---------------------------------------------------------------- cancer registry
    @app.get("/registry", response_class=HTMLResponse)
    def registry_page(request: Request, user=Depends(coder), s: Session = Depends(db)) -> Response:
        cases = registry.find_cases(s, include_review=request.query_params.get("review") != "0")
        if request.query_params.get("format") == "csv":
            return _download(registry.cases_csv(cases), "text/csv; charset=utf-8", "registry-cases.csv")
        if wants_json(request):
            return JSONResponse({"cases": [c.to_dict() for c in cases]})
        return page(request, "registry.html", user, cases=cases)

    # ---------------------------------------------------------------- release of information
    @app.get("/releases", response_class=HTMLResponse)
    def releases_page(request: Request, user=Depends(supervisor), s: Session = Depends(db)) -> Response:
        rows = release.releases(s)
        if wants_json(request):
            return JSONResponse({"releases": [{"id": r.id, "at": r.released_at.isoformat(), "by": r.released_by, "to": r.recipient,
                                               "purpose": r.purpose, "format": r.format, "deidentified": r.deidentified,
                                               "records": r.dictation_ids, "sha256": r.sha256} for r in rows]})
        return page(request, "releases.html", user, rows=rows, ids=request.query_params.get("ids", ""))

    @app.post("/releases")
    async def releases_create(request: Request, user=Depends(supervisor), s: Session = Depends(db)) -> Response:
        form = await request.form()
        try:
            ids = [int(x) for x in str(form.get("ids", "")).replace(",", " ").split()]
        except ValueError:
            return refused(request, s, RecordError("record IDs: whole numbers separated by spaces or commas"), "/releases")
        try:
            r = release.release(s, ids, actor=user.username, recipient=str(form.get("recipient", "")), purpose=str(form.get("purpose", "")),
                                fmt=str(form.get("format", "json")), deidentify=form.get("identified") != "1",
                                archive=release.archive_dir(settings))
        except (RecordError, FhirValidationError) as e:
            return refused(request, s, e, "/releases?" + urlencode({"ids": str(form.get("ids", ""))}))
        return done(request, s, f"Release {r.row.id} recorded: {len(ids)} record(s) to {r.row.recipient}.", "/releases",
                    {"release_id": r.row.id, "file": f"/releases/{r.row.id}/download"})

    @app.get("/releases/{release_id}/download")
    def releases_download(release_id: RowId, user=Depends(supervisor), s: Session = Depends(db)) -> Response:
        from pipeline.store.models import ReleaseOfInformation

        row = s.get(ReleaseOfInformation, release_id)
        if row is None:
            raise HTTPException(404, f"no release {release_id}")
        try:
            path = release.archived_file(settings, row)
        except RecordError as e:
            raise HTTPException(404, str(e))
        media, _ = DOWNLOAD_TYPES[row.format]
        return FileResponse(path, media_type=media, filename=row.file_name)
