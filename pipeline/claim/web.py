"""The review app's claim routes (added to the app by ``register_claim_routes``; no existing route
changes): the record screen's claim panel (a template global the ``claim_panel.html`` partial
calls), one JSON route with the DRG, what-if, HCCs and CDI queries, the abstract form, asking and
answering a CDI query, the claim export, and the supervisors' claim report.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Callable

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload

from pipeline.claim import cdi_tracking
from pipeline.claim.abstract import AbstractError, parse_abstract, ub04_codes
from pipeline.claim.claim_export import ClaimExportError, claim_resource, ub04_csv
from pipeline.claim.record import RecordClaim, record_claim, record_what_if, save_abstract
from pipeline.claim.reports import claim_report
from pipeline.review.guards import RecordId, RowId, editable_record
from pipeline.store.models import Dictation, DictationStatus, Encounter

log = logging.getLogger(__name__)


def _what_if_args(request: Request) -> tuple[str | None, tuple[str, ...]]:
    q = request.query_params
    principal = (q.get("whatif_principal") or q.get("principal") or "").strip()[:10] or None
    remove = tuple(c.strip()[:10] for c in (q.get("whatif_remove") or q.get("remove") or "").split(",") if c.strip())[:20]
    return principal, remove


def claim_json(rc: RecordClaim, what_if=None) -> dict:
    def drg(r):
        return None if r is None else {
            "drg": r.drg, "title": r.drg_title, "mdc": r.mdc, "mdc_title": r.mdc_title, "weight": r.weight, "gmlos": r.gmlos,
            "severity": r.severity, "drivers": [asdict(x) for x in r.drivers], "cc_mcc": [list(x) for x in r.cc_mcc_codes],
            "return_code": r.return_code, "hac_codes": list(r.hac_codes), "grouper": r.grouper,
        }

    a = rc.abstract
    return {
        "id": rc.dictation_id, "inpatient": rc.inpatient, "drg": drg(rc.drg),
        "abstract": {
            "admission_date": a.admission_date.isoformat() if a.admission_date else None,
            "discharge_date": a.discharge_date.isoformat() if a.discharge_date else None,
            "admission_type": a.admission_type, "admission_source": a.admission_source, "discharge_status": a.discharge_status,
            "service": a.service, "length_of_stay": a.length_of_stay, "source": a.source, "missing": list(a.missing()),
            "diagnoses": [{"code": x.code, "poa": x.poa.value if x.poa else None, "confirmed": x.poa_confirmed, "principal": x.principal}
                          for x in a.diagnoses],
            "procedures": [{"code": p.code, "date": p.performed_on.isoformat() if p.performed_on else None, "principal": p.principal}
                           for p in a.procedures],
        },
        "poa_proposals": [{"code": p.code, "indicator": p.indicator.value if p.indicator else None, "reason": p.reason} for p in rc.poa],
        "hcc": {"model": rc.hcc.model, "risk_score": rc.hcc.risk_score,
                "categories": [asdict(c) for c in rc.hcc.categories], "codes": {k: list(v) for k, v in rc.hcc_codes.items()}},
        "queries": [{"kind": q.kind.value, "target_code": q.target_code, "topic": q.topic, "indicators": list(q.indicators),
                     "question": q.question, "changes_drg": q.changes_drg, "changes_hcc": q.changes_hcc,
                     "options": [{**asdict(o), "effect": o.effect.value} for o in q.options]} for q in rc.queries],
        "mce": [asdict(m) for m in rc.mce], "problems": list(rc.problems),
        "what_if": None if what_if is None else {"change": what_if.change, "before": drg(what_if.before), "after": drg(what_if.after),
                                                   "drg_changed": what_if.drg_changed, "weight_delta": what_if.weight_delta},
    }


def register_claim_routes(app: FastAPI) -> None:  # noqa: C901 - one place that lists the claim routes
    from pipeline.review import worklist
    from pipeline.review.app import back, role_dependency, wants_json

    settings = app.state.settings
    templates = app.state.templates
    db: Callable = app.state.db
    current_user: Callable = app.state.current_user
    coder, supervisor = role_dependency(current_user, "coder"), role_dependency(current_user, "supervisor")
    editable = editable_record(coder, db, settings)  # the review app's one guard for changing a record

    def panel(d: Dictation, request: Request) -> dict:
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
        return {"rc": rc, "what_if": wi, "codes": ub04_codes(), "asked": asked, "wi_principal": principal or "", "wi_remove": ",".join(remove)}

    templates.env.globals["claim_panel"] = panel

    def load(s: Session, rid: int) -> Dictation:
        d = s.scalar(select(Dictation).where(Dictation.id == rid).options(
            selectinload(Dictation.transcript), selectinload(Dictation.proposals),
            selectinload(Dictation.encounter).selectinload(Encounter.patient)))
        if d is None or d.status in (DictationStatus.RECEIVED, DictationStatus.FAILED):
            raise HTTPException(404, f"no record {rid}")
        return d

    def finish(request: Request, s: Session, rid: int, msg: str, error: bool = False, status: int = 200) -> Response:
        if error:
            s.rollback()
            if wants_json(request):
                return JSONResponse({"ok": False, "error": msg}, status_code=status)
            return back(f"/records/{rid}", error=msg)
        s.commit()
        if wants_json(request):
            return JSONResponse({"ok": True, "message": msg})
        return back(f"/records/{rid}", msg=msg)

    @app.get("/api/records/{rid}/claim")
    def claim_api(rid: RecordId, request: Request, user=Depends(coder), s: Session = Depends(db)) -> dict:
        d = load(s, rid)
        rc = record_claim(s, d)
        principal, remove = _what_if_args(request)
        out = claim_json(rc, record_what_if(rc, principal, remove))
        s.rollback()
        return out

    @app.post("/records/{rid}/abstract")
    async def abstract_save(rid: RecordId, request: Request, user=Depends(coder), s: Session = Depends(db),
                           d: Dictation = Depends(editable)) -> Response:
        form = await request.form()
        data = {k: str(form.get(k, "")) for k in ("admission_date", "discharge_date", "admission_type", "admission_source",
                                                   "discharge_status", "service", "principal_procedure")}
        data = {k: v for k, v in data.items() if v.strip()}
        data["poa"] = {k[4:]: str(v) for k, v in form.items() if k.startswith("poa_") and str(v).strip()}
        data["procedure_dates"] = {k[5:]: str(v) for k, v in form.items() if k.startswith("date_") and str(v).strip()}
        try:
            fields = parse_abstract(data, "abstract")
            save_abstract(s, d, fields, user.username)
        except (AbstractError, worklist.ClaimError) as e:
            return finish(request, s, rid, str(e), error=True, status=409)
        return finish(request, s, rid, "Abstract saved.")

    @app.post("/records/{rid}/cdi")
    async def cdi_ask(rid: RecordId, request: Request, user=Depends(coder), s: Session = Depends(db),
                           d: Dictation = Depends(editable)) -> Response:
        form = await request.form()
        kind = str(form.get("kind", ""))
        try:
            rc = record_claim(s, d)
            sug = next((q for q in rc.queries if q.kind.value == kind), None)
            if sug is None:
                raise cdi_tracking.CdiError("that query is not suggested for this record now")
            q = cdi_tracking.ask(s, d, user.id, user.username, sug)
        except (cdi_tracking.CdiError, worklist.ClaimError) as e:
            return finish(request, s, rid, str(e), error=True, status=409)
        return finish(request, s, rid, f"CDI query {q.id} sent.")

    @app.post("/records/{rid}/cdi/{qid}/answer")
    async def cdi_answer(rid: RecordId, qid: RowId, request: Request, user=Depends(coder), s: Session = Depends(db),
                           d: Dictation = Depends(editable)) -> Response:
        form = await request.form()
        try:
            option = int(str(form.get("option", "")))
            cdi_tracking.answer(s, d, user.username, qid, option)
        except ValueError as e:
            return finish(request, s, rid, str(e) if isinstance(e, cdi_tracking.CdiError) else "choose an option", error=True, status=409)
        except (LookupError, worklist.ClaimError) as e:
            return finish(request, s, rid, str(e).strip("'\""), error=True, status=404 if isinstance(e, LookupError) else 409)
        return finish(request, s, rid, f"Answer to query {qid} recorded.")

    @app.get("/records/{rid}/claim.{fmt}")
    def claim_export(rid: RecordId, fmt: str, user=Depends(coder), s: Session = Depends(db)) -> Response:
        if fmt not in ("fhir.json", "ub04.csv"):
            raise HTTPException(404, "claim formats: fhir.json, ub04.csv")
        d = load(s, rid)
        try:
            if fmt == "fhir.json":
                import json

                body = json.dumps(claim_resource(s, d), indent=2, ensure_ascii=False) + "\n"
                resp: Response = Response(body, media_type="application/fhir+json")
            else:
                resp = PlainTextResponse(ub04_csv(s, [d]), media_type="text/csv")
        except ClaimExportError as e:
            raise HTTPException(409, str(e)) from None
        resp.headers["Content-Disposition"] = f'attachment; filename="claim-{rid}.{fmt}"'
        s.rollback()
        return resp

    @app.get("/reports/claims", response_class=HTMLResponse)
    def claims_report_page(request: Request, user=Depends(supervisor), s: Session = Depends(db)) -> Response:
        rep = claim_report(s)
        s.rollback()
        return templates.TemplateResponse(request, "claim_report.html", {"user": user, "rep": rep, "msg": None, "error": None})

    @app.get("/api/reports/claims")
    def claims_report_api(user=Depends(supervisor), s: Session = Depends(db)) -> dict:
        rep = claim_report(s)
        s.rollback()
        return asdict(rep)


__all__ = ["claim_json", "register_claim_routes"]
