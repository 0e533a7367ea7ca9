"""The review queue web app: server-rendered pages, a small JSON API, light JavaScript.

:func:`create_app` makes the app and includes the routers (:mod:`pipeline.review.routers`, one
per resource); what a route depends on (session, user, role and CSRF, the record it may change)
is :mod:`pipeline.review.dependencies`, how it answers (page, redirect back with a message, JSON
twin) :mod:`pipeline.review.responses`. Every route but the login page needs a session; every
change needs the session's CSRF token and the right role; changes to a record need the coder's
claim on it. A request that is refused changes nothing (its transaction is rolled back) and says why.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import sessionmaker

from pipeline.review.dependencies import LoginRequired
from pipeline.review.responses import back, wants_json
from pipeline.review.routers import (
    claim,
    coding,
    encoder,
    login,
    measures,
    patients,
    record_screen,
    record_workflow,
    registry,
    releases,
    reports,
    search,
    users,
    worklist,
)
from pipeline.review.worklist import ClaimError
from pipeline.settings import Settings, get_settings
from pipeline.store.db import get_engine

log = logging.getLogger(__name__)
HERE = Path(__file__).parent

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)

#: the routers, in the order their routes are matched
ROUTERS = (
    login.router,  # /login, /logout, /healthz
    worklist.router,  # /worklist, a record's claim
    record_screen.router,  # /records/{rid}: the record screen, its JSON, its media
    coding.router,  # a record's codes, code search
    record_workflow.router,  # pending, note, physician queries, override, finalize, reopen
    measures.router,  # supervisors: review measures
    users.router,  # admins: user accounts
    search.router,  # record search and exports
    patients.router,  # master patient index, filing a record under a patient
    reports.router,  # statistical report, deviations
    registry.router,  # cancer registry case finding
    releases.router,  # release of information
    encoder.router,  # Alphabetic Index and Tabular
    claim.router,  # inpatient abstract, DRG, HCC, CDI, claim export, claim report
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = get_engine(settings=settings)

    app = FastAPI(title="MRT review queue", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.session_factory = sessionmaker(bind=engine, expire_on_commit=False)
    app.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.state.templates.env.globals["claim_panel"] = claim.claim_panel  # the record screen's claim panel
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if wants_json(request) or request.url.path.startswith("/api/"):
            return JSONResponse({"ok": False, "error": "login required"}, status_code=401)
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(nxt)}", status_code=303)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        if wants_json(request) or request.url.path.startswith("/api/"):
            return JSONResponse({"ok": False, "error": exc.detail}, status_code=exc.status_code)
        user = getattr(request.state, "user", None)
        return app.state.templates.TemplateResponse(
            request, "error.html", {"user": user, "status": exc.status_code, "message": exc.detail}, status_code=exc.status_code
        )

    @app.exception_handler(ClaimError)
    async def _not_editable(request: Request, exc: ClaimError) -> Response:
        """A change refused by the one record guard (:func:`pipeline.review.dependencies.editable_record`): said, nothing changed."""
        if wants_json(request) or request.url.path.startswith("/api/"):
            return JSONResponse({"ok": False, "error": str(exc)}, status_code=409)
        rid = request.path_params.get("rid")
        return back(f"/records/{rid}" if rid else "/worklist", error=str(exc))

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> Response:
        """A malformed id in the path is no such thing (404); other bad parameters are a 400 that says which."""
        errors = exc.errors()
        in_path = [e for e in errors if e.get("loc", ("",))[0] == "path"]
        status = 404 if in_path else 400
        names = ", ".join(str(e["loc"][-1]) for e in (in_path or errors) if e.get("loc"))
        message = f"no such {names}" if in_path else f"invalid request parameter(s): {names}"
        return await _http_error(request, HTTPException(status, message))

    @app.middleware("http")
    async def _security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not (request.url.path.startswith("/static/") or request.url.path.endswith("/media")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    for router in ROUTERS:
        app.include_router(router)
    threading.Thread(target=_warm_up, name="mrt-warm-up", daemon=True).start()
    return app


def _warm_up() -> None:
    """Load the code sets and build the search index now, not on the first coder's keystroke."""
    try:
        from pipeline.code.edits.checks import check_codes
        from pipeline.code.search import get_index

        get_index()
        check_codes([])
    except Exception:  # noqa: BLE001 - a failed warm-up only means the first request is slower
        log.warning("code search warm-up failed", exc_info=True)
