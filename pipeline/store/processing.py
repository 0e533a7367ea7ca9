"""Processing state of a dictation: who works on it (a renewable lease), how often it was
tried, which stage it is in, and the patient/encounter metadata that came with it.

A worker *claims* a dictation before touching it; the claim is a compare-and-set on
``lease_owner`` so two workers (threads, processes or hosts) never process the same record
at once, and only the claim holder can store results. A worker that dies leaves an expired
lease (or, on the same host, a dead process id) and the next claim takes over. Every claim
counts as an attempt, so a file that kills its worker every time is given up after
``max_attempts``. Stage statuses are small commits of their own; the stage *results* land in
one transaction (:func:`pipeline.store.repository.store_results`, guarded by the lease), so the
review queue never sees half a record.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast, overload

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from pipeline.store import repository
from pipeline.store.lease import LeaseLost, renew, update_held
from pipeline.store.models import AuditEvent, Dictation, DictationStatus, Encounter, Patient, utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")

IN_PROGRESS = (
    DictationStatus.RECEIVED,
    DictationStatus.LOADING,
    DictationStatus.TRANSCRIBING,
    DictationStatus.EXTRACTING,
    DictationStatus.CODING,
)
#: failures worth another try: the infrastructure, not the dictation, was at fault
TRANSIENT_KINDS = ("transient", "crashed")


@overload
def aware(dt: datetime) -> datetime: ...
@overload
def aware(dt: None) -> None: ...
def aware(dt: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything stored here is UTC."""
    if dt is None or dt.tzinfo is not None:
        return dt
    return dt.replace(tzinfo=UTC)


_active_owners: set[str] = set()  # leases this process holds right now (threads of one worker)


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def finished(owner: str) -> None:
    """This process no longer works under ``owner`` (whatever the database says)."""
    _active_owners.discard(owner)


def owner_alive(owner: str | None) -> bool | None:
    """Whether the process named in ``owner`` still runs: known only on its own host (else None)."""
    if not owner:
        return False
    try:
        host, pid, _ = owner.rsplit(":", 2)
        pid_n = int(pid)
    except ValueError:
        return None
    if host != socket.gethostname():
        return None
    if pid_n == os.getpid():
        return owner in _active_owners  # an earlier try in this very process that has ended: not alive
    try:
        os.kill(pid_n, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_transient_db_error(e: BaseException) -> bool:
    if isinstance(e, OperationalError):
        return True
    return isinstance(e, DBAPIError) and bool(getattr(e, "connection_invalidated", False))


def with_db_retry(fn: Callable[[], T], attempts: int, wait_s: float, what: str = "database step") -> T:
    """Run ``fn`` (one whole transaction); retry while the database is unreachable or locked."""
    for i in range(attempts):
        try:
            return fn()
        except Exception as e:  # noqa: BLE001
            if not is_transient_db_error(e) or i == attempts - 1:
                raise
            delay = wait_s * (2**i)
            log.warning(
                "%s: database unavailable (%s); retrying in %.1f s (%d/%d)", what, type(e).__name__, delay, i + 1, attempts - 1
            )
            try:
                from pipeline.store.db import dispose_engines

                dispose_engines()  # drop connections that died with the server
            except Exception:  # noqa: BLE001
                pass
            time.sleep(delay)
    raise AssertionError("unreachable")


def backoff_delay(attempts: int, base_s: float) -> float:
    """Delay before the next try after ``attempts`` tries: base, 2*base, 4*base ..."""
    return base_s * (2 ** max(0, attempts - 1))


# -- metadata ---------------------------------------------------------------------------


def attach_metadata(session: Session, dictation: Dictation, sidecar, origin: dict, default_setting: str) -> None:
    """Link the dictation to its patient and encounter from the sidecar (created or found).

    Patients are matched by MRN, encounters by external id (within the patient). Fields the
    stored record lacks are filled in; a field that disagrees with the stored one is kept as
    stored and the disagreement is written to the audit trail for a person to resolve.
    """
    meta = dict(dictation.source_meta or {})
    meta.update(origin)
    if sidecar is not None:
        meta["sidecar"] = sidecar.model_dump(mode="json", exclude_none=True)
        dictation.document_type = sidecar.document_type or dictation.document_type
        dictation.priority = sidecar.priority or dictation.priority
    dictation.source_meta = meta
    if sidecar is None:
        return
    patient = None
    if sidecar.has_patient:
        patient = session.scalar(select(Patient).where(Patient.mrn == sidecar.mrn))
        if patient is None:
            patient = Patient(mrn=sidecar.mrn)
            session.add(patient)
        else:  # a duplicate merged by a supervisor: its new records go to the surviving patient
            from pipeline.records.mpi import resolve

            survivor = resolve(session, patient.id)
            if survivor != patient.id:
                patient = session.get(Patient, survivor)
        _merge(
            session,
            dictation,
            patient,
            {"name": sidecar.patient_name, "birth_date": sidecar.birth_date, "sex": sidecar.sex},
            "patient",
        )
        session.flush()
    if not (sidecar.has_encounter or patient is not None):
        return
    encounter = None
    if sidecar.encounter_id:
        q = select(Encounter).where(Encounter.external_id == sidecar.encounter_id)
        if patient is not None:
            q = q.where(or_(Encounter.patient_id == patient.id, Encounter.patient_id.is_(None)))
        encounter = session.scalars(q.order_by(Encounter.id)).first()
    if encounter is None and dictation.encounter_id is not None:
        encounter = session.get(Encounter, dictation.encounter_id)
    if encounter is None:
        encounter = Encounter(external_id=sidecar.encounter_id, setting=sidecar.setting or default_setting)
        session.add(encounter)
    if patient is not None and encounter.patient_id is None:
        encounter.patient = patient
    _merge(
        session,
        dictation,
        encounter,
        {
            "setting": sidecar.setting,
            "physician": sidecar.physician,
            "date_of_service": sidecar.date_of_service,
        },
        "encounter",
        overwrite=("setting",),
    )
    session.flush()
    dictation.encounter_id = encounter.id


def _merge(session: Session, dictation: Dictation, record, values: dict, what: str, overwrite: tuple = ()) -> None:
    conflicts = {}
    for key, value in values.items():
        if value is None:
            continue
        current = getattr(record, key)
        if current is None or key in overwrite or getattr(record, "id", None) is None:
            setattr(record, key, value)
        elif current != value:
            conflicts[key] = {"stored": str(current), "sidecar": str(value)}
    if conflicts:
        session.add(AuditEvent(dictation_id=dictation.id, actor="pipeline", action=f"{what}_mismatch", after=conflicts))


def care_setting(session: Session, dictation_id: int, default: str) -> str:
    d = session.get(Dictation, dictation_id)
    if d is not None and d.encounter_id is not None:
        enc = session.get(Encounter, d.encounter_id)
        if enc is not None and enc.setting:
            return enc.setting
    return default


# -- claims -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    outcome: str  # claimed | done | busy | backoff | exhausted
    dictation_id: int
    owner: str | None = None
    attempts: int = 0
    status: str | None = None
    until: datetime | None = None  # busy: lease expiry; backoff: next attempt

    @property
    def claimed(self) -> bool:
        return self.outcome == "claimed"


def claim(
    session: Session,
    dictation_id: int,
    owner: str,
    lease_s: float,
    max_attempts: int,
    respect_backoff: bool = True,
    reprocess: bool = False,
) -> Claim:
    """Take the dictation for processing, if it is free, not done and tries remain."""
    d = session.get(Dictation, dictation_id)
    if d is None:
        raise LookupError(f"dictation {dictation_id} not found")
    session.refresh(d)
    now = utcnow()
    if d.status in repository.DONE and not (reprocess and d.status == DictationStatus.CODED):
        return Claim("done", d.id, status=d.status, attempts=d.attempts)
    expires = aware(d.lease_expires_at)
    if d.lease_owner and d.lease_owner != owner:
        alive = owner_alive(d.lease_owner)
        if alive is not False and expires is not None and expires > now:
            return Claim("busy", d.id, status=d.status, attempts=d.attempts, until=expires)
    nxt = aware(d.next_attempt_at)
    if respect_backoff and d.status == DictationStatus.FAILED and nxt is not None and nxt > now:
        return Claim("backoff", d.id, status=d.status, attempts=d.attempts, until=nxt)
    if (
        d.attempts >= max_attempts
        and not reprocess
        and not (d.status == DictationStatus.FAILED and d.error_kind not in TRANSIENT_KINDS)
    ):
        return Claim("exhausted", d.id, status=d.status, attempts=d.attempts)
    crashed = d.status in IN_PROGRESS[1:] and d.lease_owner is not None and d.lease_owner != owner
    previous = d.lease_owner
    # a person dropped a refused file again (after fixing it): its automatic tries start over
    fresh = d.status == DictationStatus.FAILED and d.error_kind not in TRANSIENT_KINDS
    res = cast(
        "CursorResult[Any]",  # an UPDATE's result: it has a rowcount
        session.execute(
            update(Dictation)
            .where(Dictation.id == d.id, Dictation.lease_owner.is_not_distinct_from(previous))
            .values(
                lease_owner=owner,
                lease_expires_at=now + timedelta(seconds=lease_s),
                attempts=1 if fresh else Dictation.attempts + 1,
                status=DictationStatus.LOADING,
                stage_started_at=now,
                next_attempt_at=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        ),
    )
    if res.rowcount != 1:  # another worker claimed it between our read and write
        session.rollback()
        d = session.get(Dictation, dictation_id)
        assert d is not None  # read above; dictations are not deleted
        session.refresh(d)
        return Claim("busy", d.id, status=d.status, attempts=d.attempts, until=aware(d.lease_expires_at))
    _active_owners.add(owner)
    if crashed:
        session.add(
            AuditEvent(
                dictation_id=d.id, actor="pipeline", action="resumed", after={"previous_worker": previous, "stage": d.status}
            )
        )
    session.refresh(d)
    return Claim("claimed", d.id, owner=owner, attempts=d.attempts, status=d.status)


def set_stage(session: Session, dictation_id: int, owner: str, status: str, lease_s: float) -> None:
    """Record the stage the holder is in now (and renew its lease)."""
    now = utcnow()
    values = {"status": status, "stage_started_at": now, "lease_expires_at": now + timedelta(seconds=lease_s), "updated_at": now}
    if not update_held(session, dictation_id, owner, **values):
        raise LeaseLost(f"dictation {dictation_id}: another worker took it over")


def record_failure(
    session: Session,
    dictation_id: int,
    owner: str,
    kind: str,
    reason: str,
    *,
    retry_in_s: float | None,
    stage_seconds: dict | None = None,
) -> Dictation | None:
    """Mark the dictation failed. ``retry_in_s``: when a new try is due (None: never, permanent)."""
    if not renew(session, dictation_id, owner, 60):
        return None  # someone else holds it now: their outcome counts, not ours
    d = session.get(Dictation, dictation_id)
    assert d is not None  # renew() has just updated its row
    session.refresh(d)
    now = utcnow()
    repository.mark_failed(session, dictation_id, kind, reason)
    d.last_error_at = now
    d.next_attempt_at = now + timedelta(seconds=retry_in_s) if retry_in_s is not None else None
    d.lease_owner = d.lease_expires_at = d.stage_started_at = None
    if stage_seconds is not None:
        d.stage_seconds = stage_seconds
    return d


def give_up(session: Session, dictation_id: int, reason: str) -> bool:
    """Mark a dictation whose tries are used up as failed for good (unless a worker holds it)."""
    d = session.get(Dictation, dictation_id)
    if d is None:
        return False
    session.refresh(d)
    now = utcnow()
    if d.lease_owner and owner_alive(d.lease_owner) is not False and (aware(d.lease_expires_at) or now) > now:
        return False
    res = cast(
        "CursorResult[Any]",  # an UPDATE's result: it has a rowcount
        session.execute(
            update(Dictation)
            .where(Dictation.id == dictation_id, Dictation.lease_owner.is_not_distinct_from(d.lease_owner))
            .values(
                status=DictationStatus.FAILED,
                error_kind="gave_up",
                error=reason,
                last_error_at=now,
                next_attempt_at=None,
                lease_owner=None,
                lease_expires_at=None,
                stage_started_at=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        ),
    )
    if res.rowcount != 1:
        return False
    session.add(
        AuditEvent(dictation_id=dictation_id, actor="pipeline", action="failed", after={"kind": "gave_up", "reason": reason})
    )
    return True


def retry_candidates(session: Session, max_attempts: int | None, now: datetime | None = None) -> list[Dictation]:
    """Dictations that deserve another try now: failed for a transient reason, or left behind
    by a worker that died (lease expired), with tries left (``max_attempts``; None: any) and
    their backoff over."""
    now = now or utcnow()
    failed = and_(
        Dictation.status == DictationStatus.FAILED,
        Dictation.error_kind.in_(TRANSIENT_KINDS),
        or_(Dictation.next_attempt_at.is_(None), Dictation.next_attempt_at <= now),
    )
    stuck = and_(
        Dictation.status.in_(IN_PROGRESS),
        or_(Dictation.lease_expires_at.is_(None), Dictation.lease_expires_at <= now),
    )
    q = select(Dictation).where(or_(failed, stuck)).order_by(Dictation.id)
    if max_attempts is not None:
        q = q.where(Dictation.attempts < max_attempts)
    return list(session.scalars(q))


def stuck_on_this_host(session: Session) -> list[Dictation]:
    """In-progress dictations whose worker process on this host is gone (lease not yet expired)."""
    rows = session.scalars(select(Dictation).where(Dictation.status.in_(IN_PROGRESS[1:]), Dictation.lease_owner.is_not(None)))
    return [d for d in rows if owner_alive(d.lease_owner) is False]
