"""The daily summary: what was coded, what failed and why, codes proposed, audio hours.

Built from the database (the audit trail says when each dictation was coded or failed), so
it covers every way a dictation got in (drop folder, nightly batch, ``mrt process``), and
written as ``summaries/YYYY-MM-DD.json`` and ``.md``. The files hold file names and
dictation IDs; the Prefect artifact and the log only counts.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from pipeline.store.models import AuditEvent, Dictation, DictationStatus
from pipeline.store.processing import IN_PROGRESS, TRANSIENT_KINDS


@dataclass
class DailySummary:
    day: str
    timezone: str
    start: str
    end: str
    processed: int = 0
    audio_hours: float = 0.0
    codes_proposed: int = 0
    codes_by_system: dict = field(default_factory=dict)
    top_codes: list = field(default_factory=list)  # [[code, description, count], ...]
    failed: list = field(default_factory=list)  # [{id, file, kind, reason, attempts, will_retry}]
    failures_by_kind: dict = field(default_factory=dict)
    retry_pending: int = 0
    in_progress: int = 0
    quarantined_strays: int = 0
    mean_stage_seconds: dict = field(default_factory=dict)
    run: dict | None = None  # counts of this batch's outcomes, when written by a batch

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def failed_count(self) -> int:
        return len(self.failed)


def _ids_with(session: Session, action: str, start: datetime, end: datetime) -> set[int]:
    q = select(AuditEvent.dictation_id).where(
        AuditEvent.action == action, AuditEvent.at >= start, AuditEvent.at < end, AuditEvent.dictation_id.is_not(None)
    )
    return set(session.scalars(q))


def build_summary(session: Session, end: datetime, tz: str, hours: float = 24.0, run: dict | None = None) -> DailySummary:
    """Summary of the ``hours`` before ``end`` (UTC-aware), named by ``end``'s local date."""
    start = end - timedelta(hours=hours)
    day = end.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d")
    s = DailySummary(
        day=day, timezone=tz, start=start.isoformat(timespec="seconds"), end=end.isoformat(timespec="seconds"), run=run
    )

    coded_ids = _ids_with(session, "coded", start, end)
    coded = (
        list(
            session.scalars(
                select(Dictation)
                .where(
                    Dictation.id.in_(coded_ids),
                    Dictation.status.in_((DictationStatus.CODED, DictationStatus.PENDING, DictationStatus.FINALIZED)),
                )
                .options(selectinload(Dictation.proposals))
            )
        )
        if coded_ids
        else []
    )
    s.processed = len(coded)
    s.audio_hours = round(sum(d.duration or 0.0 for d in coded) / 3600, 3)
    systems: Counter = Counter()
    codes: Counter = Counter()
    descriptions: dict[str, str] = {}
    stage_totals: Counter = Counter()
    stage_n = 0
    for d in coded:
        for p in d.proposals:
            if getattr(p, "source", "pipeline") != "pipeline":  # codes a coder added are not proposals
                continue
            systems[p.system] += 1
            codes[p.code] += 1
            descriptions[p.code] = p.description
        if d.stage_seconds:
            stage_n += 1
            stage_totals.update({k: float(v) for k, v in d.stage_seconds.items()})
    s.codes_proposed = sum(systems.values())
    s.codes_by_system = dict(systems)
    s.top_codes = [[c, descriptions[c], n] for c, n in codes.most_common(10)]
    if stage_n:
        s.mean_stage_seconds = {k: round(v / stage_n, 3) for k, v in stage_totals.items()}

    failed_ids = _ids_with(session, "failed", start, end)
    if failed_ids:
        rows = session.scalars(
            select(Dictation)
            .where(Dictation.id.in_(failed_ids), Dictation.status == DictationStatus.FAILED)
            .order_by(Dictation.id)
        )
        for d in rows:
            s.failed.append(
                {
                    "id": d.id,
                    "file": d.file_name,
                    "kind": d.error_kind,
                    "reason": d.error,
                    "attempts": d.attempts,
                    "will_retry": d.error_kind in TRANSIENT_KINDS,
                }
            )
    s.failures_by_kind = dict(Counter(f["kind"] for f in s.failed))
    s.retry_pending = (
        session.scalar(
            select(func.count())
            .select_from(Dictation)
            .where(Dictation.status == DictationStatus.FAILED, Dictation.error_kind.in_(TRANSIENT_KINDS))
        )
        or 0
    )
    s.in_progress = session.scalar(select(func.count()).select_from(Dictation).where(Dictation.status.in_(IN_PROGRESS))) or 0
    if run:
        s.quarantined_strays = int(run.get("strays", 0))
    return s


def render_markdown(s: DailySummary, with_names: bool = True) -> str:
    lines = [
        f"# Dictation summary {s.day}",
        "",
        f"Window: {s.start} to {s.end} ({s.timezone} day {s.day})",
        "",
        "| | |",
        "|---|---|",
        f"| dictations coded | {s.processed} |",
        f"| audio hours | {s.audio_hours:.2f} |",
        f"| codes proposed | {s.codes_proposed} ("
        + (", ".join(f"{k} {v}" for k, v in sorted(s.codes_by_system.items())) or "none")
        + ") |",
        f"| failed | {s.failed_count} |",
        f"| waiting for a retry | {s.retry_pending} |",
        f"| in progress now | {s.in_progress} |",
    ]
    if s.run:
        lines.append("| this batch | " + (", ".join(f"{k} {v}" for k, v in sorted(s.run.items()) if v) or "nothing to do") + " |")
    if s.mean_stage_seconds:
        lines += [
            "",
            "Mean seconds per dictation by stage: " + ", ".join(f"{k} {v:.2f}" for k, v in s.mean_stage_seconds.items()),
        ]
    if s.failures_by_kind:
        lines += ["", "## Failures by reason", ""] + [f"- {k}: {n}" for k, n in sorted(s.failures_by_kind.items())]
    if s.failed and with_names:
        lines += ["", "## Failed dictations", "", "| ID | file | reason | tries | retried |", "|---|---|---|---|---|"]
        for f in s.failed:
            reason = (f["reason"] or "").replace("|", "/")
            lines.append(
                f"| {f['id']} | {f['file'].replace('|', '/')} | {reason} | {f['attempts']} | {'yes' if f['will_retry'] else 'no'} |"
            )
    if s.top_codes and with_names:
        lines += ["", "## Most proposed codes", "", "| code | description | dictations |", "|---|---|---|"]
        lines += [f"| {c} | {desc} | {n} |" for c, desc, n in s.top_codes]
    return "\n".join(lines) + "\n"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_summary(s: DailySummary, directory: Path) -> tuple[Path, Path]:
    """Write ``DAY.json`` and ``DAY.md`` (a later run the same day writes a newer summary of the same window kind)."""
    directory.mkdir(parents=True, exist_ok=True)
    js, md = directory / f"{s.day}.json", directory / f"{s.day}.md"
    _write_atomic(js, json.dumps(s.to_dict(), indent=2, ensure_ascii=False) + "\n")
    _write_atomic(md, render_markdown(s))
    return js, md


def now_utc() -> datetime:
    return datetime.now(UTC)
