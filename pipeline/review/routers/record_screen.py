"""The record screen: the transcript with its evidence, the codes, validation, queries and
history (and its work pane alone, for the page's script), its JSON twin, and the dictation's
audio or video."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.code.types import CM, PCS
from pipeline.records.validation import validate_record
from pipeline.review import auth, decisions, workflow, worklist
from pipeline.review.dependencies import RecordId, app_settings, db_session, load_record, require_coder
from pipeline.review.media import MediaUnavailable, stored_media
from pipeline.review.responses import page
from pipeline.review.tabular import tabular
from pipeline.review.transcript_view import build_view
from pipeline.settings import Settings
from pipeline.store.audit import record, timeline
from pipeline.store.models import Dictation, User

router = APIRouter()

#: audit actions that are someone looking, not doing: kept in the audit trail, left out of a record's history
PAGE_VIEWS = ("view",)


def record_context(s: Session, d: Dictation, user: auth.CurrentUser) -> dict:
    findings = validate_record(s, d)
    t = d.transcript
    assert t is not None  # load_record() lets only transcribed records through
    ents = list(d.entities)
    holder = worklist.holder_name(s, d)
    cs_axes = {}
    from pipeline.code.lookup.codeset import get_codeset

    for p in d.proposals:
        if p.system == PCS:
            cs_axes[p.id] = get_codeset().pcs_axes(p.code)
    return {
        "d": d,
        "t": t,
        "segments": build_view(t.text, t.segments or [], ents),
        "entities": ents,
        "codes": sorted(d.proposals, key=lambda p: (p.system != CM, p.rank)),
        "findings": findings,
        "errors": [f for f in findings if f.severity == "error"],
        "holder": holder,
        "code_findings": {c: [f for f in findings if c in f.codes] for c in {p.code for p in d.proposals}},
        "mine": holder == user.username,
        "queries": workflow.queries(s, d.id),
        "history": [e for e in timeline(s, d.id) if e.action not in PAGE_VIEWS],  # page views stay in the audit trail only
        "reject_reasons": decisions.REJECT_REASONS,
        "pending_reasons": workflow.PENDING_REASONS,
        "overridable": workflow.OVERRIDABLE,
        "templates_": workflow.QUERY_TEMPLATES,
        "axes": cs_axes,
        "is_video": bool(d.has_video),
        "users": list(s.scalars(select(User.username).where(User.active.is_(True)))),
        "tabular": {p.id: tabular(p.code) for p in d.proposals if p.system == CM},  # Tabular notes inline on each line
    }


def record_json(ctx: dict) -> dict:
    d = ctx["d"]
    return {
        "id": d.id,
        "status": d.status,
        "claimed_by": ctx["holder"],
        "pending_reason": d.pending_reason,
        "note": d.review_note,
        "transcript": ctx["t"].text,
        "codes": [
            {
                "id": p.id,
                "system": p.system,
                "code": p.code,
                "description": p.description,
                "score": p.score,
                "status": p.status,
                "source": p.source,
                "proposed_code": p.proposed_code,
                "principal": p.principal,
                "rank": p.rank,
                "evidence": p.evidence,
                "rationale": p.rationale,
                "reject_reason": p.reject_reason,
            }
            for p in ctx["codes"]
        ],
        "findings": [f.__dict__ for f in ctx["findings"]],
        "queries": [{"id": q.id, "status": q.status, "question": q.question, "answer": q.answer} for q in ctx["queries"]],
        "history": [
            {"actor": e.actor, "action": e.action, "at": e.at.isoformat(), "before": e.before, "after": e.after}
            for e in ctx["history"]
        ],
    }


@router.get("/records/{rid}", response_class=HTMLResponse)
def record_page(rid: RecordId, request: Request, user=Depends(require_coder), s: Session = Depends(db_session)) -> Response:
    d = load_record(s, rid)
    record(s, user.username, "view", dictation_id=rid)
    ctx = record_context(s, d, user)
    s.commit()
    return page(request, "record.html", user, **ctx)


@router.get("/records/{rid}/work", response_class=HTMLResponse)
def record_work_pane(rid: RecordId, request: Request, user=Depends(require_coder), s: Session = Depends(db_session)) -> Response:
    """The record screen's work pane (codes, validation, tabs) alone: what the page's script swaps in
    after an action posted in place. Not a page view (the page itself was already viewed)."""
    d = load_record(s, rid)
    ctx = record_context(s, d, user)
    s.commit()
    return page(request, "record_panes.html", user, **ctx)


@router.get("/api/records/{rid}")
def record_api(rid: RecordId, user=Depends(require_coder), s: Session = Depends(db_session)) -> dict:
    d = load_record(s, rid)
    record(s, user.username, "view", dictation_id=rid)
    ctx = record_context(s, d, user)
    s.commit()
    return record_json(ctx)


@router.get("/api/records/{rid}/validation")
def validation_api(rid: RecordId, user=Depends(require_coder), s: Session = Depends(db_session)) -> dict:
    d = load_record(s, rid)
    findings = validate_record(s, d)
    s.commit()
    return {"findings": [f.__dict__ for f in findings], "can_finalize": not any(f.severity == "error" for f in findings)}


@router.get("/records/{rid}/media")
def media(
    rid: RecordId, user=Depends(require_coder), s: Session = Depends(db_session), settings: Settings = Depends(app_settings)
) -> Response:
    try:
        m = stored_media(load_record(s, rid), settings)
    except MediaUnavailable as e:
        raise HTTPException(404, str(e))
    return FileResponse(m.path, media_type=m.media_type, stat_result=m.stat)
