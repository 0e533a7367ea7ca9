"""Typed code proposals that leave the coding stage."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

CM = "ICD-10-CM"
PCS = "ICD-10-PCS"


@dataclass(frozen=True)
class Evidence:
    start: int
    end: int
    text: str
    audio_start: float | None = None
    audio_end: float | None = None


@dataclass(frozen=True)
class CodeProposal:
    system: str  # ICD-10-CM | ICD-10-PCS
    code: str
    description: str
    score: float  # in [0, 1]
    evidence: list[Evidence]
    rationale: str
    edits: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SkippedFinding:
    """A mention the coder deliberately did not code, and why (shown to reviewers)."""

    text: str
    start: int
    end: int
    reason: str
