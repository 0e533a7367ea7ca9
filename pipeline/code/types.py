"""Typed code proposals that leave the coding stage.

Why a code is proposed is data: a :class:`CodeProposal` carries its :class:`Reason` s, each of a
:class:`ReasonKind` that rules and the re-ranker read, and the sentence a coder reads. The
``rationale`` shown in every output (CLI JSON, database, web app) is those sentences joined."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import Enum

CM = "ICD-10-CM"
PCS = "ICD-10-PCS"


@dataclass(frozen=True)
class Evidence:
    start: int
    end: int
    text: str
    audio_start: float | None = None
    audio_end: float | None = None


class ReasonKind(Enum):
    """What a :class:`Reason` says about its code."""

    INDEX_MATCH = "index_match"  # the mention matches the code's title, Index entry or inclusion term
    UNCERTAIN_CODED_AS_ESTABLISHED = "uncertain_coded_as_established"  # inpatient uncertain diagnosis (II.H)
    SPECIFIED = "specified"  # the documentation states detail that makes a more specific code (codes: that code)
    MISSING_LATERALITY = "missing_laterality"
    BOTH_SIDES = "both_sides"  # a bilateral condition with no bilateral code: each side's code (I.B.13; codes: right, left)
    MISSING_EPISODE_OF_CARE = "missing_episode_of_care"
    MISSING_ACUITY = "missing_acuity"
    MISSING_TOBACCO_PRODUCT = "missing_tobacco_product"
    COMBINATION = "combination"  # a combination code the classification requires (codes: the codes combined)
    KEPT_ALONGSIDE = "kept_alongside"  # codes a combination code keeps beside it (use additional / code also)
    INCLUDED = "included"  # codes this code takes in (codes: those codes)
    # the acute form of a condition said "acute on chronic", coded beside the chronic one where the Index
    # lists them as separate subentries (Guidelines I.B.8; codes: acute, chronic)
    ACUTE_AND_CHRONIC = "acute_and_chronic"
    FAMILY_HISTORY = "family_history"  # a relative's condition, coded to its Z80-Z84 code (codes: the condition)
    PERSONAL_HISTORY = "personal_history"  # a past condition, coded to its history code (codes: the condition)
    LIFELONG_CONDITION = "lifelong_condition"  # documented as history, coded as current
    PAST_PROCEDURE_STATUS = "past_procedure_status"  # a past procedure's status code (I.C.21.c.3)
    DEPENDENCE_STATUS = "dependence_status"  # a treatment the patient lives on: dialysis, home oxygen (Z99, I.C.21.c.3)
    LONG_TERM_DRUG_THERAPY = "long_term_drug_therapy"  # a drug of the medication list (Z79, I.C.21.c.3)
    ALLERGY_STATUS = "allergy_status"  # a drug of the allergy list (Z88, Z91.04-)
    DRUG_EFFECT = "drug_effect"  # adverse effect, poisoning or underdosing of a drug (Table of Drugs, I.C.19.e)
    TOBACCO_USE = "tobacco_use"  # a tobacco statement of the social history (F17.2-, Z87.891, Z72.0)
    EXTERNAL_CAUSE = "external_cause"  # how, where, doing what the record's injury happened (I.C.20)
    WEEKS_OF_GESTATION = "weeks_of_gestation"  # a maternal record's weeks of gestation (Z3A, I.C.15.b.4)
    BODY_MASS_INDEX = "body_mass_index"  # the BMI beside a weight diagnosis (Z68, I.B.14)
    SOCIAL_DETERMINANT = "social_determinant"  # a circumstance the note states: living alone, unemployment (I.C.21.c.17)
    SCREENING = (
        "screening"  # the encounter screens for a condition not diagnosed (Z11-Z13, I.C.21.c.5; codes: the screening code)
    )
    THERAPY_ENCOUNTER = (
        "therapy_encounter"  # the encounter is for chemotherapy, immunotherapy or radiation (Z51.0, Z51.1-, I.C.2.e.2)
    )
    NARRATED_PROCEDURE = "narrated_procedure"  # a procedure the report's narrative states, built root operation and body part
    # a procedure the report names as done (under its procedure heading, or narrated): scored as often as
    # coders code such procedures, not by the re-ranker, which learned case reports
    PERFORMED_PROCEDURE = "performed_procedure"
    CODED_CASES = "coded_cases"  # CodiEsp train cases coded the mention to the code
    SIMILAR_CASES = "similar_cases"  # the most similar coded cases (CodiEsp train) give the code
    DOCUMENT_MODEL = "document_model"  # the document-level model links the document's wording to the code
    CASES_WITH_MENTION = "cases_with_mention"  # how many CodiEsp train cases with this mention give the code
    SEQUENCED_FIRST = "sequenced_first"  # suggested principal / first-listed diagnosis
    NOT_PROPOSED = "not_proposed"  # a guideline filter's reason for keeping it as an alternative
    REQUIRED_BELOW_THRESHOLD = "required_below_threshold"  # proposed although its score is below the threshold
    READ_AS_SUGGESTED = "read_as_suggested"  # its evidence was read with the term corrector's suggestion for misheard words


@dataclass(frozen=True)
class Reason:
    """One reason for (or against) a code: its kind, the codes it names, and the sentence a coder reads."""

    kind: ReasonKind
    codes: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class CodeProposal:
    system: str  # ICD-10-CM | ICD-10-PCS
    code: str
    description: str
    score: float  # in [0, 1]
    evidence: list[Evidence]
    reasons: tuple[Reason, ...]
    edits: list[str] = field(default_factory=list)

    @property
    def rationale(self) -> str:
        """The reasons as the coder reads them, one sentence after another."""
        return "; ".join(r.text for r in self.reasons)

    def has(self, *kinds: ReasonKind) -> bool:
        """Whether one of the proposal's reasons is of one of ``kinds``."""
        return any(r.kind in kinds for r in self.reasons)

    def because(self, reason: Reason) -> CodeProposal:
        """The proposal with ``reason`` added last."""
        return replace(self, reasons=(*self.reasons, reason))

    def to_dict(self) -> dict:
        return {
            "system": self.system,
            "code": self.code,
            "description": self.description,
            "score": self.score,
            "evidence": [asdict(ev) for ev in self.evidence],
            "rationale": self.rationale,
            "edits": list(self.edits),
        }


@dataclass(frozen=True)
class SkippedFinding:
    """A mention the coder deliberately did not code, and why (shown to reviewers)."""

    text: str
    start: int
    end: int
    reason: str
