"""Release of information (supervisors): the releases made, releasing records to a recipient for
a purpose (de-identified unless asked otherwise; audited, the file archived) and downloading one."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session

from pipeline.records import release
from pipeline.records.fhir import FhirValidationError
from pipeline.records.records import RecordError
from pipeline.review.dependencies import RowId, app_settings, db_session, require_supervisor
from pipeline.review.responses import DOWNLOAD_TYPES, done, page, records_refused, wants_json
from pipeline.settings import Settings
from pipeline.store.models import ReleaseOfInformation

router = APIRouter()


@router.get("/releases", response_class=HTMLResponse)
def releases_page(request: Request, user=Depends(require_supervisor), s: Session = Depends(db_session)) -> Response:
    rows = release.releases(s)
    if wants_json(request):
        return JSONResponse(
            {
                "releases": [
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
                    for r in rows
                ]
            }
        )
    return page(request, "releases.html", user, rows=rows, ids=request.query_params.get("ids", ""))


@router.post("/releases")
async def releases_create(
    request: Request,
    user=Depends(require_supervisor),
    s: Session = Depends(db_session),
    settings: Settings = Depends(app_settings),
) -> Response:
    form = await request.form()
    try:
        ids = [int(x) for x in str(form.get("ids", "")).replace(",", " ").split()]
    except ValueError:
        return records_refused(request, s, RecordError("record IDs: whole numbers separated by spaces or commas"), "/releases")
    try:
        r = release.release(
            s,
            ids,
            actor=user.username,
            recipient=str(form.get("recipient", "")),
            purpose=str(form.get("purpose", "")),
            fmt=str(form.get("format", "json")),
            deidentify=form.get("identified") != "1",
            archive=release.archive_dir(settings),
        )
    except (RecordError, FhirValidationError) as e:
        return records_refused(request, s, e, "/releases?" + urlencode({"ids": str(form.get("ids", ""))}))
    return done(
        request,
        s,
        f"Release {r.row.id} recorded: {len(ids)} record(s) to {r.row.recipient}.",
        "/releases",
        {"release_id": r.row.id, "file": f"/releases/{r.row.id}/download"},
    )


@router.get("/releases/{release_id}/download")
def releases_download(
    release_id: RowId,
    user=Depends(require_supervisor),
    s: Session = Depends(db_session),
    settings: Settings = Depends(app_settings),
) -> Response:
    row = s.get(ReleaseOfInformation, release_id)
    if row is None:
        raise HTTPException(404, f"no release {release_id}")
    try:
        path = release.archived_file(settings, row)
    except RecordError as e:
        raise HTTPException(404, str(e))
    media, _ = DOWNLOAD_TYPES[row.format]
    return FileResponse(path, media_type=media, filename=row.file_name)
