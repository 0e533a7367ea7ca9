"""A worker's lease on a dictation: only its holder stores results. :mod:`pipeline.store.processing`
claims, renews and releases leases; :func:`pipeline.store.repository.store_results` stores only
under a :class:`LeaseGuard` whose owner still holds the lease."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from pipeline.store.models import Dictation, utcnow


class LeaseLost(RuntimeError):
    """Another worker holds this dictation now (ours expired); our results are discarded."""


@dataclass(frozen=True)
class LeaseGuard:
    """Store only while ``owner`` holds the dictation's lease (a drop-folder worker); the results
    then carry the try's ``stage_seconds`` and the lease is released with them."""

    owner: str
    stage_seconds: dict = field(default_factory=dict)


def update_held(session: Session, dictation_id: int, owner: str, **values: Any) -> bool:
    """Set ``values`` on the dictation only while ``owner`` holds its lease; whether it did."""
    res = cast(
        "CursorResult[Any]",  # an UPDATE's result: it has a rowcount
        session.execute(
            update(Dictation)
            .where(Dictation.id == dictation_id, Dictation.lease_owner == owner)
            .values(**values)
            .execution_options(synchronize_session=False)
        ),
    )
    return res.rowcount == 1


def renew(session: Session, dictation_id: int, owner: str, lease_s: float) -> bool:
    """Extend ``owner``'s lease by ``lease_s`` from now; False when it no longer holds it."""
    return update_held(session, dictation_id, owner, lease_expires_at=utcnow() + timedelta(seconds=lease_s))
