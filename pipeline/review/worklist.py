"""The coders' worklist: what awaits review, and who holds which record.

A claim is a compare-and-set in one UPDATE statement (the record must be unclaimed, or
its claim expired, at the moment of the write), so two coders asking for the next record
at the same time always get different records, on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy import Select, and_, case, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from pipeline.review.auth import CurrentUser
from pipeline.review.timeutil import as_utc
from pipeline.settings import Settings
from pipeline.store.audit import record
from pipeline.store.models import Dictation, DictationStatus, Encounter, Patient, User, utcnow

PRIORITIES = ("stat", "urgent", "routine")
_PRIORITY_ORDER = case(
    (Dictation.priority == "stat", 0), (Dictation.priority == "urgent", 1), (Dictation.priority == "routine", 2), else_=3
)
SORTS = {
    "priority": (_PRIORITY_ORDER, Dictation.received_at, Dictation.id),
    "received": (Dictation.received_at, Dictation.id),
    "received_desc": (Dictation.received_at.desc(), Dictation.id.desc()),
    "service_date": (Encounter.date_of_service, Dictation.id),
    "physician": (Encounter.physician, Dictation.id),
    "document_type": (Dictation.document_type, Dictation.id),
    "status": (Dictation.status, Dictation.id),
}


class ClaimError(Exception):
    """The record is not (or no longer) held by this user; the message says by whom."""


@dataclass(frozen=True)
class WorklistFilter:
    status: str | None = None  # coded | pending | finalized | all-open (default: coded + pending)
    physician: str | None = None
    document_type: str | None = None
    priority: str | None = None
    received_from: date | None = None
    received_to: date | None = None
    edits_pending: bool | None = None
    mine: bool = False
    setting: str | None = None  # the encounter's setting (inpatient, outpatient, ...)
    service_from: date | None = None  # the encounter's date of service, from / to (inclusive)
    service_to: date | None = None
    sort: str = "priority"


@dataclass(frozen=True)
class WorklistRow:
    id: int
    file_name: str
    status: str
    priority: str | None
    document_type: str | None
    physician: str | None
    setting: str | None
    date_of_service: date | None
    received_at: datetime
    patient: str | None
    claimed_by: str | None
    claim_expires_at: datetime | None
    edit_errors: int
    pending_reason: str | None


def _open_claim(now: datetime):
    return and_(Dictation.claimed_by.is_not(None), Dictation.claim_expires_at > now)


def _query(f: WorklistFilter, user: CurrentUser, now: datetime) -> Select:
    holder = aliased(User)
    q = (
        select(Dictation, Encounter, Patient, holder.username)
        .outerjoin(Encounter, Dictation.encounter_id == Encounter.id)
        .outerjoin(Patient, Encounter.patient_id == Patient.id)
        .outerjoin(holder, and_(Dictation.claimed_by == holder.id, Dictation.claim_expires_at > now))
    )
    if f.status in (DictationStatus.CODED, DictationStatus.PENDING, DictationStatus.FINALIZED):
        q = q.where(Dictation.status == f.status)
    else:
        q = q.where(Dictation.status.in_(DictationStatus.REVIEWABLE))
    if f.physician:
        q = q.where(func.lower(Encounter.physician).contains(f.physician.lower(), autoescape=True))
    if f.document_type:
        q = q.where(Dictation.document_type == f.document_type)
    if f.priority:
        q = q.where(Dictation.priority == f.priority)
    if f.received_from:
        q = q.where(Dictation.received_at >= datetime.combine(f.received_from, datetime.min.time()))
    if f.received_to:
        q = q.where(Dictation.received_at < datetime.combine(f.received_to + timedelta(days=1), datetime.min.time()))
    if f.setting:
        q = q.where(Encounter.setting == f.setting)
    if f.service_from:
        q = q.where(Encounter.date_of_service >= f.service_from)
    if f.service_to:
        q = q.where(Encounter.date_of_service <= f.service_to)
    if f.edits_pending is True:
        q = q.where(Dictation.edit_errors > 0)
    elif f.edits_pending is False:
        q = q.where(Dictation.edit_errors == 0)
    if f.mine:
        q = q.where(Dictation.claimed_by == user.id, Dictation.claim_expires_at > now)
    return q.order_by(*SORTS.get(f.sort, SORTS["priority"]))


def worklist(s: Session, user: CurrentUser, f: WorklistFilter = WorklistFilter(), limit: int = 200) -> list[WorklistRow]:
    now = utcnow()
    rows = []
    for d, enc, pat, holder in s.execute(_query(f, user, now).limit(limit)):
        rows.append(
            WorklistRow(
                id=d.id,
                file_name=d.file_name,
                status=d.status,
                priority=d.priority,
                document_type=d.document_type,
                physician=enc.physician if enc else None,
                setting=enc.setting if enc else None,
                date_of_service=enc.date_of_service if enc else None,
                received_at=as_utc(d.received_at),
                patient=(pat.name or pat.mrn) if pat else None,
                claimed_by=holder,
                claim_expires_at=as_utc(d.claim_expires_at) if holder else None,
                edit_errors=d.edit_errors or 0,
                pending_reason=d.pending_reason,
            )
        )
    return rows


def facets(s: Session) -> dict[str, list[str]]:
    """Values offered in the worklist's filter menus."""
    open_ = Dictation.status.in_(DictationStatus.REVIEWABLE + (DictationStatus.FINALIZED,))
    doc_types = s.scalars(select(Dictation.document_type).where(open_, Dictation.document_type.is_not(None)).distinct())
    physicians = s.scalars(
        select(Encounter.physician)
        .join(Dictation, Dictation.encounter_id == Encounter.id)
        .where(open_, Encounter.physician.is_not(None))
        .distinct()
    )
    settings_ = s.scalars(
        select(Encounter.setting)
        .join(Dictation, Dictation.encounter_id == Encounter.id)
        .where(open_, Encounter.setting.is_not(None))
        .distinct()
    )
    return {
        "document_types": sorted(cast("Iterable[str]", doc_types)),  # NULLs filtered out above
        "physicians": sorted(cast("Iterable[str]", physicians)),
        "priorities": list(PRIORITIES),
        "settings": sorted(settings_),
    }


def _ttl(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.claim_minutes)


def claim_next(s: Session, user: CurrentUser, settings: Settings) -> int | None:
    """Claim the next record awaiting review (the user's own open claim first); its id, or None."""
    now = utcnow()
    own = s.scalar(
        select(Dictation.id)
        .where(Dictation.claimed_by == user.id, Dictation.claim_expires_at > now, Dictation.status == DictationStatus.CODED)
        .order_by(Dictation.id)
        .limit(1)
    )
    if own is not None:
        _extend(s, own, user, settings)
        return own
    free = or_(Dictation.claimed_by.is_(None), Dictation.claim_expires_at <= now)
    for _ in range(50):
        candidate = (
            select(Dictation.id)
            .where(Dictation.status == DictationStatus.CODED, free)
            .order_by(*SORTS["priority"])
            .limit(1)
            .scalar_subquery()
        )
        claimed = s.execute(
            update(Dictation)
            .where(Dictation.id == candidate, free)
            .values(claimed_by=user.id, claim_expires_at=now + _ttl(settings))
            .returning(Dictation.id)
            .execution_options(synchronize_session=False)
        ).scalar()
        if claimed is not None:
            record(s, user.username, "claim", dictation_id=claimed, after={"how": "next"})
            return claimed
        if s.scalar(select(func.count()).select_from(Dictation).where(Dictation.status == DictationStatus.CODED, free)) == 0:
            return None
    return None


def claim(s: Session, user: CurrentUser, dictation_id: int, settings: Settings) -> None:
    """Claim one record (from the worklist); refused while another coder holds it."""
    now = utcnow()
    got = s.execute(
        update(Dictation)
        .where(
            Dictation.id == dictation_id,
            Dictation.status.in_(DictationStatus.REVIEWABLE),
            or_(Dictation.claimed_by.is_(None), Dictation.claim_expires_at <= now, Dictation.claimed_by == user.id),
        )
        .values(claimed_by=user.id, claim_expires_at=now + _ttl(settings))
        .returning(Dictation.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    if got is None:
        d = s.get(Dictation, dictation_id)
        if d is None:
            raise LookupError(f"no record {dictation_id}")
        if d.status not in DictationStatus.REVIEWABLE:
            raise ClaimError(f"record {dictation_id} is {d.status}, not awaiting review")
        raise ClaimError(f"record {dictation_id} is being worked by {holder_name(s, d)}")
    record(s, user.username, "claim", dictation_id=dictation_id)


def _claim_expired(d: Dictation) -> bool:
    """For a claimed record: its claim has run out."""
    expires = as_utc(d.claim_expires_at)
    assert expires is not None  # set and cleared together with claimed_by
    return expires <= utcnow()


def holder_name(s: Session, d: Dictation) -> str | None:
    """Who holds the record now (None when unclaimed or the claim expired)."""
    if d.claimed_by is None or _claim_expired(d):
        return None
    u = s.get(User, d.claimed_by)
    return u.username if u else None


def require_claim(s: Session, d: Dictation, user: CurrentUser, settings: Settings) -> None:
    """Changes need the claim; a coder's own claim is extended by each action."""
    if d.claimed_by != user.id or _claim_expired(d):
        other = holder_name(s, d)
        raise ClaimError(f"record {d.id} is being worked by {other}" if other else f"claim record {d.id} before changing it")
    d.claim_expires_at = utcnow() + _ttl(settings)


def _extend(s: Session, dictation_id: int, user: CurrentUser, settings: Settings) -> None:
    s.execute(
        update(Dictation)
        .where(Dictation.id == dictation_id, Dictation.claimed_by == user.id)
        .values(claim_expires_at=utcnow() + _ttl(settings))
        .execution_options(synchronize_session=False)
    )


def release(s: Session, user: CurrentUser, dictation_id: int) -> None:
    """Give the record back to the queue (its holder, or a supervisor for anyone's)."""
    d = s.get(Dictation, dictation_id)
    if d is None:
        raise LookupError(f"no record {dictation_id}")
    holder = holder_name(s, d)
    if holder is None:
        return
    if d.claimed_by != user.id and not user.has_role("supervisor"):
        raise ClaimError(f"record {dictation_id} is being worked by {holder}")
    d.claimed_by = None
    d.claim_expires_at = None
    record(s, user.username, "release", dictation_id=dictation_id, before={"claimed_by": holder})


def reassign(s: Session, supervisor: CurrentUser, dictation_id: int, to_username: str, settings: Settings) -> None:
    if not supervisor.has_role("supervisor"):
        raise PermissionError("only a supervisor can reassign records")
    d = s.get(Dictation, dictation_id)
    if d is None:
        raise LookupError(f"no record {dictation_id}")
    if d.status not in DictationStatus.REVIEWABLE:
        raise ClaimError(f"record {dictation_id} is {d.status}, not awaiting review")
    target = s.scalar(select(User).where(User.username == to_username, User.active.is_(True)))
    if target is None:
        raise LookupError(f"no active user {to_username!r}")
    before = holder_name(s, d)
    d.claimed_by = target.id
    d.claim_expires_at = utcnow() + _ttl(settings)
    record(
        s,
        supervisor.username,
        "reassign",
        dictation_id=dictation_id,
        before={"claimed_by": before},
        after={"claimed_by": target.username},
    )
