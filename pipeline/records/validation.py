"""A record's validation: the coding edits on its working code set, the claim's edits (inpatient:
the MS-DRG grouper's MCE edits, an ungroupable stay, POA), the overrides a coder documented, and
the review's own checks (codes not yet decided, no diagnosis, open physician queries).

An error-level finding blocks finalizing (:func:`pipeline.review.workflow.finalize`); the
record completeness check (:mod:`pipeline.records.completeness`) lists the same errors.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.code.types import CM
from pipeline.records.records import working_codes
from pipeline.store.models import Dictation, PhysicianQuery
from pipeline.store.repository import patient_age


@dataclass(frozen=True)
class Finding:
    severity: str  # error | warning
    kind: str
    codes: tuple[str, ...]
    message: str


def validate(d: Dictation) -> list[Finding]:
    """The coding edits on the working code set, plus the review's own checks (not queries:
    :func:`validate_record` adds those)."""
    from pipeline.code.edits.checks import CodeLine, check_codes

    codes = working_codes(d)
    enc = d.encounter
    sex = enc.patient.sex if enc is not None and enc.patient is not None else None
    findings = [
        Finding(f.severity, f.kind, tuple(f.codes), f.message)
        for f in check_codes(
            [CodeLine(p.system, p.code, p.principal) for p in codes],
            sex=sex,
            age=patient_age(d),
            setting=(enc.setting if enc is not None else None) or "outpatient",
        )
    ]
    findings += _claim_findings(d)  # inpatient: the MS-DRG grouper's MCE edits, ungroupable stay, POA (pipeline.claim)
    findings = _apply_overrides(d, findings)
    d.edit_errors = sum(1 for f in findings if f.severity == "error")  # the worklist's "coding edits pending"
    undecided = [p.code for p in codes if p.status == "proposed"]
    if undecided:
        findings.append(
            Finding(
                "error",
                "undecided",
                tuple(undecided),
                f"{len(undecided)} proposed code(s) not yet accepted, edited or rejected: {', '.join(undecided)}",
            )
        )
    if not any(p.system == CM for p in codes):
        findings.append(Finding("error", "no_diagnosis", (), "The record has no ICD-10-CM diagnosis code"))
    return findings


def _claim_findings(d: Dictation) -> list[Finding]:
    from sqlalchemy.orm import object_session

    from pipeline.claim.record import claim_findings

    s = object_session(d)
    if s is None:
        return []
    return [Finding(f.severity, f.kind, f.codes, f.message) for f in claim_findings(s, d)]


def override_key(kind: str, codes) -> tuple[str, tuple[str, ...]]:
    return kind, tuple(sorted(codes))


def _apply_overrides(d: Dictation, findings: list[Finding]) -> list[Finding]:
    overrides = {override_key(o["kind"], o["codes"]): o for o in d.edit_overrides or []}
    out = []
    for f in findings:
        o = overrides.get(override_key(f.kind, f.codes)) if f.severity == "error" else None
        if o is not None:
            f = Finding("warning", f.kind, f.codes, f"{f.message} Overridden by {o['user']}: {o['reason']}")
        out.append(f)
    return out


def open_queries(s: Session, dictation_id: int) -> list[PhysicianQuery]:
    return list(
        s.scalars(select(PhysicianQuery).where(PhysicianQuery.dictation_id == dictation_id, PhysicianQuery.status == "open"))
    )


def validate_record(s: Session, d: Dictation) -> list[Finding]:
    findings = validate(d)
    n_open = len(open_queries(s, d.id))
    if n_open:
        findings.append(
            Finding("error", "open_query", (), f"{n_open} physician query(ies) still open: record the answer or close them")
        )
    return findings


__all__ = ["Finding", "open_queries", "override_key", "validate", "validate_record"]
