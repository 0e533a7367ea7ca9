"""Propose ICD-10-CM and ICD-10-PCS codes from extracted entities.

For each mention: look it up in the code-set candidate index (TF-IDF over tabular
descriptions, inclusion terms and Index paths), then apply the guideline logic a coder
applies before writing a code down:

* negated or hypothetical findings are not coded;
* uncertain diagnoses ("probable", "rule out") are not coded in the outpatient setting
  (Guidelines IV.H) and are coded as if established for inpatients (II.H, III.C);
* a family-history finding becomes its Z80-Z84 code, never the disease itself;
* "history of" a resolved condition becomes its personal-history code (Z85-Z87, I25.2 ...),
  a lifelong condition stays coded as current.

Then, per mention, :mod:`pipeline.code.alternates` keeps one code unless a coder has a real
choice (type words agree, no Excludes1 pair from one mention) and :mod:`pipeline.code.specificity`
matches laterality, episode of care and CKD stage to the text (noting what is missing); per
document, :mod:`pipeline.code.combinations` applies the combination codes the classification
requires (diabetes "with", hypertension with heart / kidney disease).

Proposals for the same code merge their evidence; ranked by score. Each carries the messages of
the coding edits (``pipeline/code/edits.py``) that name its code, e.g. an Excludes1 pair among
the alternatives or a manifestation code proposed without its etiology.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from functools import lru_cache

from pipeline.code import specificity
from pipeline.code.alternates import select
from pipeline.code.combinations import combine
from pipeline.code.edits import with_edits
from pipeline.code.history import history_code_for, is_chronic
from pipeline.code.types import CM, PCS, CodeProposal, Evidence, SkippedFinding
from pipeline.extract.types import Entity
from pipeline.settings import Settings, get_settings

CM_LABELS = ("PROBLEM", "SYMPTOM")
PCS_LABELS = ("PROCEDURE",)
MODEL_VERSION = "terminology-tfidf-0.2"
PCS_MIN_SCORE = 0.6  # PCS titles share many words across body parts; weak matches mislead
_lock = threading.Lock()


@dataclass
class CodingResult:
    proposals: list[CodeProposal]
    skipped: list[SkippedFinding] = field(default_factory=list)


@lru_cache(maxsize=2)
def _index(system: str, cache_dir: str):
    from pathlib import Path

    from pipeline.code.candidates import CodeIndex

    return CodeIndex.load_or_build(system, Path(cache_dir))


def get_index(system: str, settings: Settings | None = None):
    settings = settings or get_settings()
    with _lock:
        return _index(system, str(settings.cache_dir / "code-index"))


def _evidence(e: Entity) -> Evidence:
    return Evidence(e.start, e.end, e.text, e.audio_start, e.audio_end)


def _skip_reason(e: Entity, setting: str) -> str | None:
    if e.negated:
        return "negated: documented as absent, not coded"
    if e.hypothetical:
        return "hypothetical: a possible future condition, not coded"
    if e.uncertain and not e.family and setting == "outpatient":
        return "uncertain diagnosis in the outpatient setting: not coded (Guidelines IV.H); code the symptoms instead"
    return None


def propose_codes(
    entities: list[Entity], settings: Settings | None = None, setting: str | None = None, text: str | None = None
) -> CodingResult:
    """Ranked code proposals (best first) for one document's entities. ``text``, the document the
    entities come from, lets the coder read details stated next to a mention (CKD stage, episode
    of care); without it only the mention's own words count."""
    settings = settings or get_settings()
    setting = setting or settings.care_setting
    k = settings.max_codes_per_entity
    found: dict[tuple[str, str], dict] = {}
    skipped: list[SkippedFinding] = []

    def add(system: str, code: str, description: str, score: float, e: Entity, why: str) -> None:
        slot = found.setdefault(
            (system, code),
            {"description": description, "score": 0.0, "evidence": [], "why": why, "first": e.start},
        )
        if score > slot["score"]:
            slot["score"], slot["why"] = score, why
        if all(ev.start != e.start for ev in slot["evidence"]):
            slot["evidence"].append(_evidence(e))

    cm_mentions = [e for e in entities if e.label in CM_LABELS]
    pcs_mentions = [e for e in entities if e.label in PCS_LABELS]
    for e in cm_mentions + pcs_mentions:
        if reason := _skip_reason(e, setting):
            skipped.append(SkippedFinding(e.text, e.start, e.end, reason))
    cm_live = [e for e in cm_mentions if not _skip_reason(e, setting)]
    pcs_live = [e for e in pcs_mentions if not _skip_reason(e, setting) and not e.family]

    if cm_live:
        cands = get_index(CM, settings).candidates([specificity.index_query(e.query_text) for e in cm_live], k=max(k, 5))
        for e, cs in zip(cm_live, cands):
            cs = _episode_of_care(cs)
            cs = [c for c in cs if c.score >= settings.min_code_score]
            if not cs:
                skipped.append(SkippedFinding(e.text, e.start, e.end, "no ICD-10-CM code matched well enough"))
                continue
            if e.family or e.historical:
                _add_history(add, skipped, e, cs[0])
                continue
            certainty = " documented as uncertain; coded as established (inpatient, Guidelines II.H)" if e.uncertain else ""
            for c, score in select(CM, e.query_text, cs, k):
                code, notes = _specific(c.code, e, text)
                why = f'"{e.text}" matches {c.code} ({c.alias}){";" + certainty if certainty else ""}'
                if code != c.code:
                    why += f"; specified as {code}"
                if notes:
                    why += "; " + "; ".join(notes)
                add(CM, code, _cm_title(code) or c.description, score, e, why)

    if pcs_live:
        cands = get_index(PCS, settings).candidates([e.query_text for e in pcs_live], k=max(k, 5))
        for e, cs in zip(pcs_live, cands):
            cs = [c for c in cs if c.score >= max(settings.min_code_score, PCS_MIN_SCORE)]
            if not cs:
                skipped.append(SkippedFinding(e.text, e.start, e.end, "no ICD-10-PCS code matched well enough"))
                continue
            for c, score in select(PCS, e.query_text, cs, k):
                add(PCS, c.code, c.description, score, e, f'"{e.text}" matches {c.code} ({c.alias})')

    proposals = [
        CodeProposal(
            system=system, code=code, description=v["description"], score=round(min(1.0, max(0.0, v["score"])), 3),
            evidence=sorted(v["evidence"], key=lambda ev: ev.start), rationale=v["why"],
        )
        for (system, code), v in found.items()
    ]
    proposals = combine(proposals)
    proposals.sort(key=lambda p: (-p.score, p.evidence[0].start if p.evidence else 0))
    return CodingResult(with_edits(proposals, setting=setting), skipped)


def _episode_of_care(cands):
    """Dictations describe active treatment unless they say otherwise: 7th-character
    "subsequent encounter" and "sequela" codes rank below the initial-encounter code."""
    def adjusted(c):
        d = c.description.lower()
        return replace(c, score=c.score * 0.7) if ("sequela" in d or "subsequent encounter" in d) else c

    return sorted((adjusted(c) for c in cands), key=lambda c: -c.score)


def _cm_title(code: str) -> str | None:
    from pipeline.code.codeset import get_codeset

    return get_codeset().cm_description(code)


def _sentence_after(e: Entity, text: str | None) -> str:
    """The mention and the rest of its sentence (at most 80 characters): where "stage 3a" or
    "initial encounter" is dictated."""
    if not text or text[e.start:e.end] != e.text:
        return e.query_text
    tail = text[e.end:e.end + 80]
    cut = min((i for i in (tail.find(". "), tail.find("\n"), tail.find(";")) if i >= 0), default=len(tail))
    return e.text + tail[:cut]


def _specific(code: str, e: Entity, text: str | None) -> tuple[str, list[str]]:
    """The code at the detail the documentation states, and notes on detail that is missing."""
    notes = []
    context = _sentence_after(e, text)
    code, note = specificity.lateral(code, e.query_text, specificity.same_phrase(context))
    notes += [note] if note else []
    if code in ("N18.9", "N18.30") and (stage := specificity.ckd_stage(context)):
        code = stage
    code, note = specificity.episode(code, context)
    notes += [note] if note else []
    return code, notes


def _add_history(add, skipped: list[SkippedFinding], e: Entity, best) -> None:
    kind = "family" if e.family else "personal"
    if kind == "personal" and is_chronic(best.code):
        add(CM, best.code, best.description, best.score * 0.9, e,
            f'"{e.text}" documented as history; a lifelong condition is coded as current ({best.code})')
        return
    h = history_code_for(best.code, e.query_text, kind)
    if h is None:
        skipped.append(SkippedFinding(e.text, e.start, e.end, f"{kind} history of {best.code}: no history code applies"))
        return
    label = "family history" if kind == "family" else "personal history"
    add(CM, h.code, h.description, best.score, e,
        f'"{e.text}" is {label} (condition {best.code}); coded to {h.code}, not to the condition itself')
