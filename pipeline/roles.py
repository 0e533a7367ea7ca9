"""The review app's roles, lowest first: each role may do everything the roles below it may.

One list for every place that checks a role (the web app's role dependencies, the ``mrt records``
commands that name a supervisor, account management)."""

from __future__ import annotations

ROLES = ("coder", "supervisor", "admin")
_RANK = {role: i for i, role in enumerate(ROLES)}


def has_role(role: str, required: str) -> bool:
    """Whether an account with ``role`` may do what needs ``required`` (both must be one of :data:`ROLES`)."""
    return _RANK[role] >= _RANK[required]


__all__ = ["ROLES", "has_role"]
