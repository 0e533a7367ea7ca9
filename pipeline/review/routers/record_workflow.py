"""A record's way through review: pending and resume, the review note, physician queries,
overriding a coding edit, finalizing (alone or then the next record) and a supervisor's reopen."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from pipeline.review import workflow, worklist
from pipeline.review.dependencies import (
    RecordId,
    RowId,
    app_settings,
    db_session,
    editable_record,
    load_record,
    require_coder,
    require_supervisor,
)
from pipeline.review.responses import ACTION_ERRORS, action_done, action_refused, record_change
from pipeline.settings import Settings
from pipeline.store.models import Dictation, DictationStatus

router = APIRouter()


@router.post("/records/{rid}/pending")
async def pending(
    rid: RecordId,
    request: Request,
    user=Depends(require_coder),
    s: Session = Depends(db_session),
    d: Dictation = Depends(editable_record),
) -> Response:
    form = await request.form()

    def park(d: Dictation) -> str:
        workflow.set_pending(s, d, user, str(form.get("reason", "")), str(form.get("note", "")))
        return "Record parked as pending."

    resp = record_change(request, s, d, park)
    return resp


@router.post("/records/{rid}/resume")
async def resume(
    rid: RecordId,
    request: Request,
    user=Depends(require_coder),
    s: Session = Depends(db_session),
    d: Dictation = Depends(editable_record),
) -> Response:
    def take_off_hold(d: Dictation) -> str:
        workflow.resume(s, d, user)
        return "Record taken off hold."

    return record_change(request, s, d, take_off_hold)


@router.post("/records/{rid}/note")
async def note(
    rid: RecordId,
    request: Request,
    user=Depends(require_coder),
    s: Session = Depends(db_session),
    d: Dictation = Depends(editable_record),
) -> Response:
    form = await request.form()

    def save_note(d: Dictation) -> str:
        workflow.set_note(s, d, user, str(form.get("note", "")))
        return "Note saved."

    return record_change(request, s, d, save_note)


@router.post("/records/{rid}/queries")
async def create_query(
    rid: RecordId,
    request: Request,
    user=Depends(require_coder),
    s: Session = Depends(db_session),
    d: Dictation = Depends(editable_record),
) -> Response:
    form = await request.form()

    def fn(d: Dictation) -> str:
        q = workflow.create_query(
            s, d, user, str(form.get("template", "")), str(form.get("finding", "")), str(form.get("question", ""))
        )
        return f"Physician query {q.id} created."

    return record_change(request, s, d, fn)


@router.post("/records/{rid}/queries/{qid}/{action}")
async def query_action(
    rid: RecordId,
    qid: RowId,
    action: str,
    request: Request,
    user=Depends(require_coder),
    s: Session = Depends(db_session),
    d: Dictation = Depends(editable_record),
) -> Response:
    if action not in ("answer", "close"):
        raise HTTPException(404, "no such action")
    form = await request.form()

    def fn(d: Dictation) -> str:
        if action == "answer":
            workflow.answer_query(s, d, user, qid, str(form.get("answer", "")))
            return f"Answer to query {qid} recorded."
        workflow.close_query(s, d, user, qid)
        return f"Query {qid} closed."

    return record_change(request, s, d, fn)


@router.post("/records/{rid}/override")
async def override(
    rid: RecordId,
    request: Request,
    user=Depends(require_coder),
    s: Session = Depends(db_session),
    d: Dictation = Depends(editable_record),
) -> Response:
    form = await request.form()
    codes = [c for c in str(form.get("codes", "")).split(",") if c]

    def fn(d: Dictation) -> str:
        workflow.override_edit(s, d, user, str(form.get("kind", "")), codes, str(form.get("reason", "")))
        return "Edit overridden; the reason is on the record."

    return record_change(request, s, d, fn)


@router.post("/records/{rid}/finalize")
async def finalize(
    rid: RecordId,
    request: Request,
    user=Depends(require_coder),
    s: Session = Depends(db_session),
    d: Dictation = Depends(editable_record),
) -> Response:
    try:
        workflow.finalize(s, d, user)
    except ACTION_ERRORS + (LookupError,) as e:
        return action_refused(request, s, rid, e)
    return action_done(request, s, rid, f"Record {rid} finalized.", {"status": DictationStatus.FINALIZED})


@router.post("/records/{rid}/finalize-next")
async def finalize_next(
    rid: RecordId,
    request: Request,
    user=Depends(require_coder),
    s: Session = Depends(db_session),
    d: Dictation = Depends(editable_record),
    settings: Settings = Depends(app_settings),
) -> Response:
    """Finalize this record, then claim the next one awaiting review and go there (or to the worklist)."""
    try:
        workflow.finalize(s, d, user)
    except ACTION_ERRORS + (LookupError,) as e:
        return action_refused(request, s, rid, e)
    nxt = worklist.claim_next(s, user, settings)
    if nxt is None:
        return action_done(
            request,
            s,
            rid,
            f"Record {rid} finalized. No record is waiting for review.",
            {"status": DictationStatus.FINALIZED, "next": None},
            to="/worklist",
        )
    return action_done(
        request,
        s,
        nxt,
        f"Record {rid} finalized. Record {nxt} is yours for {settings.claim_minutes:.0f} minutes.",
        {"status": DictationStatus.FINALIZED, "next": nxt},
    )


@router.post("/records/{rid}/reopen")
async def reopen(rid: RecordId, request: Request, user=Depends(require_supervisor), s: Session = Depends(db_session)) -> Response:
    form = await request.form()
    try:
        workflow.reopen(s, load_record(s, rid), user, str(form.get("reason", "")))
    except ACTION_ERRORS + (LookupError,) as e:
        return action_refused(request, s, rid, e)
    return action_done(request, s, rid, f"Record {rid} reopened for review.", {"status": DictationStatus.CODED})
