"""The review queue web app: server-rendered pages, a small JSON API, light JavaScript.

Every route but the login page needs a session; every change needs the session's CSRF
token and the right role; changes to a record need the coder's claim on it. A request that
is refused changes nothing (its transaction is rolled back) and says why.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Iterator
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

from pipeline.review import auth
from pipeline.review.worklist import ClaimError
from pipeline.review.records_routes import register_records_routes
from pipeline.review.routes import register_routes
from pipeline.settings import Settings, get_settings
from pipeline.store.db import get_engine

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
SESSION_COOKIE = "mrt_session"
LOGIN_CSRF_COOKIE = "mrt_login_csrf"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


class LoginRequired(Exception):
    pass


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = get_engine(settings=settings)
    factory = sessionmaker(bind=engine, expire_on_commit=False)

    app = FastAPI(title="MRT review queue", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    def db() -> Iterator[Session]:
        s = factory()
        try:
            yield s
        finally:
            s.rollback()  # anything not committed by the handler is dropped
            s.close()

    def current_user(request: Request, s: Session = Depends(db)) -> auth.CurrentUser:
        user = auth.session_user(s, request.cookies.get(SESSION_COOKIE), settings)
        s.commit()
        if user is None:
            raise LoginRequired()
        request.state.user = user
        return user

    app.state.db = db
    app.state.current_user = current_user

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
        """A change refused by the one record guard (:mod:`pipeline.review.guards`): said, nothing changed."""
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

    register_routes(app)
    register_records_routes(app)
    from pipeline.review.encoder_routes import register_encoder_routes  # Alphabetic Index and Tabular views

    register_encoder_routes(app)
    from pipeline.claim.web import register_claim_routes  # inpatient abstract, DRG, HCC, CDI, claim export

    register_claim_routes(app)
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


def role_dependency(current_user, required: str):
    """A route dependency: the logged-in user, who must hold at least the ``required`` role; on a
    POST the CSRF token (header ``X-CSRF-Token`` or form field ``csrf_token``) must match too."""

    async def dep(request: Request, user: auth.CurrentUser = Depends(current_user)) -> auth.CurrentUser:
        if not user.has_role(required):
            raise HTTPException(403, f"this needs the {required} role")
        if request.method == "POST":
            token = request.headers.get("x-csrf-token")
            if token is None:
                token = (await request.form()).get("csrf_token")
            if not auth.csrf_ok(user.csrf_token, token):
                raise HTTPException(403, "the form expired or did not come from this site (CSRF check); reload the page")
        return user

    return dep


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
