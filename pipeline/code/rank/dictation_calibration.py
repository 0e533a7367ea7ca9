"""What coders do with a dictation's codes: scores and decisions learned from hand-coded dictations.

The re-ranker (:mod:`pipeline.code.rank.rerank`) learned from CodiEsp case reports, which have no
"Discharge diagnoses:" or "Assessment:" heading, and the guideline rules decide from wording. On a
dictated note neither says how often a coder assigns a code like this one, from this part of the note.
This module does: a logistic model over facts of each code the rules proposed or kept as an
alternative, fitted by ``scripts/build_dictation_calibration.py`` on the dictation set's *training*
notes (``tests/data/dictation/train.jsonl``; the dev notes check it, the test notes report it) and
shipped as ``data/dictation_calibration.json`` with the decision threshold chosen on those notes.

The facts (:data:`FEATURES`), all read from the code's proposal and the document's sections:

* the re-ranker's score (as its logit), and what the rules decided: proposed, required by a guideline
  or by the physician's statement, stated under a diagnosis heading, or moved aside by a filter;
* where its evidence lies: a diagnosis heading, only the review of systems / examination / vitals /
  labs / imaging, the present illness, the past history, the medication list, the plan;
* what its reasons are (an Index match, CodiEsp cases, a history code, a drug of the medication list...);
* what kind of code it is (a symptom, a status or history code, an external cause, an injury);
* the care setting.

:func:`decide` gives every code of a dictation its probability as its score and re-decides: a code
scoring at least the threshold is proposed; one below it is an alternative. Two decisions stay the
rules': a code a guideline filter moved aside is never proposed, and a code the guidelines or the
physician's own statement require stays proposed (with its learned score). It applies only to
dictations: documents with at least :data:`MIN_HEADED_SECTIONS` distinct section headings (CodiEsp case
reports have none). A setting or system the file has no model for is left as the rules decided.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from pipeline.code.types import CodeProposal, Reason, ReasonKind
from pipeline.extract.types import DIAGNOSIS_SECTIONS

log = logging.getLogger(__name__)

CALIBRATION_FILE = Path(__file__).resolve().parents[1] / "data" / "dictation_calibration.json"
FORMAT = 2
EXAM_SECTIONS = frozenset({"review_of_systems", "physical_exam", "vital_signs", "labs", "imaging", "findings"})
HISTORY_SECTIONS = frozenset({"past_medical_history", "past_surgical_history"})
MIN_HEADED_SECTIONS = 2
UNTITLED_SECTIONS = frozenset({None, "", "untitled"})
# the reasons whose presence the model weighs (the rest are too rare on the training notes to learn)
REASON_FEATURES = (
    ReasonKind.INDEX_MATCH,
    ReasonKind.CODED_CASES,
    ReasonKind.SIMILAR_CASES,
    ReasonKind.CASES_WITH_MENTION,
    ReasonKind.DOCUMENT_MODEL,
    ReasonKind.LIFELONG_CONDITION,
    ReasonKind.PERSONAL_HISTORY,
    ReasonKind.COMBINATION,
    ReasonKind.KEPT_ALONGSIDE,
    ReasonKind.LONG_TERM_DRUG_THERAPY,
    ReasonKind.ALLERGY_STATUS,
    ReasonKind.DRUG_EFFECT,
    ReasonKind.TOBACCO_USE,
    ReasonKind.EXTERNAL_CAUSE,
    ReasonKind.MISSING_EPISODE_OF_CARE,
    ReasonKind.MISSING_LATERALITY,
    ReasonKind.MISSING_ACUITY,
)
FEATURES = (
    "logit_score",
    "proposed_by_rules",
    "required",
    "stated",
    "moved_by_filter",
    "in_diagnosis_section",
    "only_in_exam",
    "in_present_illness",
    "in_past_history",
    "in_medications",
    "in_plan",
    "log_evidence",
    *(f"reason:{k.value}" for k in REASON_FEATURES),
    "symptom_code",
    "status_code",
    "external_cause_code",
    "injury_code",
    "inpatient",
)
_EPS = 1e-4


@dataclass(frozen=True)
class CodeFacts:
    """What the model reads about one code of one document."""

    system: str
    code: str
    score: float  # the re-ranker's (after the rules' floors)
    setting: str
    proposed_by_rules: bool
    required: bool
    stated: bool
    kinds: frozenset[ReasonKind]
    sections: tuple[str | None, ...]  # of its evidence

    def vector(self) -> tuple[float, ...]:
        s = min(max(self.score, _EPS), 1 - _EPS)
        secs = set(self.sections)
        first = self.code[:1]
        return (
            math.log(s / (1 - s)),
            float(self.proposed_by_rules),
            float(self.required),
            float(self.stated),
            float(ReasonKind.NOT_PROPOSED in self.kinds),
            float(bool(secs & DIAGNOSIS_SECTIONS)),
            float(bool(secs) and secs <= EXAM_SECTIONS),
            float("hpi" in secs),
            float(bool(secs & HISTORY_SECTIONS)),
            float("medications" in secs),
            float(bool(secs & {"plan", "assessment_and_plan"})),
            math.log1p(len(self.sections)),
            *(float(k in self.kinds) for k in REASON_FEATURES),
            float(first == "R"),
            float(first == "Z"),
            float(first in "VWXY"),
            float(first in "ST"),
            float(self.setting == "inpatient"),
        )


@dataclass(frozen=True)
class Logistic:
    weights: tuple[float, ...]  # one per FEATURES
    intercept: float
    threshold: float  # proposed at or above
    examples: int
    positives: int

    @classmethod
    def from_dict(cls, m: dict) -> Logistic:
        """A model as :func:`fit` writes it (and the shipped file holds it)."""
        return cls(tuple(m["weights"]), m["intercept"], m["threshold"], m["examples"], m["positives"])

    def __call__(self, x: Sequence[float]) -> float:
        z = self.intercept + sum(w * v for w, v in zip(self.weights, x))
        return 1.0 / (1.0 + math.exp(-z))


# a heading in capitals with its colon, at a line's or sentence's start: "GENITOURINARY:", "SKIN:" (a review of
# systems or an examination template's body systems, which are no section extraction names)
_CAPITALS_HEADING = re.compile(r"(?:^|\n|[.,]\s*)([A-Z][A-Z/&\- ]{2,40}):")


def is_dictation(entities: Iterable, text: str | None = None) -> bool:
    """A document laid out under section headings, as dictated notes are (case reports are not): the
    sections its mentions are in, or, given its ``text``, the headings in capitals it has (none of CodiEsp
    dev's 250 case reports has two). The decision model is fitted on notes whose mentions are in sections
    and decides only those; the dictation filters read the text's headings too (a review-of-systems
    template's "SKIN:" is no ground for the statistics' L98.9)."""
    headed = {getattr(e, "section", None) for e in entities} - UNTITLED_SECTIONS
    if len(headed) >= MIN_HEADED_SECTIONS:
        return True
    return text is not None and len(set(_CAPITALS_HEADING.findall(text))) >= MIN_HEADED_SECTIONS


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Logistic]:
    p = Path(path)
    if not p.is_file():
        log.info("no dictation calibration at %s; the rules' decisions and scores stand", p)
        return {}
    data = json.loads(p.read_text(encoding="utf-8"))
    if data.get("format") != FORMAT or tuple(data.get("features", ())) != FEATURES:
        raise ValueError(
            f"{p}: calibration format {data.get('format')} / features {data.get('features')} "
            f"do not match this version ({FORMAT}, {len(FEATURES)} features); rebuild it with "
            "scripts/build_dictation_calibration.py"
        )
    return {m["system"]: Logistic.from_dict(m) for m in data["models"]}


def models(path: Path | None = None) -> dict[str, Logistic]:
    return _load(str(path or CALIBRATION_FILE))


_collector: ContextVar[list | None] = ContextVar("dictation_calibration_collector", default=None)


@contextmanager
def collecting() -> Iterator[list[CodeFacts]]:
    """While open, :func:`decide` records the facts of every code it sees and changes nothing: how
    the build script gets the rules' own decisions and scores to fit on."""
    rows: list[CodeFacts] = []
    token = _collector.set(rows)
    try:
        yield rows
    finally:
        _collector.reset(token)


def facts_of(
    p: CodeProposal, setting: str, proposed: bool, required: set[str], stated: set[str], section_at: dict[int, str | None]
) -> CodeFacts:
    return CodeFacts(
        p.system,
        p.code,
        p.score,
        setting,
        proposed,
        p.code in required,
        p.code in stated,
        frozenset(r.kind for r in p.reasons),
        tuple(section_at.get(ev.start) for ev in p.evidence),
    )


def decide(
    shown: Sequence[CodeProposal],
    rest: Sequence[CodeProposal],
    setting: str,
    required: Mapping[str, str],
    stated: Iterable[str],
    entities: Sequence,
    path: Path | None = None,
) -> tuple[list[CodeProposal], list[CodeProposal]]:
    """(proposals, alternatives) of a dictation re-decided by the learned model (see the module doc);
    each code's score becomes the probability that a coder assigns it. ``required``: the codes the
    guidelines or the physician's statement require, each with why (the rationale a required code
    below the threshold shows). Not a dictation, or no model for a code's system: as the rules decided."""
    if not is_dictation(entities):
        return list(shown), list(rest)
    required_codes, stated = set(required), set(stated)
    section_at = {e.start: e.section for e in entities}
    facts = [facts_of(p, setting, True, required_codes, stated, section_at) for p in shown]
    facts += [facts_of(p, setting, False, required_codes, stated, section_at) for p in rest]
    rows = _collector.get()
    if rows is not None:
        rows.extend(facts)
        return list(shown), list(rest)
    table = models(path)
    out_shown: list[CodeProposal] = []
    out_rest: list[CodeProposal] = []
    for p, f in zip([*shown, *rest], facts):
        m = table.get(p.system)
        if m is None:
            (out_shown if f.proposed_by_rules else out_rest).append(p)
            continue
        score = round(m(f.vector()), 4)
        # the re-ranker's threshold no longer decides: a reason that said the code scored below it goes
        q = replace(p, score=score, reasons=tuple(r for r in p.reasons if r.kind is not ReasonKind.REQUIRED_BELOW_THRESHOLD))
        if proposes(f, score, m.threshold):
            if score < m.threshold:
                q = q.because(
                    Reason(
                        ReasonKind.REQUIRED_BELOW_THRESHOLD,
                        (),
                        f"proposed although coders assign a code like this in {score:.0%} of dictations: "
                        f"{required.get(p.code, 'the guidelines require this code')}",
                    )
                )
            out_shown.append(q)
        else:
            if f.proposed_by_rules:
                q = q.because(
                    Reason(
                        ReasonKind.NOT_PROPOSED,
                        (),
                        f"coders assign a code like this in {score:.0%} of dictations "
                        f"(below {m.threshold:.0%}, learned from hand-coded dictations)",
                    )
                )
            out_rest.append(q)
    out_shown.sort(key=lambda p: -p.score)
    out_rest.sort(key=lambda p: -p.score)
    return out_shown, out_rest


def proposes(f: CodeFacts, probability: float, threshold: float) -> bool:
    """The decision: a code the rules must propose stays proposed; one a guideline filter moved aside
    stays aside; any other is proposed when its probability reaches the threshold."""
    if f.required and f.proposed_by_rules:
        return True
    return probability >= threshold and ReasonKind.NOT_PROPOSED not in f.kinds


def fit(rows: Sequence[tuple[CodeFacts, bool]], c: float = 1.0, threshold: float = 0.5, min_positives: int = 10) -> list[dict]:
    """One logistic model per code system from (facts, is_gold) rows, with ``threshold`` as its decision
    threshold (the build script chooses ``c`` and the threshold by cross-validation over notes);
    deterministic (lbfgs, fixed order). A system with fewer than ``min_positives`` gold codes (or
    non-gold codes) among the rows gets no model."""
    from sklearn.linear_model import LogisticRegression

    groups: dict[str, list[tuple[tuple[float, ...], bool]]] = {}
    for f, gold in rows:
        groups.setdefault(f.system, []).append((f.vector(), gold))
    out = []
    for system, pairs in sorted(groups.items()):
        ys = [int(g) for _, g in pairs]
        if sum(ys) < min_positives or len(ys) - sum(ys) < min_positives:
            continue
        model = LogisticRegression(C=c, solver="lbfgs", max_iter=5000)
        model.fit([list(x) for x, _ in pairs], ys)
        out.append(
            {
                "system": system,
                "weights": [round(float(w), 6) for w in model.coef_[0]],
                "intercept": round(float(model.intercept_[0]), 6),
                "threshold": threshold,
                "examples": len(pairs),
                "positives": sum(ys),
            }
        )
    return out
