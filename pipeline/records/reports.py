"""Tabular statistical reports over the master database.

Records count by date of service (received date when none) within ``[start, end]``; codes
count once per record. By default only *final* codes (kept codes of finalized records) are
counted; ``include_provisional`` adds the non-rejected codes of records still in review.

Tables: ICD-10-CM chapters, categories, codes (top N), ICD-10-PCS procedures (top N),
physicians, settings, periods (day, ISO week or month), turnaround from receipt to
finalization (median and 90th percentile, hours), and coder productivity: records finalized
per hour of handling (from the audit trail: a coder's first action on a record to its
finalization) and acceptance rate of proposals by outcome (each proposal's last
``ReviewDecision``: accept / edit / reject; adds counted apart).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pipeline.code.types import CM, PCS
from pipeline.records.records import exported_codes, service_date
from pipeline.store.models import AuditEvent, CodeProposalRecord, Dictation, DictationStatus, Encounter, ReviewDecision

PERIODS = ("day", "week", "month")
COUNTED = (DictationStatus.CODED, DictationStatus.PENDING, DictationStatus.FINALIZED)


@dataclass
class ReportTable:
    name: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "columns": self.columns, "rows": self.rows}


@dataclass
class Report:
    start: date | None
    end: date | None
    period: str
    final_only: bool
    records: int
    finalized: int
    tables: list[ReportTable]

    def table(self, name: str) -> ReportTable:
        return next(t for t in self.tables if t.name == name)

    def to_dict(self) -> dict:
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "period": self.period,
            "final_only": self.final_only,
            "records": self.records,
            "finalized": self.finalized,
            "tables": [t.to_dict() for t in self.tables],
        }


@lru_cache(maxsize=20000)
def cm_chapter(code: str) -> tuple[str, str]:
    """('4', 'Endocrine, nutritional and metabolic diseases (E00-E89)') for E11.22; ('?', ...) if unknown."""
    from pipeline.code.lookup.codeset import get_codeset

    cm = get_codeset().cm_api
    for c in (code, code[:3]):
        try:
            if cm.is_valid_item(c):
                chapter = cm.get_ancestors(c)[-1] if not cm.is_chapter(c) else c
                return chapter, cm.get_description(chapter)
        except (ValueError, IndexError):
            continue
    return "?", "code not in ICD-10-CM FY2026"


@lru_cache(maxsize=20000)
def cm_category_title(category: str) -> str:
    from pipeline.code.lookup.codeset import get_codeset

    return get_codeset().cm_description(category) or ""


def period_key(day: date, period: str) -> str:
    if period == "day":
        return day.isoformat()
    if period == "week":
        y, w, _ = day.isocalendar()
        return f"{y}-W{w:02d}"
    return f"{day.year}-{day.month:02d}"


def _hours(a: datetime, b: datetime) -> float:
    if a.tzinfo is None:
        a = a.replace(tzinfo=UTC)
    if b.tzinfo is None:
        b = b.replace(tzinfo=UTC)
    return (b - a).total_seconds() / 3600


def _pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def _load(s: Session, start: date | None, end: date | None) -> list[Dictation]:
    rows = s.scalars(
        select(Dictation)
        .where(Dictation.status.in_(COUNTED))
        .options(selectinload(Dictation.proposals), selectinload(Dictation.encounter).selectinload(Encounter.patient))
        .order_by(Dictation.id)
    )
    out = []
    for d in rows:
        day = service_date(d)
        if (start and (day is None or day < start)) or (end and (day is None or day > end)):
            continue
        out.append(d)
    return out


def build_report(
    s: Session,
    start: date | None = None,
    end: date | None = None,
    period: str = "month",
    top: int = 10,
    include_provisional: bool = False,
) -> Report:
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    if start and end and start > end:
        raise ValueError("the report period ends before it starts")
    records = _load(s, start, end)
    chapters: Counter[tuple[str, str]] = Counter()  # (chapter, title)
    categories: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    procedures: Counter[str] = Counter()
    descriptions: dict[str, str] = {}
    physicians: dict[str, Counter] = defaultdict(Counter)
    settings: Counter[str] = Counter()
    periods: defaultdict[str, Counter[str]] = defaultdict(Counter)
    turnaround: list[float] = []
    for d in records:
        enc = d.encounter
        doc = (enc.physician if enc else None) or "(none)"
        kept = [c for c, _final in exported_codes(d, include_provisional=include_provisional)]
        cm_codes = {c.code for c in kept if c.system == CM}
        pcs_codes = {c.code for c in kept if c.system == PCS}
        for c in kept:
            descriptions.setdefault(c.code, c.description)
        for code in cm_codes:
            codes[code] += 1
        for cat in {c[:3] for c in cm_codes}:
            categories[cat] += 1
        for ch in {cm_chapter(c) for c in cm_codes}:
            chapters[ch] += 1
        for code in pcs_codes:
            procedures[code] += 1
        physicians[doc]["records"] += 1
        physicians[doc]["finalized"] += d.status == DictationStatus.FINALIZED
        physicians[doc]["codes"] += len(cm_codes) + len(pcs_codes)
        settings[(enc.setting if enc else None) or "(none)"] += 1
        day = service_date(d)
        assert day is not None  # received_at is NOT NULL
        key = period_key(day, period)
        periods[key]["records"] += 1
        periods[key]["finalized"] += d.status == DictationStatus.FINALIZED
        periods[key]["codes"] += len(cm_codes) + len(pcs_codes)
        if d.status == DictationStatus.FINALIZED and d.finalized_at and d.received_at:
            turnaround.append(_hours(d.received_at, d.finalized_at))
    finalized = sum(1 for d in records if d.status == DictationStatus.FINALIZED)

    def r2(x: float | None) -> float | None:
        return round(x, 2) if x is not None else None

    tables = [
        ReportTable(
            "chapters",
            "ICD-10-CM chapters (records)",
            ["chapter", "title", "records"],
            [[ch, title, n] for (ch, title), n in sorted(chapters.items(), key=lambda kv: (-kv[1], _chapter_order(kv[0][0])))],
        ),
        ReportTable(
            "categories",
            "ICD-10-CM categories (records)",
            ["category", "title", "records"],
            [[c, cm_category_title(c), n] for c, n in _top(categories, None)],
        ),
        ReportTable(
            "codes",
            f"Top {top} ICD-10-CM codes",
            ["code", "description", "records"],
            [[c, descriptions.get(c, ""), n] for c, n in _top(codes, top)],
        ),
        ReportTable(
            "procedures",
            f"Top {top} ICD-10-PCS procedures",
            ["code", "description", "records"],
            [[c, descriptions.get(c, ""), n] for c, n in _top(procedures, top)],
        ),
        ReportTable(
            "physicians",
            "By physician",
            ["physician", "records", "finalized", "codes"],
            [
                [p, c["records"], c["finalized"], c["codes"]]
                for p, c in sorted(physicians.items(), key=lambda kv: (-kv[1]["records"], kv[0]))
            ],
        ),
        ReportTable("settings", "By setting", ["setting", "records"], [[k, n] for k, n in _top(settings, None)]),
        ReportTable(
            "periods",
            f"By {period} of service",
            [period, "records", "finalized", "codes"],
            [[k, c["records"], c["finalized"], c["codes"]] for k, c in sorted(periods.items())],
        ),
        ReportTable(
            "turnaround",
            "Turnaround, receipt to finalization (hours)",
            ["finalized records", "median", "p90", "mean"],
            [
                [
                    len(turnaround),
                    r2(_pct(turnaround, 50)),
                    r2(_pct(turnaround, 90)),
                    r2(float(np.mean(turnaround)) if turnaround else None),
                ]
            ],
        ),
        productivity_table(s, [d.id for d in records if d.status == DictationStatus.FINALIZED]),
    ]
    return Report(start, end, period, not include_provisional, len(records), finalized, tables)


def _top(counter: Counter, n: int | None) -> list[tuple[str, int]]:
    items = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    return items[:n] if n else items


def _chapter_order(ch: str) -> int:
    return int(ch) if ch.isdigit() else 99


def productivity_table(s: Session, finalized_ids: list[int]) -> ReportTable:
    """Per coder: records finalized, handling hours, records per hour, last decision per proposal by outcome."""
    table = ReportTable(
        "productivity",
        "Coder productivity",
        ["coder", "records", "hours", "records/hour", "accepted", "edited", "rejected", "added", "acceptance rate"],
    )
    if not finalized_ids:
        return table
    events = s.execute(
        select(AuditEvent.dictation_id, AuditEvent.actor, AuditEvent.action, AuditEvent.at)
        .where(AuditEvent.dictation_id.in_(finalized_ids), AuditEvent.actor != "pipeline")
        .order_by(AuditEvent.at, AuditEvent.id)
    ).all()
    first: dict[tuple[int, str], datetime] = {}
    stats: dict[str, Counter] = defaultdict(Counter)
    hours: dict[str, float] = defaultdict(float)
    for e in events:
        first.setdefault((e.dictation_id, e.actor), e.at)
        if e.action == "finalize":
            stats[e.actor]["records"] += 1
            hours[e.actor] += max(0.0, _hours(first[(e.dictation_id, e.actor)], e.at))
    # the last decision on each code of the final code set, as the Measures page counts them: a code a
    # coder added and then removed again is not on the record, so it is no "added" code
    kept = set(s.scalars(select(CodeProposalRecord.id).where(CodeProposalRecord.dictation_id.in_(finalized_ids))))
    last: dict[int, ReviewDecision] = {}
    for dec in s.scalars(
        select(ReviewDecision)
        .where(ReviewDecision.dictation_id.in_(finalized_ids))
        .order_by(ReviewDecision.at, ReviewDecision.id)
    ):
        if dec.proposal_id in kept:
            last[dec.proposal_id] = dec
    for dec in last.values():
        stats[dec.user][
            {"accept": "accepted", "edit": "edited", "reject": "rejected", "add": "added"}.get(dec.action, dec.action)
        ] += 1
    for coder in sorted(stats):
        c, h = stats[coder], hours.get(coder, 0.0)
        decided = c["accepted"] + c["edited"] + c["rejected"]
        table.rows.append(
            [
                coder,
                c["records"],
                round(h, 2),
                round(c["records"] / h, 2) if h > 0 else None,
                c["accepted"],
                c["edited"],
                c["rejected"],
                c["added"],
                round(c["accepted"] / decided, 3) if decided else None,
            ]
        )
    return table


def last_days(n: int, today: date | None = None) -> tuple[date, date]:
    today = today or date.today()
    return today - timedelta(days=n - 1), today
