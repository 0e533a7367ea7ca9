"""A suggested CDI query asked and answered: stored as a PhysicianQuery (so the review app's open-
query check blocks finalizing until it is answered or closed) plus its impact (CdiQueryRecord).

Answering with an option records which one; an option that documents a diagnosis counts as the
physician agreeing, "other"/"unable to determine"/"not significant" as not. The coder then codes
what the answer documents (the answer does not change codes by itself: the coder decides).
"""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.claim.cdi import CdiKind, QuerySuggestion
from pipeline.store.audit import record as audit
from pipeline.store.models import CdiQueryRecord, Dictation, PhysicianQuery, utcnow


class CdiError(ValueError):
    """A CDI step that cannot be taken; the message says why."""


def ask(s: Session, d: Dictation, user_id: int, user: str, suggestion: QuerySuggestion) -> PhysicianQuery:
    """Send the suggested query (once per kind and record: a second one is refused)."""
    if any(r.kind == suggestion.kind.value for r in records_for(s, d.id).values()):
        raise CdiError(f"a {suggestion.kind.value.replace('_', ' ')} query was already sent for record {d.id}")
    q = PhysicianQuery(
        dictation_id=d.id,
        template=f"cdi_{suggestion.kind.value}"[:40],
        question=suggestion.question,
        created_by=user_id,
        physician=d.encounter.physician if d.encounter else None,
    )
    s.add(q)
    s.flush()
    before = next((o for o in suggestion.options if not o.specific), None)
    s.add(
        CdiQueryRecord(
            query_id=q.id,
            dictation_id=d.id,
            kind=suggestion.kind.value,
            target_code=suggestion.target_code,
            options=[{**asdict(o), "effect": o.effect.value} for o in suggestion.options],
            drg_before=suggestion.current_drg,
            weight_before=before.weight if before else None,
        )
    )
    audit(s, user, "cdi_query", dictation_id=d.id, after={"query": q.id, "kind": suggestion.kind.value})
    s.flush()
    return q


def answer(s: Session, d: Dictation, user: str, query_id: int, option: int) -> CdiQueryRecord:
    rec = s.scalar(select(CdiQueryRecord).where(CdiQueryRecord.query_id == query_id, CdiQueryRecord.dictation_id == d.id))
    q = s.get(PhysicianQuery, query_id)
    if rec is None or q is None:
        raise LookupError(f"CDI query {query_id} is not on record {d.id}")
    if q.status == "closed":
        raise CdiError(f"query {query_id} is closed")
    if not 0 <= option < len(rec.options):
        raise CdiError(f"choose one of the {len(rec.options)} options")
    chosen = rec.options[option]
    rec.answer_option, rec.agreed, rec.answered_at = option, bool(chosen["specific"]), utcnow()
    q.answer, q.status, q.answered_at = chosen["label"], "answered", rec.answered_at
    audit(
        s,
        user,
        "cdi_answer",
        dictation_id=d.id,
        after={
            "query": query_id,
            "option": chosen["label"],
            "codes": chosen["codes"],
            "agreed": rec.agreed,
        },
    )
    s.flush()
    return rec


def records_for(s: Session, dictation_id: int) -> dict[int, CdiQueryRecord]:
    return {r.query_id: r for r in s.scalars(select(CdiQueryRecord).where(CdiQueryRecord.dictation_id == dictation_id))}


__all__ = ["CdiError", "CdiKind", "answer", "ask", "records_for"]
