"""Logging in and out, and the health check: the only routes that need no session."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from pipeline.review import auth
from pipeline.review.dependencies import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    app_settings,
    db_session,
    form_text,
    require_coder,
)
from pipeline.review.responses import back, page, safe_next, wants_json
from pipeline.settings import Settings

router = APIRouter()

INSECURE_TRANSPORT = (
    "This server is set to send its cookies over HTTPS only (MRT_SECURE_COOKIES=true), but this page was "
    "opened over plain HTTP, so the browser cannot log in. Open it through the HTTPS address, or unset "
    "MRT_SECURE_COOKIES when serving plain HTTP."
)


def _over_https(request: Request) -> bool:
    """Whether the browser reached us over HTTPS (directly, or through a proxy that says so)."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


@router.get("/healthz")
def healthz() -> dict:
    return {"ok": True}


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, settings: Settings = Depends(app_settings)) -> Response:
    token = secrets.token_urlsafe(32)
    problem = INSECURE_TRANSPORT if settings.secure_cookies and not _over_https(request) else None
    error: dict[str, Any] = {"error": problem} if problem else {}
    resp = page(
        request,
        "login.html",
        None,
        csrf=token,
        next=safe_next(request.query_params.get("next")),
        **error,
    )
    resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=settings.secure_cookies)
    return resp


@router.post("/login")
async def login(request: Request, s: Session = Depends(db_session), settings: Settings = Depends(app_settings)) -> Response:
    form = await request.form()
    nxt = safe_next(form_text(form, "next"))
    if not auth.csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE, ""), form_text(form, "csrf_token")):
        if settings.secure_cookies and LOGIN_CSRF_COOKIE not in request.cookies and not _over_https(request):
            return back("/login", error=INSECURE_TRANSPORT, next=nxt)
        return back("/login", error="The login form expired; please try again.", next=nxt)
    try:  # password hashing takes a while: off the event loop, so other requests are not held up
        token, user = await run_in_threadpool(
            auth.login, s, str(form.get("username", "")), str(form.get("password", "")), settings
        )
    except auth.AuthError as e:
        s.commit()  # the failed attempt (and any lockout) is recorded
        if wants_json(request):
            return JSONResponse({"ok": False, "error": str(e)}, status_code=401)
        return back("/login", error=str(e), next=nxt)
    s.commit()
    resp = (
        JSONResponse({"ok": True, "csrf_token": user.csrf_token})
        if wants_json(request)
        else RedirectResponse(nxt, status_code=303)
    )
    resp.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=int(settings.session_hours * 3600),
    )
    resp.delete_cookie(LOGIN_CSRF_COOKIE)
    return resp


@router.post("/logout")
async def logout(request: Request, user=Depends(require_coder), s: Session = Depends(db_session)) -> Response:
    auth.logout(s, request.cookies.get(SESSION_COOKIE))
    s.commit()
    resp = back("/login", msg="Logged out.")
    resp.delete_cookie(SESSION_COOKIE)
    return resp
