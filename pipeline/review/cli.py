"""``mrt serve`` and ``mrt users``: run the review queue and manage its accounts."""

from __future__ import annotations

import getpass
import os
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

users_app = typer.Typer(no_args_is_help=True, help="Review-queue accounts: add, disable, enable, reset-password, list.")
out = Console()
err = Console(stderr=True)


def _password(given: Optional[str]) -> str:
    if given:
        return given
    env = os.environ.get("MRT_NEW_PASSWORD")
    if env:
        return env
    first = getpass.getpass("Password (10+ characters): ")
    if getpass.getpass("Again: ") != first:
        err.print("[red]The passwords differ.[/red]")
        raise typer.Exit(2)
    return first


def _run(fn, *args, **kwargs):
    from pipeline.review.auth import AccountError
    from pipeline.store.db import session_scope

    try:
        with session_scope() as s:
            return fn(s, *args, **kwargs)
    except AccountError as e:
        err.print(f"[red]{e}[/red]")
        raise typer.Exit(2)


@users_app.command("add")
def users_add(
    username: str,
    role: str = typer.Option("coder", help="coder, supervisor or admin"),
    full_name: Optional[str] = typer.Option(None, "--name", help="Full name"),
    password: Optional[str] = typer.Option(None, help="Password (else asked, or MRT_NEW_PASSWORD)"),
) -> None:
    """Add an account."""
    from pipeline.review import auth

    _run(lambda s: auth.add_user(s, username, _password(password), role, full_name, actor="cli"))
    out.print(f"User [bold]{username}[/bold] added as {role}.")


@users_app.command("disable")
def users_disable(username: str) -> None:
    """Disable an account (and log it out everywhere)."""
    from pipeline.review import auth

    _run(lambda s: auth.set_active(s, username, False, actor="cli"))
    out.print(f"User {username} disabled.")


@users_app.command("enable")
def users_enable(username: str) -> None:
    from pipeline.review import auth

    _run(lambda s: auth.set_active(s, username, True, actor="cli"))
    out.print(f"User {username} enabled.")


@users_app.command("reset-password")
def users_reset(username: str, password: Optional[str] = typer.Option(None, help="New password (else asked)")) -> None:
    """Set a new password, unlock the account and end its sessions."""
    from pipeline.review import auth

    _run(lambda s: auth.reset_password(s, username, _password(password), actor="cli"))
    out.print(f"Password of {username} reset.")


@users_app.command("list")
def users_list() -> None:
    from sqlalchemy import select

    from pipeline.store.models import User

    rows = _run(
        lambda s: [
            (u.username, u.full_name or "", u.role, "active" if u.active else "disabled")
            for u in s.scalars(select(User).order_by(User.username))
        ]
    )
    table = Table(title="Users")
    for col in ("User", "Name", "Role", "Status"):
        table.add_column(col)
    for r in rows:
        table.add_row(*r)
    out.print(table)


def serve(
    host: Optional[str] = typer.Option(None, help="Address to listen on (default from settings: 127.0.0.1)"),
    port: Optional[int] = typer.Option(None, help="Port (default 8400)"),
    workers: int = typer.Option(1, help="Server processes"),
) -> None:
    """Start the review queue web app on the pipeline's database."""
    import uvicorn
    from sqlalchemy import func, select

    from pipeline.settings import get_settings
    from pipeline.store.models import User

    settings = get_settings()
    host, port = host or settings.review_host, port or settings.review_port
    if not _run(lambda s: s.scalar(select(func.count()).select_from(User))):
        err.print("[yellow]No accounts yet:[/yellow] add one with  mrt users add NAME --role admin")
    err.print(f"Review queue on http://{host}:{port}  (database: {settings.resolved_database_url.split('@')[-1]})")
    uvicorn.run(
        "pipeline.review.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        proxy_headers=True,
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")
