"""The review app's route dependencies, all in one place: the database session, the logged-in
user, the role a route needs (with the CSRF check on every POST), and the record a change may touch.

Every route but the login page depends on :func:`current_user` (through a role dependency);
every change needs the session's CSRF token and the right role; changes to a record need the
coder's claim on it, checked by :func:`editable_record` (never by a route checking claim and
status itself). A refused request changes nothing: the session's transaction is rolled back.

A record can be changed only while it is awaiting review (coded or pending) and only by the
coder who holds its claim; a few actions (moving it to another patient) are also a supervisor's
without the claim (:func:`linkable_record`). A finalized record changes only through a
supervisor's audited reopen (:func:`pipeline.review.workflow.reopen`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi import Path as PathParam
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from starlette.datastructures import FormData

from pipeline.review import auth
from pipeline.review.auth import CurrentUser
from pipeline.review.worklist import ClaimError, require_claim
from pipeline.settings import Settings
from pipeline.store.models import Dictation, DictationStatus, Encounter

SESSION_COOKIE = "mrt_session"
LOGIN_CSRF_COOKIE = "mrt_login_csrf"

#: database ids are 64-bit; a larger number in a URL is simply no record
MAX_ID = 2**63 - 1
RecordId = Annotated[int, PathParam(ge=1, le=MAX_ID)]
RowId = Annotated[int, PathParam(ge=1, le=MAX_ID)]


class LoginRequired(Exception):
    """No valid session: the app answers 401 (API) or sends the browser to the login page."""


def app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


def db_session(request: Request) -> Iterator[Session]:
    """One database session per request (every dependency of the request shares it); anything
    the route did not commit is rolled back."""
    s = request.app.state.session_factory()
    try:
        yield s
    finally:
        s.rollback()  # anything not committed by the handler is dropped
        s.close()


def current_user(request: Request, s: Session = Depends(db_session)) -> CurrentUser:
    """The user of the session cookie (its expiry slid forward), else :class:`LoginRequired`."""
    user = auth.session_user(s, request.cookies.get(SESSION_COOKIE), request.app.state.settings)
    s.commit()
    if user is None:
        raise LoginRequired()
    request.state.user = user
    return user


def form_text(form: FormData, name: str) -> str | None:
    """A form field's text; None when it is missing or is not text (a file posted under that name is
    refused like a missing field, never a 500)."""
    value = form.get(name)
    return value if isinstance(value, str) else None


def _role(required: str):
    """A route dependency: the logged-in user, who must hold at least the ``required`` role; on a
    POST the CSRF token (header ``X-CSRF-Token`` or form field ``csrf_token``) must match too."""

    async def dep(request: Request, user: CurrentUser = Depends(current_user)) -> CurrentUser:
        if not user.has_role(required):
            raise HTTPException(403, f"this needs the {required} role")
        if request.method == "POST":
            token = request.headers.get("x-csrf-token")
            if token is None:
                token = form_text(await request.form(), "csrf_token")
            if not auth.csrf_ok(user.csrf_token, token):
                raise HTTPException(403, "the form expired or did not come from this site (CSRF check); reload the page")
        return user

    dep.__name__ = f"require_{required}"
    return dep


require_coder = _role("coder")
require_supervisor = _role("supervisor")
require_admin = _role("admin")


def load_record(s: Session, rid: int) -> Dictation:
    """A record in the review queue (coded, pending or finalized) with what its screen shows; 404 else."""
    d = s.scalar(
        select(Dictation)
        .where(Dictation.id == rid)
        .options(
            selectinload(Dictation.transcript),
            selectinload(Dictation.entities),
            selectinload(Dictation.proposals),
            selectinload(Dictation.encounter).selectinload(Encounter.patient),
        )
    )
    if d is None or d.status in (DictationStatus.RECEIVED, DictationStatus.FAILED) or d.transcript is None:
        raise HTTPException(404, f"no record {rid} in the review queue")
    return d


def require_editable(s: Session, d: Dictation, user: CurrentUser, settings: Settings, *, supervisor_may: bool = False) -> None:
    """Refuse (:class:`ClaimError`) unless ``d`` awaits review and ``user`` holds its claim (or,
    with ``supervisor_may``, is a supervisor). The holder's claim is extended."""
    if d.status == DictationStatus.FINALIZED:
        raise ClaimError(f"record {d.id} is finalized; a supervisor can reopen it if it must change")
    if d.status not in DictationStatus.REVIEWABLE:
        raise ClaimError(f"record {d.id} is {d.status}, not awaiting review")
    if supervisor_may and user.has_role("supervisor") and d.claimed_by != user.id:
        return
    require_claim(s, d, user, settings)


def editable_record(
    rid: RecordId,
    user: CurrentUser = Depends(require_coder),
    s: Session = Depends(db_session),
    settings: Settings = Depends(app_settings),
) -> Dictation:
    """A route dependency: the record ``rid`` from the path, which the user may change now
    (:func:`require_editable`); every change to a record goes through this one check."""
    d = load_record(s, rid)
    require_editable(s, d, user, settings)
    return d


def linkable_record(
    rid: RecordId,
    user: CurrentUser = Depends(require_coder),
    s: Session = Depends(db_session),
    settings: Settings = Depends(app_settings),
) -> Dictation:
    """Like :func:`editable_record`, for filing a record under another patient: its claim holder's
    action, or a supervisor's."""
    d = load_record(s, rid)
    require_editable(s, d, user, settings, supervisor_may=True)
    return d


__all__ = [
    "LOGIN_CSRF_COOKIE",
    "LoginRequired",
    "MAX_ID",
    "RecordId",
    "RowId",
    "SESSION_COOKIE",
    "app_settings",
    "current_user",
    "db_session",
    "editable_record",
    "linkable_record",
    "load_record",
    "require_admin",
    "require_coder",
    "require_editable",
    "require_supervisor",
]
