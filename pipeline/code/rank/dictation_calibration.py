"""Scores that mean the same on dictations: a per-setting calibration fitted on the dictation set's dev part.

The re-ranker (:mod:`pipeline.code.rank.rerank`) learned from CodiEsp case reports, which have no
"Discharge diagnoses:" or "Assessment:" heading; on a dictation it gives a diagnosis the physician
states 0.16-0.21, so the score a reviewer sees says "unsure" about the codes a coder is surest of.
This module maps a code's re-ranker score to the probability that a coder assigns it *in a dictated
note*, per care setting and code system, from three facts of the document:

* the re-ranker's score (as its logit),
* ``stated``: the code is the physician's own diagnostic statement, a problem named under a diagnosis
  heading whose best code matches it closely (:func:`pipeline.code.coder.stated_diagnoses`), or a
  procedure named under the operative report's procedure heading
  (:func:`pipeline.code.coder.stated_procedures`);
* ``in_diagnosis_section``: some of the code's evidence lies under a diagnosis heading (assessment,
  impression, admission/discharge/pre-/postoperative diagnosis), however loosely it matches;
* ``only_in_exam``: all of its evidence lies in the review of systems, vital signs, examination,
  labs, imaging or findings (what the physician observed, not what they concluded).

The map is a logistic regression per (setting, system) over those features, fitted by
``scripts/build_dictation_calibration.py`` on the dev notes of the dictation set
(``tests/data/dictation/gold.jsonl``; the test notes are never read) and shipped as
``data/dictation_calibration.json``. It is applied only to dictations: documents with at least
:data:`MIN_HEADED_SECTIONS` distinct section headings (CodiEsp case reports have none, and keep the
re-ranker's scores). A (setting, system) the file lacks keeps the re-ranker's scores.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from pipeline.code.types import CodeProposal

log = logging.getLogger(__name__)

CALIBRATION_FILE = Path(__file__).resolve().parents[1] / "data" / "dictation_calibration.json"
FORMAT = 1
FEATURES = ("logit_score", "stated", "in_diagnosis_section", "only_in_exam")
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
EXAM_SECTIONS = frozenset({"review_of_systems", "physical_exam", "vital_signs", "labs", "imaging", "findings"})
MIN_HEADED_SECTIONS = 2
UNTITLED_SECTIONS = frozenset({None, "", "untitled"})
_EPS = 1e-4


@dataclass(frozen=True)
class CodeFacts:
    """What the calibration reads about one candidate code of one document."""

    system: str
    code: str
    score: float  # the re-ranker's
    stated: bool
    in_diagnosis_section: bool
    only_in_exam: bool

    def vector(self) -> tuple[float, ...]:
        s = min(max(self.score, _EPS), 1 - _EPS)
        return (math.log(s / (1 - s)), float(self.stated), float(self.in_diagnosis_section), float(self.only_in_exam))


@dataclass(frozen=True)
class Logistic:
    weights: tuple[float, ...]  # one per FEATURES
    intercept: float
    examples: int
    positives: int

    def __call__(self, x: Sequence[float]) -> float:
        z = self.intercept + sum(w * v for w, v in zip(self.weights, x))
        return 1.0 / (1.0 + math.exp(-z))


def is_dictation(entities: Iterable) -> bool:
    """A document laid out under section headings, as dictated notes are (case reports are not)."""
    headed = {getattr(e, "section", None) for e in entities} - UNTITLED_SECTIONS
    return len(headed) >= MIN_HEADED_SECTIONS


@lru_cache(maxsize=4)
def _load(path: str) -> dict[tuple[str, str], Logistic]:
    p = Path(path)
    if not p.is_file():
        log.info("no dictation calibration at %s; re-ranker scores are used as they are", p)
        return {}
    data = json.loads(p.read_text(encoding="utf-8"))
    if data.get("format") != FORMAT or tuple(data.get("features", ())) != FEATURES:
        raise ValueError(
            f"{p}: calibration format {data.get('format')} / features {data.get('features')} "
            f"do not match this version ({FORMAT}, {FEATURES}); rebuild it with "
            "scripts/build_dictation_calibration.py"
        )
    return {
        (m["setting"], m["system"]): Logistic(tuple(m["weights"]), m["intercept"], m["examples"], m["positives"])
        for m in data["models"]
    }


def models(path: Path | None = None) -> dict[tuple[str, str], Logistic]:
    return _load(str(path or CALIBRATION_FILE))


_collector: ContextVar[list | None] = ContextVar("dictation_calibration_collector", default=None)


@contextmanager
def collecting() -> Iterator[list[tuple[str, CodeFacts]]]:
    """While open, :func:`calibrate` records (setting, facts) of every code it sees and changes no
    score: how the build script gets the re-ranker's own scores to fit on."""
    rows: list[tuple[str, CodeFacts]] = []
    token = _collector.set(rows)
    try:
        yield rows
    finally:
        _collector.reset(token)


def facts_of(p: CodeProposal, stated: set[str], section_at: dict[int, str | None]) -> CodeFacts:
    sections = [section_at.get(ev.start) for ev in p.evidence]
    return CodeFacts(
        p.system,
        p.code,
        p.score,
        p.code in stated,
        any(s in DIAGNOSIS_SECTIONS for s in sections),
        bool(sections) and all(s in EXAM_SECTIONS for s in sections),
    )


def calibrate(
    proposals: Sequence[CodeProposal],
    setting: str,
    stated: Iterable[str],
    entities: Sequence,
    path: Path | None = None,
) -> list[CodeProposal]:
    """``proposals`` with dictation-calibrated scores (same order; the caller re-sorts).

    ``stated``: codes the physician states (diagnoses and named procedures); ``entities``: the
    document's mentions (their sections). Not a dictation, or no model for the (setting, system):
    the score is unchanged."""
    if not is_dictation(entities):
        return list(proposals)
    stated = set(stated)
    section_at = {e.start: e.section for e in entities}
    facts = [facts_of(p, stated, section_at) for p in proposals]
    rows = _collector.get()
    if rows is not None:
        rows.extend((setting, f) for f in facts)
        return list(proposals)
    table = models(path)
    out = []
    for p, f in zip(proposals, facts):
        m = table.get((setting, p.system))
        out.append(replace(p, score=round(m(f.vector()), 4)) if m is not None else p)
    return out


def fit(
    rows: Sequence[tuple[str, CodeFacts, bool]], c: float = 1.0, min_examples: int = 30, min_positives: int = 10
) -> list[dict]:
    """Logistic models per (setting, system) from (setting, facts, is_gold) rows; deterministic (lbfgs,
    fixed order). A (setting, system) with fewer than ``min_examples`` codes or ``min_positives`` gold
    codes among them gets no model (its codes keep the re-ranker's scores)."""
    from sklearn.linear_model import LogisticRegression

    groups: dict[tuple[str, str], list[tuple[tuple[float, ...], bool]]] = {}
    for setting, f, gold in rows:
        groups.setdefault((setting, f.system), []).append((f.vector(), gold))
    out = []
    for (setting, system), pairs in sorted(groups.items()):
        ys = [int(g) for _, g in pairs]
        if len(pairs) < min_examples or sum(ys) < min_positives or len(ys) - sum(ys) < min_positives:
            continue
        model = LogisticRegression(C=c, solver="lbfgs", max_iter=1000)
        model.fit([list(x) for x, _ in pairs], ys)
        out.append(
            {
                "setting": setting,
                "system": system,
                "weights": [round(float(w), 6) for w in model.coef_[0]],
                "intercept": round(float(model.intercept_[0]), 6),
                "examples": len(pairs),
                "positives": sum(ys),
            }
        )
    return out
