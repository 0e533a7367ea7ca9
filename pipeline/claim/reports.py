"""Hospital claim reports over the stored records: case mix index by period, physician and
service; the DNFB list (discharged, not final billed) with aging; DRG and HCC distributions; CDI
query aging, response rate and agreement.

The DRG of a record here is the one its working (for finalized records: final) code set groups
to now, with the pinned grouper (``pipeline.claim.drg``): the same input gives the same DRG.
CMI is the mean relative weight of the finalized inpatient stays in the group.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import overload

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pipeline.claim.record import RecordClaim, record_claim
from pipeline.store.models import CdiQueryRecord, Dictation, DictationStatus, Encounter, PhysicianQuery

DNFB_BUCKETS = ((0, 3, "0-3 days"), (4, 7, "4-7 days"), (8, 14, "8-14 days"), (15, 30, "15-30 days"), (31, 10**6, "over 30 days"))


@dataclass(frozen=True)
class CmiRow:
    group: str
    stays: int
    cmi: float  # mean relative weight
    total_weight: float


@dataclass(frozen=True)
class DnfbRow:
    dictation_id: int
    discharge_date: date | None
    days: int | None
    bucket: str
    status: str
    drg: int | None
    physician: str | None


@dataclass(frozen=True)
class CdiMetrics:
    queries: int
    open: int
    answered: int
    response_rate: float | None  # answered / (answered + closed unanswered + open) -- all asked
    agreement_rate: float | None  # answers documenting a specific diagnosis / answered
    mean_days_to_answer: float | None
    open_aging_days: tuple[tuple[int, int], ...]  # (query id, days open)


@dataclass(frozen=True)
class ClaimReport:
    cmi_by_period: tuple[CmiRow, ...]
    cmi_by_physician: tuple[CmiRow, ...]
    cmi_by_service: tuple[CmiRow, ...]
    overall_cmi: CmiRow | None
    dnfb: tuple[DnfbRow, ...]
    dnfb_aging: tuple[tuple[str, int], ...]
    drg_distribution: tuple[tuple[int, str, int], ...]  # (drg, title, stays)
    hcc_distribution: tuple[tuple[str, str, int], ...]  # (hcc, label, records)
    cdi: CdiMetrics


def _inpatient_records(s: Session) -> list[Dictation]:
    return list(
        s.scalars(
            select(Dictation)
            .join(Encounter, Dictation.encounter_id == Encounter.id)
            .where(Encounter.setting == "inpatient")
            .where(Dictation.status.in_((DictationStatus.CODED, DictationStatus.PENDING, DictationStatus.FINALIZED)))
            .options(
                selectinload(Dictation.proposals),
                selectinload(Dictation.transcript),
                selectinload(Dictation.encounter).selectinload(Encounter.patient),
            )
            .order_by(Dictation.id)
        )
    )


def _cmi(rows: dict[str, list[float]]) -> tuple[CmiRow, ...]:
    return tuple(CmiRow(k, len(v), round(sum(v) / len(v), 4), round(sum(v), 4)) for k, v in sorted(rows.items()) if v)


@overload
def _aware(v: datetime) -> datetime: ...
@overload
def _aware(v: None) -> None: ...
def _aware(v: datetime | None) -> datetime | None:
    return v.replace(tzinfo=UTC) if v is not None and v.tzinfo is None else v


def cdi_metrics(s: Session, today: date | None = None) -> CdiMetrics:
    today = today or date.today()
    rows = s.execute(
        select(CdiQueryRecord, PhysicianQuery).join(PhysicianQuery, CdiQueryRecord.query_id == PhysicianQuery.id)
    ).all()
    n = len(rows)
    open_ = [(q.id, (today - _aware(q.created_at).date()).days) for c, q in rows if q.status == "open"]
    answered = [(c, q) for c, q in rows if c.answer_option is not None]
    days = [(_aware(c.answered_at) - _aware(c.created_at)).total_seconds() / 86400 for c, _q in answered if c.answered_at]
    return CdiMetrics(
        queries=n,
        open=len(open_),
        answered=len(answered),
        response_rate=round(len(answered) / n, 4) if n else None,
        agreement_rate=round(sum(1 for c, _ in answered if c.agreed) / len(answered), 4) if answered else None,
        mean_days_to_answer=round(sum(days) / len(days), 2) if days else None,
        open_aging_days=tuple(sorted(open_, key=lambda x: -x[1])),
    )


def claim_report(s: Session, today: date | None = None) -> ClaimReport:
    today = today or date.today()
    by_period: dict[str, list[float]] = defaultdict(list)
    by_physician: dict[str, list[float]] = defaultdict(list)
    by_service: dict[str, list[float]] = defaultdict(list)
    weights: list[float] = []
    drgs: Counter = Counter()
    titles: dict[int, str] = {}
    hccs: Counter = Counter()
    labels: dict[str, str] = {}
    dnfb: list[DnfbRow] = []
    for d in _inpatient_records(s):
        rc: RecordClaim = record_claim(s, d, with_queries=False)
        a = rc.abstract
        if d.status != DictationStatus.FINALIZED:
            if a.discharge_date is not None:
                days = (today - a.discharge_date).days
                bucket = next(label for lo, hi, label in DNFB_BUCKETS if lo <= max(days, 0) <= hi)
                dnfb.append(
                    DnfbRow(
                        d.id,
                        a.discharge_date,
                        days,
                        bucket,
                        d.status,
                        rc.drg.drg if rc.drg else None,
                        d.encounter.physician if d.encounter else None,
                    )
                )
            continue
        if rc.drg is None or not rc.drg.groupable or rc.drg.weight is None:
            continue
        w = rc.drg.weight
        weights.append(w)
        day = a.discharge_date or (d.finalized_at.date() if d.finalized_at else None)
        by_period[day.strftime("%Y-%m") if day else "unknown"].append(w)
        by_physician[(d.encounter.physician if d.encounter else None) or "unknown"].append(w)
        given = ((d.source_meta or {}).get("sidecar") or {}) if isinstance(d.source_meta, dict) else {}
        by_service[a.service or given.get("specialty") or "unassigned"].append(w)
        assert rc.drg.drg is not None  # groupable
        drgs[rc.drg.drg] += 1
        titles[rc.drg.drg] = rc.drg.drg_title or ""
        for c in rc.hcc.kept:
            hccs[c.hcc] += 1
            labels[c.hcc] = c.label
    aging = Counter(r.bucket for r in dnfb)
    return ClaimReport(
        cmi_by_period=_cmi(by_period),
        cmi_by_physician=_cmi(by_physician),
        cmi_by_service=_cmi(by_service),
        overall_cmi=CmiRow("all", len(weights), round(sum(weights) / len(weights), 4), round(sum(weights), 4))
        if weights
        else None,
        dnfb=tuple(sorted(dnfb, key=lambda r: -(r.days or 0))),
        dnfb_aging=tuple((label, aging.get(label, 0)) for _lo, _hi, label in DNFB_BUCKETS),
        drg_distribution=tuple((k, titles[k], v) for k, v in sorted(drgs.items(), key=lambda kv: (-kv[1], kv[0]))),
        hcc_distribution=tuple((k, labels[k], v) for k, v in sorted(hccs.items(), key=lambda kv: (-kv[1], int(kv[0])))),
        cdi=cdi_metrics(s, today),
    )
