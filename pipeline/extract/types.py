"""Typed entities that leave the extraction stage."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

LABELS = ("PROBLEM", "SYMPTOM", "PROCEDURE", "MEDICATION", "TEST")
# the sections (``mrt_sections``' canonical names) whose findings are the physician's stated diagnoses
DIAGNOSIS_SECTIONS = frozenset(
    {
        "assessment",
        "assessment_and_plan",
        "impression",
        "admission_diagnosis",
        "discharge_diagnosis",
        "preoperative_diagnosis",
        "postoperative_diagnosis",
    }
)


@dataclass(frozen=True)
class Entity:
    start: int  # character offsets in the transcript / note text
    end: int
    text: str
    label: str
    section: str | None = None
    negated: bool = False
    uncertain: bool = False
    historical: bool = False
    hypothetical: bool = False
    family: bool = False
    audio_start: float | None = None
    audio_end: float | None = None
    long_form: str | None = None  # expansion when the mention is an abbreviation
    word_prob: float | None = None  # lowest Whisper word probability inside the mention
    cues: list[str] = field(default_factory=list)  # context triggers that set the flags
    # ranked (code, score) pairs from the entity linker (ICD-10-CM for problems and symptoms,
    # ICD-10-PCS for procedures and tests), best first
    candidates: list[tuple[str, float]] = field(default_factory=list)
    # long forms of an ambiguous abbreviation the context did not resolve (left for the coder)
    abbreviation_senses: list[str] = field(default_factory=list)
    # the words extraction read here when the transcript carries the term corrector's suggestion for
    # the words heard ("cholecystitis" for "colysis status"; see pipeline.extract.reading); ``text``
    # stays what was heard
    read_as: str | None = None

    @property
    def asserted_present(self) -> bool:
        """A finding the patient has now (not negated, uncertain, hypothetical, or someone else's)."""
        return not (self.negated or self.uncertain or self.hypothetical or self.family)

    @property
    def query_text(self) -> str:
        """Words to look the mention up by: the long form of an abbreviation, or what the mention was
        read as (a suggested term in place of misheard words)."""
        return self.long_form or self.read_as or self.text

    def to_dict(self) -> dict:
        return asdict(self)
