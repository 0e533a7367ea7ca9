"""Who may change a record, and when: one check for every state-changing route.

A record can be changed only while it is awaiting review (coded or pending) and only by the
coder who holds its claim; a few actions (moving it to another patient) are also a supervisor's
without the claim. A finalized record changes only through a supervisor's audited reopen
(:func:`pipeline.review.workflow.reopen`). Routes get the record through the dependency
:func:`editable_record`, never by checking claim and status themselves.
"""

from __future__ import annotations

from typing import Annotated, Callable

from fastapi import Depends, HTTPException
from fastapi import Path as PathParam
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pipeline.review.auth import CurrentUser
from pipeline.review.worklist import ClaimError, require_claim
from pipeline.settings import Settings
from pipeline.store.models import Dictation, DictationStatus, Encounter

#: database ids are 64-bit; a larger number in a URL is simply no record
MAX_ID = 2**63 - 1
RecordId = Annotated[int, PathParam(ge=1, le=MAX_ID)]
RowId = Annotated[int, PathParam(ge=1, le=MAX_ID)]


def load_record(s: Session, rid: int) -> Dictation:
    """A record in the review queue (coded, pending or finalized) with what its screen shows; 404 else."""
    d = s.scalar(
        select(Dictation)
        .where(Dictation.id == rid)
        .options(
            selectinload(Dictation.transcript), selectinload(Dictation.entities), selectinload(Dictation.proposals),
            selectinload(Dictation.encounter).selectinload(Encounter.patient),
        )
    )
    if d is None or d.status in (DictationStatus.RECEIVED, DictationStatus.FAILED) or d.transcript is None:
        raise HTTPException(404, f"no record {rid} in the review queue")
    return d


def require_editable(s: Session, d: Dictation, user: CurrentUser, settings: Settings, *, supervisor_may: bool = False) -> None:
    """Refuse (:class:`ClaimError`) unless ``d`` awaits review and ``user`` holds its claim (or,
    with ``supervisor_may``, is a supervisor). The holder's claim is extended."""
    if d.status == DictationStatus.FINALIZED:
        raise ClaimError(f"record {d.id} is finalized; a supervisor can reopen it if it must change")
    if d.status not in DictationStatus.REVIEWABLE:
        raise ClaimError(f"record {d.id} is {d.status}, not awaiting review")
    if supervisor_may and user.has_role("supervisor") and d.claimed_by != user.id:
        return
    require_claim(s, d, user, settings)


def editable_record(coder: Callable, db: Callable, settings: Settings, *, supervisor_may: bool = False) -> Callable:
    """A route dependency: the record ``rid`` from the path, after :func:`require_editable`."""

    def dep(rid: RecordId, user: CurrentUser = Depends(coder), s: Session = Depends(db)) -> Dictation:
        d = load_record(s, rid)
        require_editable(s, d, user, settings, supervisor_may=supervisor_may)
        return d

    return dep
