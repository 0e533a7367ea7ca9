"""The master patient index: a patient's records and merges, likely duplicates, merging and
undoing a merge (supervisors), and filing a record under another patient."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.records import mpi
from pipeline.records.records import RecordError
from pipeline.review.dependencies import (
    RecordId,
    RowId,
    db_session,
    form_text,
    linkable_record,
    require_coder,
    require_supervisor,
)
from pipeline.review.responses import done, page, records_refused, wants_json
from pipeline.store.models import Dictation, Patient

router = APIRouter()


@router.get("/patients", response_class=HTMLResponse)
def patients_page(request: Request, user=Depends(require_supervisor), s: Session = Depends(db_session)) -> Response:
    try:
        min_score = float(request.query_params.get("min", mpi.MIN_SCORE))
    except ValueError:
        raise HTTPException(400, "min: a number from 0 to 1")
    pairs = mpi.find_duplicates(s, min_score)
    if wants_json(request):
        return JSONResponse({"pairs": [p.to_dict() for p in pairs]})
    return page(request, "patients.html", user, pairs=pairs, merges=mpi.merges(s), min_score=min_score)


@router.get("/patients/{pid}", response_class=HTMLResponse)
def patient_page(pid: RowId, request: Request, user=Depends(require_coder), s: Session = Depends(db_session)) -> Response:
    try:
        view = mpi.patient_view(s, pid)
    except RecordError as e:
        raise HTTPException(404, str(e))
    if wants_json(request):
        p = view["patient"]
        born = p.birth_date.isoformat() if p.birth_date else None
        return JSONResponse(
            {
                "patient": {"id": p.id, "mrn": p.mrn, "name": p.name, "birth_date": born, "sex": p.sex},
                "merged_into": view["merged_into"],
                "records": [{"id": d.id, "status": d.status} for d in view["records"]],
                "merges": [
                    {"id": m.id, "survivor_id": m.survivor_id, "merged_id": m.merged_id, "undone": m.undone_at is not None}
                    for m in view["merges"]
                ],
            }
        )
    dups = [p for p in mpi.find_duplicates(s) if pid in (p.patient_a, p.patient_b)] if user.has_role("supervisor") else []
    return page(request, "patient.html", user, **view, dups=dups)


@router.post("/patients/merge")
async def patients_merge(request: Request, user=Depends(require_supervisor), s: Session = Depends(db_session)) -> Response:
    form = await request.form()
    try:
        survivor, duplicate = int(form_text(form, "survivor") or ""), int(form_text(form, "duplicate") or "")
    except ValueError:
        return records_refused(request, s, RecordError("choose the surviving and the duplicate patient"), "/patients")
    try:
        m = mpi.merge(s, survivor, duplicate, user.username, str(form.get("reason", "")).strip())
    except RecordError as e:
        return records_refused(request, s, e, "/patients")
    moved = m.moved
    assert moved is not None  # merge() records what it moved
    return done(
        request,
        s,
        f"Patient {duplicate} merged into {survivor} ({len(moved['encounters'])} encounter(s) moved).",
        f"/patients/{survivor}",
        {"merge_id": m.id},
    )


@router.post("/patients/merges/{mid}/undo")
async def patients_unmerge(
    mid: RowId, request: Request, user=Depends(require_supervisor), s: Session = Depends(db_session)
) -> Response:
    try:
        m = mpi.unmerge(s, mid, user.username)
    except RecordError as e:
        return records_refused(request, s, e, "/patients")
    return done(request, s, f"Merge {mid} undone.", f"/patients/{m.merged_id}")


@router.get("/records/{rid}/link", response_class=HTMLResponse)
def link_page(rid: RecordId, request: Request, user=Depends(require_coder), s: Session = Depends(db_session)) -> Response:
    return page(request, "link.html", user, rid=rid)


@router.post("/records/{rid}/link")
async def link_record(
    rid: RecordId,
    request: Request,
    user=Depends(require_coder),
    s: Session = Depends(db_session),
    d: Dictation = Depends(linkable_record),
) -> Response:
    form = await request.form()
    mrn = str(form.get("mrn", "")).strip()
    wanted = mpi.normalize_mrn(mrn)
    pid = next((p.id for p in s.scalars(select(Patient)) if wanted and mpi.normalize_mrn(p.mrn) == wanted), None)
    try:
        if pid is None:
            raise RecordError(f"no patient with MRN {mrn!r}")
        d = mpi.link_record(s, rid, pid, user.username, actor_id=user.id, supervisor=user.has_role("supervisor"))
    except RecordError as e:
        return records_refused(request, s, e, f"/records/{rid}/link")
    assert d.encounter is not None  # link_record() files the record under an encounter
    return done(request, s, f"Record {rid} filed under patient {d.encounter.patient_id}.", f"/records/{rid}")
