"""Accounts, passwords, login sessions and roles for the review queue.

Passwords are hashed with Argon2id; the browser holds only a random session token whose
SHA-256 is stored server-side with the session's CSRF token. Repeated failed logins lock
the account for a while; every login, failure and account change is audited.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from pipeline.review.timeutil import as_utc
from pipeline.roles import ROLES, has_role
from pipeline.settings import Settings
from pipeline.store.audit import record
from pipeline.store.models import User, WebSession, utcnow

MIN_PASSWORD = 10

_hasher = PasswordHasher()
# verified against when the user does not exist, so timing does not reveal user names
_DUMMY_HASH = _hasher.hash("not-a-real-password")
# Argon2 takes 64 MiB and 4 threads for about a quarter second a hash: at most one hash per two
# cores at a time, so a burst of logins queues instead of starving every other request of CPU.
_HASH_SLOTS = threading.BoundedSemaphore(max(1, (os.cpu_count() or 2) // 2))


def _verify(password_hash: str, password: str) -> None:
    with _HASH_SLOTS:
        _hasher.verify(password_hash, password)


class AuthError(Exception):
    """Login refused; the message is safe to show (it never says which part was wrong)."""


class AccountError(ValueError):
    """A user-management request that cannot be done (bad role, weak password, ...)."""


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    role: str
    csrf_token: str
    full_name: str | None = None

    def has_role(self, role: str) -> bool:
        return has_role(self.role, role)


def hash_password(password: str) -> str:
    with _HASH_SLOTS:
        return _hasher.hash(password)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password must have at least {MIN_PASSWORD} characters")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(s: Session, username: str, password: str, role: str, full_name: str | None = None, actor: str = "admin") -> User:
    username = username.strip()
    if not username or len(username) > 80 or not all(c.isalnum() or c in "._-@" for c in username):
        raise AccountError("user name: 1-80 letters, digits or . _ - @")
    _check_role(role)
    _check_password(password)
    if s.scalar(select(User).where(User.username == username)):
        raise AccountError(f"user {username!r} already exists")
    user = User(username=username, password_hash=hash_password(password), role=role, full_name=full_name)
    s.add(user)
    s.flush()
    record(s, actor, "user_add", after={"user": username, "role": role})
    return user


def get_user(s: Session, username: str) -> User:
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"no user {username!r}")
    return user


def set_active(s: Session, username: str, active: bool, actor: str = "admin") -> User:
    user = get_user(s, username)
    user.active = active
    if not active:  # a disabled account is logged out everywhere
        s.execute(delete(WebSession).where(WebSession.user_id == user.id))
    record(s, actor, "user_enable" if active else "user_disable", after={"user": username})
    return user


def reset_password(s: Session, username: str, password: str, actor: str = "admin") -> User:
    _check_password(password)
    user = get_user(s, username)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    s.execute(delete(WebSession).where(WebSession.user_id == user.id))
    record(s, actor, "password_reset", after={"user": username})
    return user


def set_role(s: Session, username: str, role: str, actor: str = "admin") -> User:
    _check_role(role)
    user = get_user(s, username)
    before = user.role
    user.role = role
    record(s, actor, "role_change", before={"user": username, "role": before}, after={"user": username, "role": role})
    return user


def login(s: Session, username: str, password: str, settings: Settings) -> tuple[str, CurrentUser]:
    """Check the password; returns (session token for the cookie, the user)."""
    now = utcnow()
    user = s.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        try:
            _verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        record(s, "anonymous", "login_failed", after={"user": username[:80], "why": "unknown user"})
        raise AuthError("Wrong user name or password.")
    if user.locked_until is not None and as_utc(user.locked_until) > now:
        record(s, user.username, "login_failed", after={"why": "locked"})
        raise AuthError("Too many failed logins: this account is locked for a while. Ask a supervisor or try later.")
    try:
        _verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        locked = user.failed_logins >= settings.max_failed_logins
        if locked:
            user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
            user.failed_logins = 0
        record(s, user.username, "login_failed", after={"why": "password", "locked": locked})
        raise AuthError("Wrong user name or password.")
    if not user.active:
        record(s, user.username, "login_failed", after={"why": "disabled"})
        raise AuthError("This account is disabled.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    purge_expired_sessions(s)
    token = secrets.token_urlsafe(32)
    ws = WebSession(
        token_hash=_token_hash(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=now + timedelta(hours=settings.session_hours),
    )
    s.add(ws)
    record(s, user.username, "login")
    return token, CurrentUser(user.id, user.username, user.role, ws.csrf_token, user.full_name)


def session_user(s: Session, token: str | None, settings: Settings) -> CurrentUser | None:
    """The logged-in user for a session token, sliding the expiry; None when not valid."""
    if not token:
        return None
    ws = s.scalar(select(WebSession).where(WebSession.token_hash == _token_hash(token)))
    if ws is None:
        return None
    now = utcnow()
    if as_utc(ws.expires_at) <= now or not ws.user.active:
        s.delete(ws)
        return None
    new_expiry = now + timedelta(hours=settings.session_hours)
    if new_expiry - as_utc(ws.expires_at) > timedelta(minutes=1):
        ws.expires_at = new_expiry
    u = ws.user
    return CurrentUser(u.id, u.username, u.role, ws.csrf_token, u.full_name)


def logout(s: Session, token: str | None) -> None:
    if not token:
        return
    ws = s.scalar(select(WebSession).where(WebSession.token_hash == _token_hash(token)))
    if ws is not None:
        record(s, ws.user.username, "logout")
        s.delete(ws)


def purge_expired_sessions(s: Session) -> int:
    res = cast("CursorResult[Any]", s.execute(delete(WebSession).where(WebSession.expires_at <= utcnow())))  # a DELETE's result
    return res.rowcount or 0


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given and secrets.compare_digest(expected, given))
