"""A coder's decisions on the codes of a record: accept, reject, edit, add, principal, order.

Each decision needs the coder's claim on the record, changes the working code set, writes
a :class:`ReviewDecision` (the per-code outcome behind acceptance-rate reports, tagged with
the proposing model's version) and an audit event with the before and after.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.code.lookup.codeset import get_codeset
from pipeline.code.types import CM, PCS
from pipeline.records.records import LIVE
from pipeline.review.auth import CurrentUser
from pipeline.store.audit import record
from pipeline.store.models import CodeProposalRecord, Dictation, ReviewDecision

SYSTEMS = (CM, PCS)
#: the reject-reason picker's choices (a coder may add a detail after the chosen reason)
REJECT_REASONS = (
    "Not documented in the dictation",
    "Negated or ruled out",
    "Integral to another coded condition",
    "A more specific code applies",
    "History only, not current",
    "Wrong body part or laterality",
)


class DecisionError(ValueError):
    """A decision that cannot be made as asked; the message says why."""


class HeaderCode(DecisionError):
    """A category or subcategory, not a billable code: refused at entry, with the codes to choose from."""

    def __init__(self, code: str, choices: tuple[tuple[str, str], ...]):
        self.code, self.choices = code, choices
        shown = ", ".join(c for c, _ in choices[:12]) + (f" and {len(choices) - 12} more" if len(choices) > 12 else "")
        super().__init__(f"{code} is a header code, not billable: choose one of {shown}")


def normalize_code(system: str, code: str) -> tuple[str, str]:
    """(display code, description) for a valid code of the system; DecisionError otherwise."""
    cs = get_codeset()
    if system == CM:
        from pipeline.code.edits.tabular import billable_children, cm_status

        c = cs.cm_normalize(code)
        if cm_status(c) == "header":
            kids = billable_children(c)
            raise HeaderCode(c, kids)
        if not cs.cm_is_valid(c):
            raise DecisionError(f"{code!r} is not an ICD-10-CM code (FY2026)")
        return c, cs.cm_description(c) or ""
    if system == PCS:
        c = cs.pcs_normalize(code)
        if not cs.pcs_is_valid(c):
            raise DecisionError(f"{code!r} is not a valid ICD-10-PCS code (FY2026 tables)")
        return c, cs.pcs_description(c) or ""
    raise DecisionError(f"system must be {CM} or {PCS}")


def _snapshot(p: CodeProposalRecord) -> dict:
    return {"id": p.id, "system": p.system, "code": p.code, "status": p.status, "principal": p.principal, "rank": p.rank}


def _proposal(d: Dictation, proposal_id: int) -> CodeProposalRecord:
    for p in d.proposals:
        if p.id == proposal_id:
            return p
    raise LookupError(f"code {proposal_id} is not on record {d.id}")


def _decide(
    s: Session,
    d: Dictation,
    user: CurrentUser,
    p: CodeProposalRecord,
    action: str,
    before: dict,
    reason: str | None = None,
    code_before: str | None = None,
) -> None:
    s.add(
        ReviewDecision(
            dictation_id=d.id,
            proposal_id=p.id,
            user=user.username,
            action=action,
            system=p.system,
            code_before=code_before,
            code_after=p.code if p.status != "rejected" else None,
            reason=reason,
            model_version=p.model_version,
        )
    )
    record(
        s,
        user.username,
        action,
        dictation_id=d.id,
        before=before,
        after={**_snapshot(p), **({"reason": reason} if reason else {})},
    )


def _check_not_duplicate(d: Dictation, system: str, code: str, other_than: int | None = None) -> None:
    for p in d.proposals:
        if p.system == system and p.code == code and p.id != other_than:
            state = "rejected" if p.status == "rejected" else "already on"
            raise DecisionError(f"{code} is {state} the record" + ("; use Undo on it instead" if p.status == "rejected" else ""))


def accept(s: Session, d: Dictation, user: CurrentUser, proposal_id: int) -> CodeProposalRecord:
    p = _proposal(d, proposal_id)
    before = _snapshot(p)
    if p.status == "rejected":
        raise DecisionError(f"{p.code} was rejected; use Undo first")
    if p.source == "pipeline" and p.status == "proposed":
        p.status = "accepted"
    _decide(s, d, user, p, "accept", before, code_before=p.proposed_code)
    return p


def accept_remaining(s: Session, d: Dictation, user: CurrentUser) -> list[CodeProposalRecord]:
    """Accept every code still proposed, in sequence: each is its own decision, audited as an accept."""
    remaining = sorted((p for p in d.proposals if p.status == "proposed"), key=lambda p: (p.system != CM, p.rank))
    return [accept(s, d, user, p.id) for p in remaining]


def reject(s: Session, d: Dictation, user: CurrentUser, proposal_id: int, reason: str) -> CodeProposalRecord:
    reason = (reason or "").strip()
    p = _proposal(d, proposal_id)
    if not reason and p.source != "coder":
        raise DecisionError("give a reason for rejecting a code")
    before = _snapshot(p)
    if p.source == "coder":  # a coder's own addition is simply taken off again: no reason needed
        record(s, user.username, "remove", dictation_id=d.id, before=before, after={"reason": reason or None})
        d.proposals.remove(p)
        return p
    p.status = "rejected"
    p.reject_reason = reason
    p.principal = False
    _decide(s, d, user, p, "reject", before, reason=reason, code_before=p.code)
    return p


def undo(s: Session, d: Dictation, user: CurrentUser, proposal_id: int) -> CodeProposalRecord:
    """Back to the pipeline's proposal as it was (the decision history stays in the audit)."""
    p = _proposal(d, proposal_id)
    if p.source != "pipeline":
        raise DecisionError("only pipeline proposals can be undone; reject an added code to remove it")
    before = _snapshot(p)
    if p.proposed_code and p.proposed_code != p.code:
        _check_not_duplicate(d, p.system, p.proposed_code, other_than=p.id)
        p.code, p.description = normalize_code(p.system, p.proposed_code)
    p.status = "proposed"
    p.reject_reason = None
    record(s, user.username, "undo", dictation_id=d.id, before=before, after=_snapshot(p))
    return p


def edit(
    s: Session, d: Dictation, user: CurrentUser, proposal_id: int, new_code: str, reason: str | None = None
) -> CodeProposalRecord:
    p = _proposal(d, proposal_id)
    code, description = normalize_code(p.system, new_code)
    if code == p.code:
        return accept(s, d, user, proposal_id)
    _check_not_duplicate(d, p.system, code, other_than=p.id)
    before = _snapshot(p)
    old = p.code
    p.code, p.description = code, description
    if p.source == "pipeline":
        p.status = "edited" if code != p.proposed_code else "accepted"
    p.reject_reason = None
    _decide(s, d, user, p, "edit", before, reason=(reason or "").strip() or None, code_before=old)
    return p


def add(
    s: Session, d: Dictation, user: CurrentUser, system: str, code: str, reason: str | None = None, evidence: dict | None = None
) -> CodeProposalRecord:
    """Add a code; ``evidence`` (transcript words the coder highlighted, see
    :func:`pipeline.review.transcript_view.span_evidence`) is kept as its evidence."""
    code, description = normalize_code(system, code)
    _check_not_duplicate(d, system, code)
    rank = max((q.rank for q in d.proposals), default=0) + 1
    p = CodeProposalRecord(
        system=system,
        code=code,
        description=description,
        score=None,
        rank=rank,
        rationale=f"Added by {user.username}" + (f": {reason.strip()}" if reason and reason.strip() else ""),
        evidence=[evidence] if evidence else [],
        edits=[],
        model_version="coder",
        status="added",
        source="coder",
        principal=system == CM and not any(q.principal for q in d.proposals if q.status in LIVE),
    )
    d.proposals.append(p)
    s.flush()
    _decide(s, d, user, p, "add", {}, reason=(reason or "").strip() or None)
    return p


def set_principal(s: Session, d: Dictation, user: CurrentUser, proposal_id: int) -> CodeProposalRecord:
    p = _proposal(d, proposal_id)
    if p.system != CM:
        raise DecisionError("only an ICD-10-CM diagnosis can be the principal (first-listed) diagnosis")
    if p.status == "rejected":
        raise DecisionError(f"{p.code} was rejected")
    before = {"principal": next((q.code for q in d.proposals if q.principal), None)}
    for q in d.proposals:
        q.principal = q is p
    # the principal diagnosis is listed first
    cm = sorted((q for q in d.proposals if q.system == CM), key=lambda q: (not q.principal, q.rank))
    _renumber(d, cm)
    record(s, user.username, "principal", dictation_id=d.id, before=before, after={"principal": p.code})
    return p


def _renumber(d: Dictation, ordered_system: list[CodeProposalRecord]) -> None:
    ranks = sorted(q.rank for q in ordered_system)
    for q, r in zip(ordered_system, ranks):
        q.rank = r


def move(s: Session, d: Dictation, user: CurrentUser, proposal_id: int, direction: str) -> CodeProposalRecord:
    """Move a code up or down within its system's sequence."""
    p = _proposal(d, proposal_id)
    seq = sorted((q for q in d.proposals if q.system == p.system), key=lambda q: q.rank)
    i = seq.index(p)
    j = i - 1 if direction == "up" else i + 1
    if direction not in ("up", "down"):
        raise DecisionError("direction is up or down")
    if 0 <= j < len(seq):
        before = [q.code for q in seq]
        seq[i], seq[j] = seq[j], seq[i]
        _renumber(d, seq)
        record(s, user.username, "reorder", dictation_id=d.id, before={"order": before}, after={"order": [q.code for q in seq]})
    return p


def decisions(s: Session, dictation_id: int) -> list[ReviewDecision]:
    return list(s.scalars(select(ReviewDecision).where(ReviewDecision.dictation_id == dictation_id).order_by(ReviewDecision.id)))
