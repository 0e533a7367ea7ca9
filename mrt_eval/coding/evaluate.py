"""Score the coding stage on CodiEsp: MAP, recall@5/10 and P/R/F1 at the product's threshold.

:func:`evaluate` extracts entities from each document (cached, see
:mod:`mrt_eval.coding.entity_cache`), runs :func:`pipeline.code.coder.propose_codes` and scores the
ranked proposals against the gold codes with :mod:`mrt_eval.coding.metrics`, separately for
ICD-10-CM and ICD-10-PCS, at full code and 3-character category. The report is a plain dict
(``mrt eval coding --json`` prints it). ``mrt eval coding`` is the command line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from mrt_eval.coding.codiesp import GoldDocument, load_split
from mrt_eval.coding.metrics import LEVELS, DocumentRun, expected_calibration_error, reliability, score_level
from pipeline.code.types import CM, PCS, CodeProposal
from pipeline.settings import Settings, get_settings

SYSTEMS = (CM, PCS)
RELIABILITY_EDGES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
SWEEP = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6)
TOP_ERRORS = 15


def code_documents(
    docs: Sequence[GoldDocument], settings: Settings, setting: str | Sequence[str]
) -> list[tuple[list[CodeProposal], set]]:
    """Ranked codes (best first) for each document: the proposals, then the alternatives below the
    product threshold (ranking metrics read the whole list; P/R/F1 only codes at the threshold).
    ``setting`` is one care setting for all documents, or one per document."""
    from mrt_eval.coding.entity_cache import cached_entities
    from pipeline.code.coder import propose_codes

    settings_per_doc = [setting] * len(docs) if isinstance(setting, str) else list(setting)
    entities = cached_entities([d.text for d in docs], settings.cache_dir)
    out = []
    for d, ents, doc_setting in zip(docs, entities, settings_per_doc):
        result = propose_codes(ents, settings=settings, setting=doc_setting, text=d.text)
        ranked = sorted(result.proposals + result.alternatives, key=lambda p: -p.score)
        out.append((ranked, {(p.system, p.code) for p in result.proposals}))
    return out


def runs_for(system: str, docs: Sequence[GoldDocument], proposals: Sequence[tuple[list[CodeProposal], set]]) -> list[DocumentRun]:
    """Per document: all ranked codes by score (ranking metrics) and the proposed ones (P/R/F1)."""
    return [
        DocumentRun(
            d.gold[system],
            tuple((p.code, p.score) for p in ranked if p.system == system),
            tuple(code for s, code in shown if s == system),
        )
        for d, (ranked, shown) in zip(docs, proposals)
    ]


def _errors(system: str, runs: Sequence[DocumentRun], threshold: float) -> dict[str, list[tuple[str, int]]]:
    """Most frequent missed gold codes and false-positive proposals at the threshold (full code)."""
    from mrt_eval.coding.metrics import level_key

    missed: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    for run in runs:
        kept = {level_key(system, c, run.gold, "full") for c in run.kept(threshold)}
        missed.update(g for g in run.gold if g not in kept)
        wrong.update(k for k in kept if k not in run.gold)
    return {"missed": missed.most_common(TOP_ERRORS), "false_positive": wrong.most_common(TOP_ERRORS)}


def score_runs(system_runs: dict[str, list[DocumentRun]], threshold: float) -> dict:
    out = {}
    for system, runs in system_runs.items():
        bins = reliability(system, runs, RELIABILITY_EDGES)
        out[system] = {
            **{level: score_level(system, runs, level, threshold).to_dict() for level in LEVELS},
            "reliability": [b.to_dict() for b in bins],
            "ece": expected_calibration_error(bins),
            "threshold_sweep": [
                {
                    "threshold": t,
                    **{
                        k: v
                        for k, v in score_level(system, runs, "full", t, use_shown=False).to_dict().items()
                        if k in ("proposed", "precision", "recall", "f1")
                    },
                }
                for t in SWEEP
            ],
            "errors": _errors(system, runs, threshold),
        }
    return out


def evaluate(
    split: str = "dev",
    limit: int | None = None,
    settings: Settings | None = None,
    setting: str = "inpatient",
    threshold: float | None = None,
) -> dict:
    """The evaluation report for ``split`` (see the module doc)."""
    from pipeline.code.coder import MODEL_VERSION, coder_for

    settings = settings or get_settings()
    if threshold is None:
        threshold = settings.proposal_threshold if coder_for(settings).reranker is not None else settings.min_code_score
    docs = load_split(split, limit)
    proposals = code_documents(docs, settings, setting)
    system_runs = {system: runs_for(system, docs, proposals) for system in SYSTEMS}
    return {
        "split": split,
        "documents": len(docs),
        "setting": setting,
        "threshold": threshold,
        "model_version": MODEL_VERSION,
        "results": score_runs(system_runs, threshold),
    }


def evaluate_dictation(
    split: str = "dev",
    limit: int | None = None,
    settings: Settings | None = None,
    threshold: float | None = None,
) -> dict:
    """The report on the dictation coding set (:mod:`mrt_eval.coding.dictation`): each note coded in the
    care setting its gold record gives; CM scored on every note, PCS on the operative notes (the only
    notes whose procedures were coded by hand); also F1 and MAP per note type (CM, full code)."""
    from mrt_eval.coding.dictation import NoteType
    from mrt_eval.coding.dictation import load_split as load_dictation
    from pipeline.code.coder import MODEL_VERSION, coder_for

    settings = settings or get_settings()
    if threshold is None:
        threshold = settings.proposal_threshold if coder_for(settings).reranker is not None else settings.min_code_score
    pairs = load_dictation(split, limit)
    notes, docs = [n for n, _ in pairs], [d for _, d in pairs]
    proposals = code_documents(docs, settings, [n.setting for n in notes])
    cm_runs = runs_for(CM, docs, proposals)
    operative = [i for i, n in enumerate(notes) if n.note_type is NoteType.OPERATIVE_NOTE]
    pcs_runs = runs_for(PCS, [docs[i] for i in operative], [proposals[i] for i in operative])
    by_type = {}
    for t in NoteType:
        idx = [i for i, n in enumerate(notes) if n.note_type is t]
        if idx:
            s = score_level(CM, [cm_runs[i] for i in idx], "full", threshold).to_dict()
            by_type[t.value] = {
                "documents": len(idx),
                "setting": notes[idx[0]].setting,
                **{k: s[k] for k in ("gold", "proposed", "precision", "recall", "f1", "map")},
            }
    return {
        "dataset": "dictation",
        "split": split,
        "documents": len(docs),
        "setting": "per note (gold file)",
        "threshold": threshold,
        "model_version": MODEL_VERSION,
        "results": score_runs({CM: cm_runs, PCS: pcs_runs}, threshold),
        "by_note_type": by_type,
    }
