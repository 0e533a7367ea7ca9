"""The audit trail: one append-only row per action, by a person or by the pipeline.

Rows are only ever added (the ORM refuses updates and deletes of ``AuditEvent``); the
record screen shows them as the record's history timeline.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.store.models import AuditEvent


def record(
    s: Session,
    actor: str,
    action: str,
    *,
    dictation_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    event = AuditEvent(dictation_id=dictation_id, actor=actor, action=action, before=before, after=after)
    s.add(event)
    return event


def timeline(s: Session, dictation_id: int) -> list[AuditEvent]:
    """The record's history, oldest first."""
    return list(
        s.scalars(select(AuditEvent).where(AuditEvent.dictation_id == dictation_id).order_by(AuditEvent.at, AuditEvent.id))
    )
