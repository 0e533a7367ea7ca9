"""A coder's decisions on a record's codes (add, with highlighted words as evidence; accept,
reject, edit, undo, principal, reorder; accept the rest) and the code search that feeds them."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from pipeline.code.types import CM, PCS
from pipeline.review import decisions
from pipeline.review.dependencies import RecordId, RowId, db_session, editable_record, require_coder
from pipeline.review.responses import record_change
from pipeline.review.transcript_view import span_evidence
from pipeline.store.models import Dictation

router = APIRouter()

CODE_ACTIONS = ("accept", "reject", "edit", "undo", "principal", "up", "down")


@router.post("/records/{rid}/codes/add")
async def add_code(
    rid: RecordId,
    request: Request,
    user=Depends(require_coder),
    s: Session = Depends(db_session),
    d: Dictation = Depends(editable_record),
) -> Response:
    form = await request.form()
    system = str(form.get("system") or CM)

    def fn(d: Dictation) -> str:
        evidence = None
        if form.get("evidence_start") not in (None, "") or form.get("evidence_end") not in (None, ""):
            assert d.transcript is not None  # editable_record() lets only transcribed records through
            try:  # text to code: the highlighted words become the added code's evidence
                evidence = span_evidence(
                    d.transcript.text,
                    d.transcript.segments or [],
                    int(str(form.get("evidence_start"))),
                    int(str(form.get("evidence_end"))),
                )
            except ValueError as e:
                raise decisions.DecisionError(f"evidence: {e}") from e
        p = decisions.add(s, d, user, system, str(form.get("code", "")), str(form.get("reason", "")), evidence=evidence)
        return f"Added {p.code}" + (f" with the words “{evidence['text']}” as its evidence." if evidence else ".")

    return record_change(request, s, d, fn)


@router.post("/records/{rid}/codes/{pid}/{action}")
async def code_action(
    rid: RecordId,
    pid: RowId,
    action: str,
    request: Request,
    user=Depends(require_coder),
    s: Session = Depends(db_session),
    d: Dictation = Depends(editable_record),
) -> Response:
    if action not in CODE_ACTIONS:
        raise HTTPException(404, "no such action")
    form = await request.form()

    def fn(d: Dictation) -> str:
        if action == "accept":
            p = decisions.accept(s, d, user, pid)
            return f"Accepted {p.code}."
        if action == "reject":
            reason, detail = str(form.get("reason", "")).strip(), str(form.get("detail", "")).strip()
            p = decisions.reject(s, d, user, pid, f"{reason}: {detail}" if reason and detail else reason or detail)
            return f"Rejected {p.code}."
        if action == "edit":
            p = decisions.edit(s, d, user, pid, str(form.get("code", "")), str(form.get("reason", "")))
            return f"Changed to {p.code}."
        if action == "undo":
            p = decisions.undo(s, d, user, pid)
            return f"{p.code} is back to proposed."
        if action == "principal":
            p = decisions.set_principal(s, d, user, pid)
            return f"{p.code} is the principal diagnosis."
        p = decisions.move(s, d, user, pid, action)
        return f"Moved {p.code} {action}."

    return record_change(request, s, d, fn)


@router.post("/records/{rid}/accept-remaining")
async def accept_remaining(
    rid: RecordId,
    request: Request,
    user=Depends(require_coder),
    s: Session = Depends(db_session),
    d: Dictation = Depends(editable_record),
) -> Response:
    def fn(d: Dictation) -> str:
        accepted = decisions.accept_remaining(s, d, user)
        return f"Accepted {len(accepted)} remaining code(s)" + (f": {', '.join(p.code for p in accepted)}." if accepted else ".")

    return record_change(request, s, d, fn)


@router.get("/api/codes/search")
def code_search(request: Request, user=Depends(require_coder)) -> dict:
    from pipeline.code.search import search_codes

    q = (request.query_params.get("q") or "").strip()[:100]
    system = request.query_params.get("system")
    if system not in (CM, PCS):
        system = None
    hits = search_codes(q, system=system, limit=20) if len(q) >= 2 else []
    return {"results": [h.__dict__ for h in hits]}
