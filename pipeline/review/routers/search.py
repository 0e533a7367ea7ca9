"""Record search (patient, MRN, dates, physician, status, code, words) and exports of the records
found or of one record (JSON, CSV, FHIR), each export audited per record."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session

from pipeline.records import export, search
from pipeline.records.fhir import FhirValidationError
from pipeline.records.records import RecordError
from pipeline.review.dependencies import RecordId, db_session, require_coder
from pipeline.review.responses import DOWNLOAD_TYPES, download, page, query_day, wants_json
from pipeline.store.audit import record as audit

router = APIRouter()


def parse_query(request: Request) -> search.RecordQuery:
    q = request.query_params
    return search.RecordQuery(
        patient=q.get("patient") or None,
        mrn=q.get("mrn") or None,
        date_from=query_day(request, "from"),
        date_to=query_day(request, "to"),
        physician=q.get("physician") or None,
        status=q.get("status") or None,
        code=q.get("code") or None,
        code_exact=q.get("exact") == "1",
        text=q.get("text") or None,
        limit=200,
    )


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, user=Depends(require_coder), s: Session = Depends(db_session)) -> Response:
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
    return page(
        request,
        "search.html",
        user,
        q=q,
        rows=rows,
        searched=not q.is_empty(),
        qs=qs,
        error=error or request.query_params.get("error"),
        statuses=search.STATUSES,
    )


@router.get("/api/search")
def search_api(request: Request, user=Depends(require_coder), s: Session = Depends(db_session)) -> Response:
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
    return download(text, media, f"{name}.{ext}")


@router.get("/search/export")
def search_export(request: Request, user=Depends(require_coder), s: Session = Depends(db_session)) -> Response:
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
    return export_response(
        s, user, ids, request.query_params.get("format", "csv"), "records", request.query_params.get("final") == "1"
    )


@router.get("/records/{rid}/export")
def record_export(rid: RecordId, request: Request, user=Depends(require_coder), s: Session = Depends(db_session)) -> Response:
    return export_response(
        s, user, [rid], request.query_params.get("format", "json"), f"record-{rid}", request.query_params.get("final") == "1"
    )
