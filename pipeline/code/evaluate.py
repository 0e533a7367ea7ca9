"""Score the coding stage on CodiEsp: MAP, recall@5/10 and P/R/F1 at the product's threshold.

:func:`evaluate` extracts entities from each document (cached, see
:mod:`pipeline.code.entity_cache`), runs :func:`pipeline.code.coder.propose_codes` and scores the
ranked proposals against the gold codes with :mod:`pipeline.code.metrics`, separately for
ICD-10-CM and ICD-10-PCS, at full code and 3-character category. The report is a plain dict
(``mrt eval coding --json`` prints it). ``mrt eval coding`` is the command line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pipeline.code.codiesp import GoldDocument, load_split
from pipeline.code.metrics import LEVELS, DocumentRun, reliability, score_level
from pipeline.code.types import CM, PCS, CodeProposal
from pipeline.settings import Settings, get_settings

SYSTEMS = (CM, PCS)
RELIABILITY_EDGES = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
TOP_ERRORS = 15


def code_documents(docs: Sequence[GoldDocument], settings: Settings, setting: str) -> list[list[CodeProposal]]:
    """Proposals (best first) for each document."""
    from pipeline.code.coder import propose_codes
    from pipeline.code.entity_cache import cached_entities

    entities = cached_entities([d.text for d in docs], settings.cache_dir)
    return [propose_codes(ents, settings=settings, setting=setting, text=d.text).proposals for d, ents in zip(docs, entities)]


def runs_for(system: str, docs: Sequence[GoldDocument], proposals: Sequence[Sequence[CodeProposal]]) -> list[DocumentRun]:
    return [
        DocumentRun(d.gold[system], tuple((p.code, p.score) for p in props if p.system == system))
        for d, props in zip(docs, proposals)
    ]


def _errors(system: str, runs: Sequence[DocumentRun], threshold: float) -> dict[str, list[tuple[str, int]]]:
    """Most frequent missed gold codes and false-positive proposals at the threshold (full code)."""
    from pipeline.code.metrics import level_key

    missed: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    for run in runs:
        kept = {level_key(system, c, run.gold, "full") for c, s in run.proposals if s >= threshold}
        missed.update(g for g in run.gold if g not in kept)
        wrong.update(k for k in kept if k not in run.gold)
    return {"missed": missed.most_common(TOP_ERRORS), "false_positive": wrong.most_common(TOP_ERRORS)}


def score_runs(system_runs: dict[str, list[DocumentRun]], threshold: float) -> dict:
    return {
        system: {
            **{level: score_level(system, runs, level, threshold).to_dict() for level in LEVELS},
            "reliability": [b.to_dict() for b in reliability(system, runs, RELIABILITY_EDGES)],
            "errors": _errors(system, runs, threshold),
        }
        for system, runs in system_runs.items()
    }


def evaluate(
    split: str = "dev", limit: int | None = None, settings: Settings | None = None, setting: str = "inpatient",
    threshold: float | None = None,
) -> dict:
    """The evaluation report for ``split`` (see the module doc)."""
    from pipeline.code.coder import MODEL_VERSION

    settings = settings or get_settings()
    threshold = settings.min_code_score if threshold is None else threshold
    docs = load_split(split, limit)
    proposals = code_documents(docs, settings, setting)
    system_runs = {system: runs_for(system, docs, proposals) for system in SYSTEMS}
    return {
        "split": split, "documents": len(docs), "setting": setting, "threshold": threshold,
        "model_version": MODEL_VERSION, "results": score_runs(system_runs, threshold),
    }
