"""The inpatient claim in the review app: the record screen's claim panel (a template global the
``claim_panel.html`` partial calls), one JSON route with the DRG, what-if, HCCs and CDI queries,
the abstract form, asking and answering a CDI query, the claim export, and the supervisors'
claim report. The claim itself is :mod:`pipeline.claim`."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload

from pipeline.claim import cdi_tracking
from pipeline.claim.abstract import AbstractError, parse_abstract, ub04_codes
from pipeline.claim.claim_export import ClaimExportError, claim_resource, ub04_csv
from pipeline.claim.record import claim_json, record_claim, record_what_if, save_abstract
from pipeline.claim.reports import claim_report
from pipeline.review.dependencies import RecordId, RowId, db_session, editable_record, require_coder, require_supervisor
from pipeline.review.responses import done, refused
from pipeline.review.worklist import ClaimError
from pipeline.store.models import Dictation, DictationStatus, Encounter

log = logging.getLogger(__name__)
router = APIRouter()


def _what_if_args(request: Request) -> tuple[str | None, tuple[str, ...]]:
    q = request.query_params
    principal = (q.get("whatif_principal") or q.get("principal") or "").strip()[:10] or None
    remove = tuple(c.strip()[:10] for c in (q.get("whatif_remove") or q.get("remove") or "").split(",") if c.strip())[:20]
    return principal, remove


def claim_panel(d: Dictation, request: Request) -> dict:
    """The claim panel's context for the record screen (called from claim_panel.html)."""
    s = object_session(d)
    if s is None:
        return {"rc": None}
    try:
        rc = record_claim(s, d)
        principal, remove = _what_if_args(request)
        wi = record_what_if(rc, principal, remove)
    except Exception:  # noqa: BLE001 - the record screen must still show; the panel says it failed
        log.warning("claim panel failed for record %s", d.id, exc_info=True)
        return {"rc": None, "failed": True}
    asked = cdi_tracking.records_for(s, d.id)
    return {
        "rc": rc,
        "what_if": wi,
        "codes": ub04_codes(),
        "asked": asked,
        "wi_principal": principal or "",
        "wi_remove": ",".join(remove),
    }


def _load(s: Session, rid: int) -> Dictation:
    d = s.scalar(
        select(Dictation)
        .where(Dictation.id == rid)
        .options(
            selectinload(Dictation.transcript),
            selectinload(Dictation.proposals),
            selectinload(Dictation.encounter).selectinload(Encounter.patient),
        )
    )
    if d is None or d.status in (DictationStatus.RECEIVED, DictationStatus.FAILED):
        raise HTTPException(404, f"no record {rid}")
    return d


def _finish(request: Request, s: Session, rid: int, msg: str, error: bool = False, status: int = 200) -> Response:
    if error:
        return refused(request, s, msg, f"/records/{rid}", status)
    return done(request, s, msg, f"/records/{rid}")


@router.get("/api/records/{rid}/claim")
def claim_api(rid: RecordId, request: Request, user=Depends(require_coder), s: Session = Depends(db_session)) -> dict:
    d = _load(s, rid)
    rc = record_claim(s, d)
    principal, remove = _what_if_args(request)
    out = claim_json(rc, record_what_if(rc, principal, remove))
    s.rollback()
    return out


@router.post("/records/{rid}/abstract")
async def abstract_save(
    rid: RecordId,
    request: Request,
    user=Depends(require_coder),
    s: Session = Depends(db_session),
    d: Dictation = Depends(editable_record),
) -> Response:
    form = await request.form()
    data: dict[str, Any] = {
        k: str(form.get(k, ""))
        for k in (
            "admission_date",
            "discharge_date",
            "admission_type",
            "admission_source",
            "discharge_status",
            "service",
            "principal_procedure",
        )
    }
    data = {k: v for k, v in data.items() if v.strip()}
    data["poa"] = {k[4:]: str(v) for k, v in form.items() if k.startswith("poa_") and str(v).strip()}
    data["procedure_dates"] = {k[5:]: str(v) for k, v in form.items() if k.startswith("date_") and str(v).strip()}
    try:
        fields = parse_abstract(data, "abstract")
        save_abstract(s, d, fields, user.username)
    except (AbstractError, ClaimError) as e:
        return _finish(request, s, rid, str(e), error=True, status=409)
    return _finish(request, s, rid, "Abstract saved.")


@router.post("/records/{rid}/cdi")
async def cdi_ask(
    rid: RecordId,
    request: Request,
    user=Depends(require_coder),
    s: Session = Depends(db_session),
    d: Dictation = Depends(editable_record),
) -> Response:
    form = await request.form()
    kind = str(form.get("kind", ""))
    try:
        rc = record_claim(s, d)
        sug = next((q for q in rc.queries if q.kind.value == kind), None)
        if sug is None:
            raise cdi_tracking.CdiError("that query is not suggested for this record now")
        q = cdi_tracking.ask(s, d, user.id, user.username, sug)
    except (cdi_tracking.CdiError, ClaimError) as e:
        return _finish(request, s, rid, str(e), error=True, status=409)
    return _finish(request, s, rid, f"CDI query {q.id} sent.")


@router.post("/records/{rid}/cdi/{qid}/answer")
async def cdi_answer(
    rid: RecordId,
    qid: RowId,
    request: Request,
    user=Depends(require_coder),
    s: Session = Depends(db_session),
    d: Dictation = Depends(editable_record),
) -> Response:
    form = await request.form()
    try:
        option = int(str(form.get("option", "")))
        cdi_tracking.answer(s, d, user.username, qid, option)
    except ValueError as e:
        return _finish(
            request, s, rid, str(e) if isinstance(e, cdi_tracking.CdiError) else "choose an option", error=True, status=409
        )
    except (LookupError, ClaimError) as e:
        return _finish(request, s, rid, str(e).strip("'\""), error=True, status=404 if isinstance(e, LookupError) else 409)
    return _finish(request, s, rid, f"Answer to query {qid} recorded.")


@router.get("/records/{rid}/claim.{fmt}")
def claim_export(rid: RecordId, fmt: str, user=Depends(require_coder), s: Session = Depends(db_session)) -> Response:
    if fmt not in ("fhir.json", "ub04.csv"):
        raise HTTPException(404, "claim formats: fhir.json, ub04.csv")
    d = _load(s, rid)
    try:
        if fmt == "fhir.json":
            body = json.dumps(claim_resource(s, d), indent=2, ensure_ascii=False) + "\n"
            resp: Response = Response(body, media_type="application/fhir+json")
        else:
            resp = PlainTextResponse(ub04_csv(s, [d]), media_type="text/csv")
    except ClaimExportError as e:
        raise HTTPException(409, str(e)) from None
    resp.headers["Content-Disposition"] = f'attachment; filename="claim-{rid}.{fmt}"'
    s.rollback()
    return resp


@router.get("/reports/claims", response_class=HTMLResponse)
def claims_report_page(request: Request, user=Depends(require_supervisor), s: Session = Depends(db_session)) -> Response:
    rep = claim_report(s)
    s.rollback()
    return request.app.state.templates.TemplateResponse(
        request, "claim_report.html", {"user": user, "rep": rep, "msg": None, "error": None}
    )


@router.get("/api/reports/claims")
def claims_report_api(user=Depends(require_supervisor), s: Session = Depends(db_session)) -> dict:
    rep = claim_report(s)
    s.rollback()
    return asdict(rep)
