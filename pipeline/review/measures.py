"""How well the proposals did, per model version: from the outcome stored for every code
of every finalized record (accepted as proposed, edited, rejected, or added by the coder)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.store.models import CodeProposalRecord, Dictation, DictationStatus


@dataclass(frozen=True)
class ModelMeasures:
    model_version: str
    system: str
    records: int
    proposed: int
    accepted: int
    edited: int
    rejected: int
    added: int

    @property
    def acceptance_rate(self) -> float | None:
        """Share of proposals the coder accepted exactly as proposed (= proposal precision)."""
        return self.accepted / self.proposed if self.proposed else None

    @property
    def recall(self) -> float | None:
        """Share of the final codes that were proposed exactly."""
        final = self.accepted + self.edited + self.added
        return self.accepted / final if final else None

    def to_dict(self) -> dict:
        return {
            **self.__dict__,
            "acceptance_rate": self.acceptance_rate,
            "recall": self.recall,
        }


def review_measures(s: Session) -> list[ModelMeasures]:
    rows = s.execute(
        select(
            CodeProposalRecord.dictation_id,
            CodeProposalRecord.system,
            CodeProposalRecord.status,
            CodeProposalRecord.source,
            CodeProposalRecord.model_version,
        )
        .join(Dictation, Dictation.id == CodeProposalRecord.dictation_id)
        .where(Dictation.status == DictationStatus.FINALIZED)
    ).all()
    # a coder's added code counts against the model that coded the record
    record_model = {r.dictation_id: r.model_version for r in rows if r.source == "pipeline"}
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    records: dict[tuple[str, str], set[int]] = defaultdict(set)
    for r in rows:
        model = r.model_version if r.source == "pipeline" else record_model.get(r.dictation_id, "(no proposals)")
        key = (model, r.system)
        records[key].add(r.dictation_id)
        if r.source == "coder":
            counts[key]["added"] += 1
        else:
            counts[key]["proposed"] += 1
            counts[key][r.status] += 1
    return [
        ModelMeasures(
            model, system, len(records[(model, system)]), c["proposed"], c["accepted"], c["edited"], c["rejected"], c["added"]
        )
        for (model, system), c in sorted(counts.items())
    ]
