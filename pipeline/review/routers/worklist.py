"""The worklist: the records awaiting review (filtered and sorted), taking the next one, and a
record's claim (claim, release, a supervisor's reassign)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.review import worklist
from pipeline.review.dependencies import RecordId, app_settings, db_session, require_coder, require_supervisor
from pipeline.review.responses import action_done, action_refused, back, page, wants_json
from pipeline.settings import Settings
from pipeline.store.models import User

router = APIRouter()


def parse_filter(request: Request) -> worklist.WorklistFilter:
    q = request.query_params

    def day(name: str) -> date | None:
        try:
            return date.fromisoformat(q[name]) if q.get(name) else None
        except ValueError:
            raise HTTPException(400, f"{name}: use YYYY-MM-DD")

    edits = q.get("edits")
    return worklist.WorklistFilter(
        status=q.get("status") or None,
        physician=q.get("physician") or None,
        document_type=q.get("document_type") or None,
        priority=q.get("priority") or None,
        received_from=day("from"),
        received_to=day("to"),
        setting=q.get("setting") or None,
        service_from=day("service_from"),
        service_to=day("service_to"),
        edits_pending=True if edits == "yes" else False if edits == "no" else None,
        mine=q.get("mine") == "1",
        sort=q.get("sort") or "priority",
    )


@router.get("/")
def home(user=Depends(require_coder)) -> Response:
    return RedirectResponse("/worklist", status_code=303)


@router.get("/worklist", response_class=HTMLResponse)
def worklist_page(request: Request, user=Depends(require_coder), s: Session = Depends(db_session)) -> Response:
    f = parse_filter(request)
    rows = worklist.worklist(s, user, f)
    users = (
        list(s.scalars(select(User.username).where(User.active.is_(True)).order_by(User.username)))
        if user.has_role("supervisor")
        else []
    )
    return page(
        request, "worklist.html", user, rows=rows, f=f, facets=worklist.facets(s), sorts=list(worklist.SORTS), users=users
    )


@router.get("/api/worklist")
def worklist_api(request: Request, user=Depends(require_coder), s: Session = Depends(db_session)) -> dict:
    rows = worklist.worklist(s, user, parse_filter(request))
    return {"records": [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.__dict__.items()} for r in rows]}


@router.post("/worklist/next")
async def next_record(
    request: Request, user=Depends(require_coder), s: Session = Depends(db_session), settings: Settings = Depends(app_settings)
) -> Response:
    rid = worklist.claim_next(s, user, settings)
    if rid is None:
        s.commit()
        if wants_json(request):
            return JSONResponse({"ok": False, "error": "no record is waiting for review"}, status_code=404)
        return back("/worklist", msg="No record is waiting for review.")
    return action_done(request, s, rid, f"Record {rid} is yours for {settings.claim_minutes:.0f} minutes.", {"id": rid})


@router.post("/records/{rid}/claim")
async def claim(
    rid: RecordId,
    request: Request,
    user=Depends(require_coder),
    s: Session = Depends(db_session),
    settings: Settings = Depends(app_settings),
) -> Response:
    try:
        worklist.claim(s, user, rid, settings)
    except (worklist.ClaimError, LookupError) as e:
        return action_refused(request, s, rid, e)
    return action_done(request, s, rid, f"Record {rid} is yours for {settings.claim_minutes:.0f} minutes.")


@router.post("/records/{rid}/release")
async def release(rid: RecordId, request: Request, user=Depends(require_coder), s: Session = Depends(db_session)) -> Response:
    try:
        worklist.release(s, user, rid)
    except (worklist.ClaimError, LookupError) as e:
        return action_refused(request, s, rid, e)
    return action_done(request, s, rid, f"Record {rid} is back in the queue.", to="/worklist")


@router.post("/records/{rid}/reassign")
async def reassign(
    rid: RecordId,
    request: Request,
    user=Depends(require_supervisor),
    s: Session = Depends(db_session),
    settings: Settings = Depends(app_settings),
) -> Response:
    form = await request.form()
    try:
        worklist.reassign(s, user, rid, str(form.get("to", "")), settings)
    except (worklist.ClaimError, LookupError, PermissionError) as e:
        return action_refused(request, s, rid, e, to="/worklist")
    return action_done(request, s, rid, f"Record {rid} reassigned to {form.get('to')}.", to="/worklist")
