"""Loading stored records with what the exports and reports need, a record's working code set,
and which codes are final.

A record's *working code set* is every code not rejected (proposed, accepted, edited or added), in
sequence: what the coder is working on and what validation checks. A code is *final* when its record is finalized (a coder signed it off) and the coder kept it
(accepted, edited or added). Codes of records not yet finalized are *provisional*; rejected
codes are never exported or counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pipeline.code.types import CM
from pipeline.store.models import CodeProposalRecord, Dictation, DictationStatus, Encounter, User

LIVE = ("proposed", "accepted", "edited", "added")  # statuses that are part of the working code set
KEPT = ("accepted", "edited", "added")


class RecordError(ValueError):
    """Bad input to a records operation (unknown record, bad filter): nothing was changed."""


def load_records(s: Session, ids: Iterable[int]) -> list[Dictation]:
    """The records with these IDs (with transcript, codes, encounter and patient), in the order given."""
    ids = list(dict.fromkeys(int(i) for i in ids))
    if not ids:
        return []
    found = {
        d.id: d
        for d in s.scalars(
            select(Dictation)
            .where(Dictation.id.in_(ids))
            .options(
                selectinload(Dictation.transcript),
                selectinload(Dictation.proposals),
                selectinload(Dictation.encounter).selectinload(Encounter.patient),
            )
        )
    }
    missing = [i for i in ids if i not in found]
    if missing:
        raise RecordError(f"no record with ID {', '.join(map(str, missing))}")
    return [found[i] for i in ids]


def working_codes(d: Dictation) -> list[CodeProposalRecord]:
    """The record's current code set (everything not rejected), in sequence."""
    return sorted((p for p in d.proposals if p.status in LIVE), key=lambda p: (p.system != CM, p.rank))


def is_final(d: Dictation, p: CodeProposalRecord) -> bool:
    return d.status == DictationStatus.FINALIZED and p.status in KEPT


def exported_codes(d: Dictation, include_provisional: bool = True) -> list[tuple[CodeProposalRecord, bool]]:
    """(code, final) pairs: kept codes of a finalized record are final; codes of other records are
    provisional (left out with ``include_provisional=False``); rejected codes never."""
    out = []
    for p in sorted(d.proposals, key=lambda p: (p.system, not p.principal, p.rank)):
        if p.status == "rejected":
            continue
        final = is_final(d, p)
        if final or (include_provisional and d.status != DictationStatus.FINALIZED):
            out.append((p, final))
    return out


def service_date(d: Dictation) -> date | None:
    """Date of service, else the day the dictation came in."""
    if d.encounter is not None and d.encounter.date_of_service is not None:
        return d.encounter.date_of_service
    return d.received_at.date() if d.received_at else None


def finalizer_names(s: Session, records: list[Dictation]) -> dict[int, str]:
    ids = {d.finalized_by for d in records if d.finalized_by}
    if not ids:
        return {}
    return dict(s.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


def iso(v: date | datetime | None) -> str | None:
    return v.isoformat() if v is not None else None


def csv_safe(value):
    """A cell a spreadsheet will not run as a formula (text starting with = + - @ gets a leading ')."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            float(value)
            return value
        except ValueError:
            return "'" + value
    return value
