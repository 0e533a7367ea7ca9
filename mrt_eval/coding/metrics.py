"""Ranking and set metrics for code proposals against gold codes (pure functions, no I/O).

* MAP, CodiEsp style: per document, rank the proposed codes; average precision is the sum of
  precision@k over the ranks k holding a gold code, divided by the number of gold codes; the mean
  over documents that have at least one gold code for that system.
* recall@k: gold codes found in the first k distinct proposals, micro-averaged over documents.
* P/R/F1 at a score threshold: proposals scoring at least the threshold against the gold set,
  micro-averaged.

Two levels: the full code, and the 3-character category (CM category ``E11``; PCS section, body
system and operation ``0FT``). A gold PCS code shorter than 7 characters (CodiEsp codes many
imaging procedures only to 4) is matched by any proposal it is a prefix of; likewise a gold CM code
of the 2018 edition that FY2026 subdivided (R51 -> R51.9) by its FY2026 subcodes. Duplicates after
mapping to a level keep their first (best) rank.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from pipeline.code.types import PCS

LEVELS = ("full", "category")
RECALL_AT = (5, 10)


def category(code: str) -> str:
    return code.replace(".", "")[:3]


def level_key(system: str, code: str, gold: Iterable[str], level: str) -> str:
    """What ``code`` counts as at ``level`` against this document's gold codes."""
    if level == "category":
        return category(code)
    if system == PCS:
        for g in gold:
            if len(g) < 7 and code.startswith(g):
                return g
    else:
        for g in gold:
            if len(code) > len(g) and code.startswith(g) and _split_since_2018(g):
                return g
    return code


def _split_since_2018(code: str) -> bool:
    """A CodiEsp (2018) code that is not a FY2026 billable code because FY2026 subdivided it
    (R51 -> R51.0/R51.9, M54.5 -> M54.50...) or because CodiEsp left out the 7th character
    (T14.90, W19.XXX): any FY2026 code it begins is that code."""
    from pipeline.code.lookup.codeset import get_codeset

    return not get_codeset().cm_is_billable(code)


def at_level(system: str, ranked: Sequence[str], gold: Sequence[str], level: str) -> tuple[list[str], set[str]]:
    """(ranked distinct keys, gold keys) for one document at ``level``."""
    keys = list(dict.fromkeys(level_key(system, c, gold, level) for c in ranked))
    gold_keys = {category(g) for g in gold} if level == "category" else set(gold)
    return keys, gold_keys


def average_precision(ranked: Sequence[str], gold: set[str]) -> float:
    if not gold:
        return 0.0
    hits, total = 0, 0.0
    for k, code in enumerate(ranked, start=1):
        if code in gold:
            hits += 1
            total += hits / k
    return total / len(gold)


@dataclass(frozen=True)
class LevelScores:
    documents: int  # documents with at least one gold code
    gold: int
    proposed: int  # proposals at or above the threshold
    map: float
    recall_at_5: float
    recall_at_10: float
    precision: float
    recall: float
    f1: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DocumentRun:
    """One document's gold codes and its ranked proposals (code, score) for one system."""

    gold: tuple[str, ...]
    proposals: tuple[tuple[str, float], ...]  # best first
    shown: tuple[str, ...] | None = None  # the codes the product proposes, when not simply those at the threshold

    def kept(self, threshold: float, use_shown: bool = True) -> list[str]:
        """The proposed codes (best first): ``shown`` when given, else those scoring at least ``threshold``."""
        if use_shown and self.shown is not None:
            return [c for c, _ in self.proposals if c in self.shown]
        return [c for c, s in self.proposals if s >= threshold]


def score_level(system: str, runs: Sequence[DocumentRun], level: str, threshold: float, use_shown: bool = True) -> LevelScores:
    aps: list[float] = []
    found = {k: 0 for k in RECALL_AT}
    gold_total = tp = proposed = 0
    for run in runs:
        if not run.gold:
            # no gold: not part of MAP/recall, but its proposals above the threshold are false positives
            proposed += len({level_key(system, c, (), level) for c in run.kept(threshold, use_shown)})
            continue
        ranked, gold = at_level(system, [c for c, _ in run.proposals], run.gold, level)
        kept, _ = at_level(system, run.kept(threshold, use_shown), run.gold, level)
        aps.append(average_precision(ranked, gold))
        for k in RECALL_AT:
            found[k] += len(gold & set(ranked[:k]))
        gold_total += len(gold)
        proposed += len(kept)
        tp += len(gold & set(kept))
    p = tp / proposed if proposed else 0.0
    r = tp / gold_total if gold_total else 0.0
    return LevelScores(
        documents=len(aps),
        gold=gold_total,
        proposed=proposed,
        map=sum(aps) / len(aps) if aps else 0.0,
        recall_at_5=found[5] / gold_total if gold_total else 0.0,
        recall_at_10=found[10] / gold_total if gold_total else 0.0,
        precision=p,
        recall=r,
        f1=2 * p * r / (p + r) if p + r else 0.0,
    )


@dataclass(frozen=True)
class ReliabilityBin:
    low: float
    high: float
    proposals: int
    mean_score: float
    correct: float  # fraction of these proposals that are gold codes (full code)

    def to_dict(self) -> dict:
        return asdict(self)


def reliability(system: str, runs: Sequence[DocumentRun], edges: Sequence[float]) -> list[ReliabilityBin]:
    """Proposals binned by score (``edges`` ascending, last bin closed): mean score vs fraction correct."""
    pairs = []
    for run in runs:
        seen: set[str] = set()
        for code, score in run.proposals:
            key = level_key(system, code, run.gold, "full")
            if key in seen:
                continue
            seen.add(key)
            pairs.append((score, key in run.gold))
    bins = []
    for i, (lo, hi) in enumerate(zip(edges, edges[1:])):
        last = i == len(edges) - 2
        inside = [(s, ok) for s, ok in pairs if lo <= s < hi or (last and s == hi)]
        if inside:
            bins.append(
                ReliabilityBin(
                    lo, hi, len(inside), sum(s for s, _ in inside) / len(inside), sum(ok for _, ok in inside) / len(inside)
                )
            )
    return bins


def expected_calibration_error(bins: Sequence[ReliabilityBin]) -> float:
    """ECE: the proposal-weighted mean gap between mean score and fraction correct over the bins."""
    total = sum(b.proposals for b in bins)
    return sum(b.proposals * abs(b.mean_score - b.correct) for b in bins) / total if total else 0.0
