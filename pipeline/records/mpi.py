"""Master patient index: likely duplicate patients, supervisor merges (reversible), linking a
record to a patient.

A pair is a likely duplicate when

* the MRNs are the same once written alike (case, spaces, dashes, leading zeros), or
* the sexes do not conflict, the names are alike (rapidfuzz token-sort ratio, with first and
  last name swapped tried too) and the birth dates are equal, or differ only by two swapped
  digits, by swapped month and day, or in one field (year, month or day).

A merge moves the duplicate's encounters (and so its dictations) to the survivor, keeps the
duplicate's row (marked merged in ``patient_merges``, its MRN still finds the survivor) and
writes an audit event for the merge and for each moved record; ``unmerge`` moves them back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pipeline.records.records import RecordError, iso
from pipeline.store.audit import record as audit
from pipeline.store.models import Dictation, DictationStatus, Encounter, Patient, PatientMerge, utcnow

NAME_THRESHOLD = 85.0  # rapidfuzz ratio (0-100) for "names alike"
MIN_SCORE = 0.6


@dataclass(frozen=True)
class DuplicatePair:
    patient_a: int
    patient_b: int
    score: float  # 0..1
    reasons: tuple[str, ...]
    a: dict = field(default_factory=dict, compare=False)
    b: dict = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict:
        return {
            "patient_a": self.patient_a,
            "patient_b": self.patient_b,
            "score": round(self.score, 3),
            "reasons": list(self.reasons),
            "a": self.a,
            "b": self.b,
        }


def normalize_mrn(mrn: str | None) -> str:
    return re.sub(r"[^0-9A-Z]", "", (mrn or "").upper()).lstrip("0")


def normalize_name(name: str | None) -> str:
    """'DOE, Jane A.' -> 'jane a doe'."""
    n = (name or "").strip()
    if "," in n:
        last, _, first = n.partition(",")
        n = f"{first} {last}"
    return " ".join(re.sub(r"[^\w\s'-]", " ", n.lower()).split())


def name_similarity(a: str | None, b: str | None) -> float:
    na, nb = normalize_name(a), normalize_name(b)
    if not na or not nb:
        return 0.0
    return max(fuzz.token_sort_ratio(na, nb), fuzz.ratio(na, nb))


def birth_date_relation(a: date | None, b: date | None) -> str | None:
    """'equal', 'transposed digits', 'month/day swapped', 'one field differs', or None."""
    if a is None or b is None:
        return None
    if a == b:
        return "equal"
    if (a.month, a.day) == (b.day, b.month) and a.year == b.year:
        return "month/day swapped"
    sa, sb = a.strftime("%Y%m%d"), b.strftime("%Y%m%d")
    diff = [i for i in range(8) if sa[i] != sb[i]]
    if len(diff) == 2 and diff[1] == diff[0] + 1 and sa[diff[0]] == sb[diff[1]] and sa[diff[1]] == sb[diff[0]]:
        return "transposed digits"
    same = [a.year == b.year, a.month == b.month, a.day == b.day]
    if sum(same) == 2:
        return "one field differs"
    return None


def _brief(p: Patient) -> dict:
    return {"id": p.id, "mrn": p.mrn, "name": p.name, "birth_date": iso(p.birth_date), "sex": p.sex}


def merged_ids(s: Session) -> dict[int, int]:
    """merged patient id -> survivor id, for merges in force."""
    return dict(s.execute(select(PatientMerge.merged_id, PatientMerge.survivor_id).where(PatientMerge.undone_at.is_(None))).all())


def resolve(s: Session, patient_id: int) -> int:
    """The patient this one's records now live with (follows merges)."""
    links = merged_ids(s)
    seen = set()
    while patient_id in links and patient_id not in seen:
        seen.add(patient_id)
        patient_id = links[patient_id]
    return patient_id


def compare(a: Patient, b: Patient) -> tuple[float, list[str]]:
    """Score (0..1) and reasons for one pair."""
    reasons: list[str] = []
    ma, mb = normalize_mrn(a.mrn), normalize_mrn(b.mrn)
    if ma and ma == mb:
        return 1.0, [f"same MRN ({a.mrn} / {b.mrn})"]
    if a.sex and b.sex and a.sex.upper()[:1] != b.sex.upper()[:1]:
        return 0.0, []
    sim = name_similarity(a.name, b.name)
    rel = birth_date_relation(a.birth_date, b.birth_date)
    if sim < NAME_THRESHOLD or rel is None:
        return 0.0, []
    reasons.append(f"names alike ({sim:.0f}%)")
    reasons.append(f"birth date {rel}")
    if a.sex and b.sex:
        reasons.append("same sex")
    score = 0.5 * sim / 100 + (0.4 if rel == "equal" else 0.25) + (0.1 if a.sex and b.sex else 0.0)
    return min(score, 0.99), reasons


def _blocks(p: Patient) -> set[tuple]:
    """Keys a likely duplicate shares with it: birth year, or birth month and day (a year with
    transposed digits or off by one), each with the initial of one of the name's words."""
    born = p.birth_date
    if born is None:
        return set()
    initials = {w[0] for w in normalize_name(p.name).split()} or {""}
    return {k for i in initials for k in (("y", born.year, i), ("md", born.month, born.day, i))}


def find_duplicates(s: Session, min_score: float = MIN_SCORE) -> list[DuplicatePair]:
    """Likely duplicate pairs among the patients not already merged, best first. Only patients
    sharing a normalized MRN or a block key (:func:`_blocks`) are compared, not all pairs."""
    merged = merged_ids(s)
    patients = [p for p in s.scalars(select(Patient).order_by(Patient.id)) if p.id not in merged]
    groups: dict[tuple, list[Patient]] = {}
    for p in patients:
        if normalize_mrn(p.mrn):
            groups.setdefault(("mrn", normalize_mrn(p.mrn)), []).append(p)
        for key in _blocks(p):
            groups.setdefault(key, []).append(p)
    candidates = {(x.id, y.id) for group in groups.values() for i, x in enumerate(group) for y in group[i + 1 :]}
    index = {p.id: p for p in patients}
    pairs = []
    for ia, ib in candidates:
        a, b = index[ia], index[ib]
        score, reasons = compare(a, b)
        if score >= min_score:
            pairs.append(DuplicatePair(a.id, b.id, score, tuple(reasons), _brief(a), _brief(b)))
    return sorted(pairs, key=lambda p: (-p.score, p.patient_a, p.patient_b))


def merge(s: Session, survivor_id: int, merged_id: int, actor: str, reason: str = "") -> PatientMerge:
    """Move the duplicate's encounters to the survivor; keep and mark the duplicate; audit it."""
    if survivor_id == merged_id:
        raise RecordError("a patient cannot be merged into itself")
    survivor, dup = s.get(Patient, survivor_id), s.get(Patient, merged_id)
    if survivor is None or dup is None:
        raise RecordError(f"no patient with ID {merged_id if survivor else survivor_id}")
    links = merged_ids(s)
    if merged_id in links:
        raise RecordError(f"patient {merged_id} is already merged into patient {links[merged_id]}")
    if survivor_id in links:
        raise RecordError(f"patient {survivor_id} was merged into patient {links[survivor_id]}: merge into that one")
    encounters = list(
        s.scalars(select(Encounter).where(Encounter.patient_id == merged_id).options(selectinload(Encounter.dictations)))
    )
    m = PatientMerge(
        survivor_id=survivor_id,
        merged_id=merged_id,
        actor=actor,
        reason=reason or None,
        moved={"encounters": [e.id for e in encounters], "merged": _brief(dup), "survivor": _brief(survivor)},
    )
    s.add(m)
    for e in encounters:
        e.patient_id = survivor_id
    s.flush()
    assert m.moved is not None  # set above
    audit(
        s,
        actor,
        "patient_merge",
        before={"patient": _brief(dup)},
        after={"merge_id": m.id, "into": _brief(survivor), "encounters": m.moved["encounters"], "reason": reason or None},
    )
    for e in encounters:
        for d in e.dictations:
            audit(
                s,
                actor,
                "patient_merge",
                dictation_id=d.id,
                before={"patient_id": merged_id},
                after={"patient_id": survivor_id, "merge_id": m.id},
            )
    return m


def unmerge(s: Session, merge_id: int, actor: str) -> PatientMerge:
    """Undo a merge: the encounters it moved go back to the duplicate patient."""
    m = s.get(PatientMerge, merge_id)
    if m is None or m.undone_at is not None:
        raise RecordError(f"no merge {merge_id} in force")
    ids = (m.moved or {}).get("encounters", [])
    encounters = (
        list(s.scalars(select(Encounter).where(Encounter.id.in_(ids)).options(selectinload(Encounter.dictations)))) if ids else []
    )
    for e in encounters:
        e.patient_id = m.merged_id
    m.undone_at, m.undone_by = utcnow(), actor
    audit(
        s,
        actor,
        "patient_unmerge",
        before={"merge_id": m.id, "survivor_id": m.survivor_id},
        after={"patient_id": m.merged_id, "encounters": ids},
    )
    for e in encounters:
        for d in e.dictations:
            audit(
                s,
                actor,
                "patient_unmerge",
                dictation_id=d.id,
                before={"patient_id": m.survivor_id},
                after={"patient_id": m.merged_id},
            )
    return m


def merges(s: Session) -> list[PatientMerge]:
    return list(s.scalars(select(PatientMerge).order_by(PatientMerge.at.desc(), PatientMerge.id.desc())))


def link_record(
    s: Session, dictation_id: int, patient_id: int, actor: str, *, actor_id: int | None = None, supervisor: bool = False
) -> Dictation:
    """File a record under a patient (the review screen's "link to patient"): its encounter moves,
    with every record on it, or one is made for it.

    Refused (:class:`RecordError`, nothing changed) when a record it would move is finalized (a
    supervisor reopens it first) or, unless ``supervisor``, is held by another coder. Every record
    moved gets its own ``patient_link`` audit event."""
    d = s.get(Dictation, dictation_id)
    p = s.get(Patient, resolve(s, patient_id)) if s.get(Patient, patient_id) else None
    if d is None:
        raise RecordError(f"no record with ID {dictation_id}")
    if p is None:
        raise RecordError(f"no patient with ID {patient_id}")
    touched = [d] + ([o for o in d.encounter.dictations if o.id != d.id] if d.encounter is not None else [])
    now = utcnow()
    for o in touched:
        shared = "" if o is d else f" (it shares record {d.id}'s encounter)"
        if o.status == DictationStatus.FINALIZED:
            raise RecordError(
                f"record {o.id}{shared} is finalized; a supervisor must reopen it before it moves to another patient"
            )
        expires = o.claim_expires_at.replace(tzinfo=o.claim_expires_at.tzinfo or UTC) if o.claim_expires_at else None
        if not supervisor and o.claimed_by not in (None, actor_id) and expires is not None and expires > now:
            raise RecordError(f"record {o.id}{shared} is being worked by another coder; only they or a supervisor can move it")
    before = d.encounter.patient_id if d.encounter is not None else None
    if d.encounter is None:
        d.encounter = Encounter(patient_id=p.id)
    else:
        d.encounter.patient_id = p.id
    s.flush()
    for o in touched:
        after = {"patient_id": p.id, **({"moved_with": d.id} if o is not d else {})}
        audit(s, actor, "patient_link", dictation_id=o.id, before={"patient_id": before}, after=after)
    return d


def patient_view(s: Session, patient_id: int) -> dict:
    """A patient with its records and its merge history."""
    p = s.get(Patient, patient_id)
    if p is None:
        raise RecordError(f"no patient with ID {patient_id}")
    records = list(
        s.scalars(
            select(Dictation)
            .join(Encounter, Dictation.encounter_id == Encounter.id)
            .where(Encounter.patient_id == patient_id)
            .options(selectinload(Dictation.encounter))
            .order_by(Dictation.id)
        )
    )
    involved = (PatientMerge.survivor_id == patient_id) | (PatientMerge.merged_id == patient_id)
    history = list(s.scalars(select(PatientMerge).where(involved).order_by(PatientMerge.at)))
    return {"patient": p, "records": records, "merges": history, "merged_into": merged_ids(s).get(patient_id)}
