"""A record's way through review: overriding a coding edit, pending reasons and notes, physician
queries, and finalizing (which the validation's errors block: :mod:`pipeline.records.validation`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.records.records import working_codes
from pipeline.records.validation import Finding, override_key, validate, validate_record
from pipeline.review.auth import CurrentUser
from pipeline.store.audit import record
from pipeline.store.models import Dictation, DictationStatus, PhysicianQuery, utcnow

PENDING_REASONS = (
    "Awaiting physician query",
    "Documentation incomplete",
    "Awaiting pathology or lab results",
    "Needs supervisor review",
    "Audio unclear",
    "Other",
)

#: physician query templates (compliant, non-leading: they offer options and "other/unable to determine")
QUERY_TEMPLATES: dict[str, dict[str, str]] = {
    "specificity": {
        "title": "Diagnosis specificity",
        "text": (
            "The dictation documents {finding}. Based on your clinical judgment, can the diagnosis be further "
            "specified (type, acuity, stage, laterality or cause)? Please document, for example: ___ ; "
            "other: ___ ; unable to determine."
        ),
    },
    "clinical_validation": {
        "title": "Clinical validation",
        "text": (
            "{finding} is documented. The clinical indicators in the record are: ___. Please confirm the diagnosis "
            "is clinically supported, or document that it was ruled out, or other: ___ ; unable to determine."
        ),
    },
    "conflicting": {
        "title": "Conflicting documentation",
        "text": (
            "The record contains conflicting documentation about {finding}. Please clarify which is correct: ___ ; "
            "other: ___ ; unable to determine."
        ),
    },
    "laterality": {
        "title": "Laterality",
        "text": "Please document the laterality of {finding}: right ; left ; bilateral ; unable to determine.",
    },
    "procedure_detail": {
        "title": "Procedure detail",
        "text": (
            "For the procedure {finding}, please document the approach (open, percutaneous, percutaneous endoscopic), "
            "the body part and any device left in place: ___ ; unable to determine."
        ),
    },
    "poa": {
        "title": "Present on admission",
        "text": ("Was {finding} present at the time of inpatient admission? yes ; no ; clinically undetermined."),
    },
}


#: coding edits a coder may override with a documented reason (the guidelines' own exceptions):
#: Excludes1 when the two conditions are unrelated (I.A.12.a); sex and age edits when the record
#: documents why (e.g. a transgender patient, an adult with a congenital condition)
OVERRIDABLE = ("excludes1", "sex_conflict", "age_conflict", "integral_symptom", "unspecified_with_specified")


class WorkflowError(ValueError):
    """A workflow step that cannot be taken now; the message says why."""


def override_edit(s: Session, d: Dictation, user: CurrentUser, kind: str, codes: list[str], reason: str) -> None:
    """Accept a coding edit as a documented exception: it no longer blocks finalizing."""
    reason = (reason or "").strip()
    if kind not in OVERRIDABLE:
        raise WorkflowError(f"{kind.replace('_', ' ')} edits cannot be overridden")
    if not reason:
        raise WorkflowError("give the reason the documentation supports")
    key = override_key(kind, codes)
    if not any(override_key(f.kind, f.codes) == key and f.severity == "error" for f in validate(d)):
        raise WorkflowError("no such coding edit on the record now")
    entry = {"kind": kind, "codes": list(key[1]), "reason": reason, "user": user.username, "at": utcnow().isoformat()}
    d.edit_overrides = [o for o in d.edit_overrides or [] if override_key(o["kind"], o["codes"]) != key] + [entry]
    record(s, user.username, "override", dictation_id=d.id, after=entry)


def set_pending(s: Session, d: Dictation, user: CurrentUser, reason: str, note: str | None = None) -> None:
    if reason not in PENDING_REASONS:
        raise WorkflowError(f"pending reason must be one of: {', '.join(PENDING_REASONS)}")
    before = {"status": d.status, "pending_reason": d.pending_reason}
    d.status = DictationStatus.PENDING
    d.pending_reason = reason
    if note is not None and note.strip():
        d.review_note = note.strip()
    d.claimed_by = None  # parked records go back to the queue
    d.claim_expires_at = None
    record(s, user.username, "pending", dictation_id=d.id, before=before, after={"status": d.status, "pending_reason": reason})


def resume(s: Session, d: Dictation, user: CurrentUser) -> None:
    """Take a pending record off hold (it stays claimed by whoever resumed it)."""
    if d.status != DictationStatus.PENDING:
        return
    before = {"status": d.status, "pending_reason": d.pending_reason}
    d.status = DictationStatus.CODED
    d.pending_reason = None
    record(s, user.username, "resume", dictation_id=d.id, before=before, after={"status": d.status})


def set_note(s: Session, d: Dictation, user: CurrentUser, note: str) -> None:
    before = {"note": d.review_note}
    d.review_note = note.strip() or None
    record(s, user.username, "note", dictation_id=d.id, before=before, after={"note": d.review_note})


def create_query(
    s: Session, d: Dictation, user: CurrentUser, template: str, finding: str, question: str | None = None
) -> PhysicianQuery:
    if template not in QUERY_TEMPLATES:
        raise WorkflowError(f"unknown query template {template!r}")
    text = (question or "").strip() or QUERY_TEMPLATES[template]["text"].format(finding=(finding or "the condition").strip())
    q = PhysicianQuery(
        dictation_id=d.id,
        template=template,
        question=text,
        created_by=user.id,
        physician=d.encounter.physician if d.encounter else None,
    )
    s.add(q)
    s.flush()
    record(s, user.username, "query_create", dictation_id=d.id, after={"query": q.id, "template": template})
    return q


def _query(s: Session, d: Dictation, query_id: int) -> PhysicianQuery:
    q = s.get(PhysicianQuery, query_id)
    if q is None or q.dictation_id != d.id:
        raise LookupError(f"query {query_id} is not on record {d.id}")
    return q


def answer_query(s: Session, d: Dictation, user: CurrentUser, query_id: int, answer: str) -> PhysicianQuery:
    q = _query(s, d, query_id)
    answer = (answer or "").strip()
    if not answer:
        raise WorkflowError("write the physician's answer")
    if q.status == "closed":
        raise WorkflowError(f"query {q.id} is closed")
    before = {"status": q.status}
    q.answer, q.status, q.answered_at = answer, "answered", utcnow()
    record(s, user.username, "query_answer", dictation_id=d.id, before=before, after={"query": q.id, "status": q.status})
    return q


def close_query(s: Session, d: Dictation, user: CurrentUser, query_id: int) -> PhysicianQuery:
    q = _query(s, d, query_id)
    before = {"status": q.status}
    q.status, q.closed_at = "closed", utcnow()
    record(s, user.username, "query_close", dictation_id=d.id, before=before, after={"query": q.id, "status": q.status})
    return q


def queries(s: Session, dictation_id: int) -> list[PhysicianQuery]:
    return list(s.scalars(select(PhysicianQuery).where(PhysicianQuery.dictation_id == dictation_id).order_by(PhysicianQuery.id)))


def finalize(s: Session, d: Dictation, user: CurrentUser) -> list[Finding]:
    """File the record as coded; refused (WorkflowError) while any error-level finding stands."""
    if d.status == DictationStatus.FINALIZED:
        raise WorkflowError(f"record {d.id} is already finalized")
    findings = validate_record(s, d)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise WorkflowError("cannot finalize: " + "; ".join(f.message for f in errors))
    before = {"status": d.status}
    d.status = DictationStatus.FINALIZED
    d.pending_reason = None
    d.finalized_by, d.finalized_at = user.id, utcnow()
    d.claimed_by = d.claim_expires_at = None
    codes = [{"system": p.system, "code": p.code, "principal": p.principal, "outcome": p.status} for p in working_codes(d)]
    rejected = [p.code for p in d.proposals if p.status == "rejected"]
    record(
        s,
        user.username,
        "finalize",
        dictation_id=d.id,
        before=before,
        after={"status": d.status, "codes": codes, "rejected": rejected, "warnings": [f.message for f in findings]},
    )
    return findings


def reopen(s: Session, d: Dictation, user: CurrentUser, reason: str) -> None:
    """A supervisor reopens a finalized record for review, with the reason; audited. The coder's
    decisions stay as they were; the record is back in the worklist, unclaimed."""
    if not user.has_role("supervisor"):
        raise PermissionError("only a supervisor can reopen a finalized record")
    if d.status != DictationStatus.FINALIZED:
        raise WorkflowError(f"record {d.id} is {d.status}, not finalized: there is nothing to reopen")
    reason = reason.strip()
    if not reason:
        raise WorkflowError("say why the record is reopened (the reason goes on the audit trail)")
    before = {
        "status": d.status,
        "finalized_by": d.finalized_by,
        "finalized_at": d.finalized_at.isoformat() if d.finalized_at else None,
    }
    d.status = DictationStatus.CODED
    d.finalized_by = d.finalized_at = None
    d.claimed_by = d.claim_expires_at = None
    record(s, user.username, "reopen", dictation_id=d.id, before=before, after={"status": d.status, "reason": reason})


__all__ = [
    "OVERRIDABLE",
    "PENDING_REASONS",
    "QUERY_TEMPLATES",
    "WorkflowError",
    "answer_query",
    "close_query",
    "create_query",
    "finalize",
    "override_edit",
    "reopen",
    "queries",
    "resume",
    "set_note",
    "set_pending",
]
