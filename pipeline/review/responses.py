"""How the review app's routes answer. Pages post ordinary forms and are redirected back with a
message (``?msg=`` or ``?error=``); the same routes answer JSON when asked with
``Accept: application/json``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from urllib.parse import urlencode

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from pipeline.records.validation import validate_record
from pipeline.review import auth, decisions, workflow, worklist
from pipeline.store.models import Dictation

#: what a review action may be refused with (the message says why; nothing is changed)
ACTION_ERRORS = (decisions.DecisionError, workflow.WorkflowError, worklist.ClaimError, auth.AccountError, PermissionError)

DOWNLOAD_TYPES = {
    "json": ("application/json", "json"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "fhir": ("application/fhir+json", "fhir.json"),
}


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def safe_next(url: str | None) -> str:
    """Only same-site paths are followed after login (no open redirects)."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/worklist"
    return url


def back(path: str, **params: str) -> RedirectResponse:
    q = {k: v for k, v in params.items() if v}
    return RedirectResponse(path + (("?" + urlencode(q)) if q else ""), status_code=303)


def page(request: Request, name: str, user, status_code: int = 200, **ctx) -> HTMLResponse:
    """A page from ``templates/``, with the message and error the last redirect carried."""
    ctx.setdefault("msg", request.query_params.get("msg"))
    ctx.setdefault("error", request.query_params.get("error"))
    return request.app.state.templates.TemplateResponse(request, name, {"user": user, **ctx}, status_code=status_code)


def done(request: Request, s: Session, msg: str, to: str, payload: dict | None = None) -> Response:
    """A change done: commit, then back to ``to`` with the message (or JSON ``ok``)."""
    s.commit()
    if wants_json(request):
        return JSONResponse({"ok": True, "message": msg, **(payload or {})})
    return back(to, msg=msg)


def refused(request: Request, s: Session, message: str, to: str, status: int, extra: dict | None = None) -> Response:
    """A change refused: roll back, then back to ``to`` with the reason (or JSON with ``status``)."""
    s.rollback()
    if wants_json(request):
        return JSONResponse({"ok": False, "error": message, **(extra or {})}, status_code=status)
    return back(to, error=message)


def action_done(
    request: Request, s: Session, rid: int | None, msg: str, payload: dict | None = None, to: str | None = None
) -> Response:
    """A review action done: back to record ``rid``'s screen (or ``to``)."""
    return done(request, s, msg, to or f"/records/{rid}", payload)


def action_refused(request: Request, s: Session, rid: int | None, e: Exception, to: str | None = None) -> Response:
    """A review action refused: 404 for no such thing, 403 for a role, else 409; a header code
    refused at entry lists the billable codes to choose from."""
    status = 404 if isinstance(e, LookupError) else 403 if isinstance(e, PermissionError) else 409
    extra = {"choices": [{"code": c, "description": t} for c, t in e.choices]} if isinstance(e, decisions.HeaderCode) else {}
    return refused(request, s, str(e).strip("'\""), to or (f"/records/{rid}" if rid else "/worklist"), status, extra)


def records_refused(request: Request, s: Session, e: Exception, to: str) -> Response:
    """A records operation (patient index, release of information) refused: 404 for no such
    thing, else 409; the message as the error gives it."""
    return refused(request, s, str(e), to, 404 if isinstance(e, LookupError) else 409)


def record_change(request: Request, s: Session, d: Dictation, fn: Callable[[Dictation], str]) -> Response:
    """Run one change on a record the :func:`~pipeline.review.dependencies.editable_record`
    dependency let through, re-validate, commit; or refuse it and change nothing."""
    try:
        msg = fn(d)
        s.flush()
        findings = validate_record(s, d)
    except ACTION_ERRORS + (LookupError,) as e:
        return action_refused(request, s, d.id, e)
    return action_done(request, s, d.id, msg, {"findings": [f.__dict__ for f in findings]})


def query_day(request: Request, name: str) -> date | None:
    """A ``YYYY-MM-DD`` query parameter (400 if it is not one)."""
    v = request.query_params.get(name)
    try:
        return date.fromisoformat(v) if v else None
    except ValueError:
        raise HTTPException(400, f"{name}: use YYYY-MM-DD")


def download(content: str | bytes, media_type: str, filename: str) -> Response:
    return Response(content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
