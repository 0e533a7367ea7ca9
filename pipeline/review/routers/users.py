"""The admins' user accounts page: add a user, disable or enable one, reset a password, change a role."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.review import auth
from pipeline.review.dependencies import db_session, require_admin
from pipeline.review.responses import action_done, action_refused, page
from pipeline.roles import ROLES
from pipeline.store.models import User

router = APIRouter()


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, user=Depends(require_admin), s: Session = Depends(db_session)) -> Response:
    return page(request, "users.html", user, users=list(s.scalars(select(User).order_by(User.username))), roles=ROLES)


@router.post("/admin/users")
async def users_add(request: Request, user=Depends(require_admin), s: Session = Depends(db_session)) -> Response:
    form = await request.form()
    try:
        u = auth.add_user(
            s,
            str(form.get("username", "")),
            str(form.get("password", "")),
            str(form.get("role", "")),
            str(form.get("full_name", "")) or None,
            actor=user.username,
        )
    except auth.AccountError as e:
        return action_refused(request, s, None, e, to="/admin/users")
    return action_done(request, s, None, f"User {u.username} added.", to="/admin/users")


@router.post("/admin/users/{username}/{action}")
async def users_change(
    username: str, action: str, request: Request, user=Depends(require_admin), s: Session = Depends(db_session)
) -> Response:
    form = await request.form()
    try:
        if action == "disable":
            if username == user.username:
                raise auth.AccountError("you cannot disable your own account")
            auth.set_active(s, username, False, actor=user.username)
        elif action == "enable":
            auth.set_active(s, username, True, actor=user.username)
        elif action == "reset":
            auth.reset_password(s, username, str(form.get("password", "")), actor=user.username)
        elif action == "role":
            auth.set_role(s, username, str(form.get("role", "")), actor=user.username)
        else:
            raise HTTPException(404, "no such action")
    except auth.AccountError as e:
        return action_refused(request, s, None, e, to="/admin/users")
    return action_done(request, s, None, f"User {username}: {action} done.", to="/admin/users")
