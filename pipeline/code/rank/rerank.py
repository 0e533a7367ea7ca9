"""Re-rank one document's codes and give each a calibrated score, with statistics learned from
coded cases (CodiEsp train, CC BY 4.0; see :mod:`mrt_eval.coding.rerank_train`).

Candidates for a document are the codes of the guideline pass (:func:`pipeline.code.coder.first_pass`),
every mention's top index candidates, and the codes coders gave cases with the same mention:

* *mention lexicon*: for a normalized mention ("fever"), the cases in which it was found and how
  many of them carried each gold code ("fever" -> R50.9 in 61 of 88);
* *link lexicon*: for the mention's best index code (R50.9), how often each gold code was given
  (it generalizes across wordings that reach the same index entry);
* *priors*: how often each code and category was given at all;
* *similar cases*: the codes of the most similar train cases (:mod:`pipeline.code.rank.neighbours`),
  weighted by similarity; a code similar cases give often enough is a candidate even when no
  mention names it, with the sentence that names it best as evidence
  (:mod:`pipeline.code.rank.title_overlap`); a code no sentence names at all is not returned.

A gradient-boosted classifier over these features (index similarity and rank, guideline-pass score,
lexicon probabilities and counts, priors, similar cases' share, how much of the code's title and
Index names the document spells out, entity type, assertion, position) gives the probability
that a coder would assign the code; an isotonic map fitted on out-of-fold predictions on train
turns it into a calibrated score (of codes scored 0.8, about 80% were gold on train; the
reliability table of ``mrt eval coding`` checks it on dev).

Guideline outputs are kept intact: codes only the guideline pass makes (combination codes,
specificity, history codes) keep their rationale, and negated findings never reach this step.
A lexicon code that the guideline pass replaced (I10 when I12.9 was assigned, E11.9 when E11.22
was) is not brought back.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.code.lookup.candidates import CodeIndex
from pipeline.code.rank import title_overlap
from pipeline.code.rank.neighbours import K as K_NEIGHBOURS
from pipeline.code.rules.combinations import HEART_INCLUDED
from pipeline.code.rules.note_text import section_at, under_body_system_heading
from pipeline.code.types import CM, PCS, CodeProposal, Evidence, Reason, ReasonKind

if TYPE_CHECKING:
    from pipeline.code.rank.doc_model import DocModel
    from pipeline.code.rank.neighbours import Neighbours

log = logging.getLogger(__name__)

MODEL_PATH = Path(__file__).resolve().parents[1] / "data" / "rerank.joblib"
MODEL_FORMAT = 5
LEX_MIN_COUNT = 2  # a lexicon code must have been given at least this often with the mention
LEX_MIN_P = 0.1  # ... in at least this fraction of the cases with the mention
LEX_MIN_LIFT = 2.0  # ... and this many times more often than in cases at large
FEATURES = (
    "rule_score",
    "in_rule",
    "max_sim",
    "best_rank",
    "n_sim",
    "lex_p",
    "lex_n",
    "lex_docs",
    "link_p",
    "link_n",
    "prior",
    "cat_prior",
    "symptom_chapter",
    "problem",
    "symptom",
    "procedure",
    "test",
    "uncertain",
    "historical",
    "first_pos",
    "n_evidence",
    "lift",
    "n_mentions",
    "doc_p",
    "doc_only",
    "rule_sibling",
    "cat_candidates",
    "best_in_cat",
    "knn_p",
    "knn_n",
    "knn_cat_p",
    "knn_top_sim",
    "overlap",
    "knn_only",
    "sentence_overlap",
    "title_words",
    "chapter",
    "block",
    "alias_overlap",
    "alias_sentence_overlap",
    "word_match",
)
KNN_CANDIDATE_P = 0.05  # a code similar cases give with at least this share of their weight becomes a candidate


def gold_form(code: str, key: str) -> str:
    """``key`` (undotted) written like ``code``: dotted for CM codes."""
    return f"{key[:3]}.{key[3:]}" if "." in code and len(key) > 3 else key


def mention_key(text: str) -> str:
    """A mention as the lexicon stores it: lower case, letters and digits, single spaces."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


@dataclass
class Stats:
    """Counts learned from coded documents (one system)."""

    docs: int = 0
    code_docs: dict[str, int] = field(default_factory=dict)  # code -> documents coded with it
    cat_docs: dict[str, int] = field(default_factory=dict)
    lex: dict[str, tuple[int, dict[str, int]]] = field(default_factory=dict)  # mention key -> (docs, {code: docs})
    link: dict[str, tuple[int, dict[str, int]]] = field(default_factory=dict)  # index code -> (docs, {code: docs})
    doc_model: DocModel | None = None
    neighbours: Neighbours | None = None

    def prior(self, code: str) -> float:
        """Share of cases coded with ``code`` or with a shorter code it refines (a 2018 code FY2026
        split, R51 -> R51.9; a PCS code given to 4 characters, BW20 -> BW20ZZZ)."""
        key = code.replace(".", "")
        k = max((self.code_docs.get(gold_form(code, key[:i]), 0) for i in range(3, len(key) + 1)), default=0)
        return (k + 0.5) / max(self.docs, 1)

    def useful(self, k: int, n: int, code: str) -> bool:
        """A code given ``k`` times in ``n`` cases with a mention says something about the mention."""
        return k >= LEX_MIN_COUNT and k / n >= LEX_MIN_P and k / n >= LEX_MIN_LIFT * self.prior(code)

    def pruned(self) -> Stats:
        """Only the lexicon entries :meth:`useful` keeps (what ships)."""

        def prune(table):
            out = {}
            for key, (n, codes) in table.items():
                kept = {c: k for c, k in codes.items() if self.useful(k, n, c)}
                if kept:
                    out[key] = (n, kept)
            return out

        return Stats(
            self.docs,
            dict(self.code_docs),
            dict(self.cat_docs),
            prune(self.lex),
            prune(self.link),
            self.doc_model,
            self.neighbours,
        )


@dataclass
class Exclusions:
    """What the guideline pass rules out for the re-ranker: codes it replaced by more specific or
    combination codes, and categories of findings not coded (negated, hypothetical, uncertain in
    the outpatient setting, family history)."""

    codes: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)
    specified: set[str] = field(default_factory=set)  # codes specificity rules chose (stage, side, episode)

    def allows(self, code: str) -> bool:
        """Not replaced, not of a category ruled out, and not a sibling of a code specificity chose."""
        cat = code.replace(".", "")[:3]
        return (
            code not in self.codes
            and cat not in self.categories
            and not any(s.replace(".", "")[:3] == cat for s in self.specified)
        )


@dataclass
class _Cand:
    code: str
    rule: CodeProposal | None = None
    max_sim: float = 0.0
    best_rank: int = 10
    n_sim: int = 0
    lex_p: float = 0.0
    lex_n: int = 0
    lex_docs: int = 0
    link_p: float = 0.0
    link_n: int = 0
    doc_p: float = 0.0
    knn_p: float = 0.0
    knn_n: int = 0
    knn_cat_p: float = 0.0
    overlap: float = 0.0
    sentence_overlap: float = 0.0
    alias_overlap: float = 0.0
    alias_sentence_overlap: float = 0.0
    knn_top: float = 0.0
    word_match: float = 0.0  # best share of a mention's words the matched alias spells out whole
    labels: set = field(default_factory=set)
    uncertain: bool = False
    historical: bool = False
    evidence: dict = field(default_factory=dict)  # start -> Evidence
    why: tuple[Reason, ...] = ()

    def support(self, e, why: Reason | None = None) -> None:
        self.labels.add(e.label)
        self.uncertain |= e.uncertain
        self.historical |= e.historical
        self.evidence.setdefault(e.start, Evidence(e.start, e.end, e.text, e.audio_start, e.audio_end))
        if why and not self.why:
            self.why = (why,)


def _prefix_code(system: str, code: str) -> str | None:
    """A gold code as a proposable FY2026 code: CM billable as is; a PCS prefix (CodiEsp codes
    imaging to 4 characters) completed to its first valid code without contrast/qualifier where there is one."""
    from pipeline.code.lookup.codeset import get_codeset

    cs = get_codeset()
    if system == CM:
        if cs.cm_is_billable(code):
            return code
        # a 2018 code FY2026 subdivided, or one CodiEsp wrote without its 7th character
        cm = cs.cm_api
        base = code if cm.is_valid_item(code) else code[:3]
        if not cm.is_valid_item(base):
            return None
        leaves = [c for c in cm.get_descendants(base) if cm.is_leaf(c) and c.startswith(code)]
        if not leaves:
            return None
        initial = [c for c in leaves if len(c) == 8 and c.endswith("A")]
        unspecified = [c for c in leaves if "unspecified" in cm.get_description(c).lower()]
        return (initial or unspecified or leaves)[0]
    if len(code) == 7:
        return code if cs.pcs_is_valid(code) else None
    codes = cs.pcs_codes_with_prefix(code)
    if not codes:
        return None
    plain = [c for c in codes if c.endswith("ZZZ")] or [c for c in codes if c.endswith("ZZ")]
    return (plain or codes)[0]


@lru_cache(maxsize=20000)
def _description(system: str, code: str) -> str:
    from pipeline.code.lookup.codeset import get_codeset

    cs = get_codeset()
    return (cs.cm_description(code) if system == CM else cs.pcs_description(code)) or ""


@lru_cache(maxsize=20000)
def _proposable(system: str, code: str) -> str | None:
    return _prefix_code(system, code)


def candidates(
    system: str,
    rule: Sequence[CodeProposal],
    mentions: Sequence,
    stats: Stats,
    replaced: set[str],
    text: str | None = None,
    exclusions: Exclusions | None = None,
    source: str | None = None,
    *,
    index: CodeIndex,
) -> list[_Cand]:
    """The document's candidate codes for one system with their evidence and raw statistics.
    ``text``: the document with the findings not coded blanked (:func:`masked`); ``source``: as written;
    ``index``: the system's candidate index (the names of a code the document may spell out)."""
    from pipeline.code.rules.alternates import disagrees
    from pipeline.code.rules.imaging import imaging_query, other_body_part
    from pipeline.code.rules.specificity import index_query

    out: dict[str, _Cand] = {}
    rule_codes = {p.code for p in rule}
    excluded = exclusions or Exclusions()

    def cand(code: str) -> _Cand:
        return out.setdefault(code, _Cand(code))

    def allowed(code: str, mention: str, imaged: str | None = None) -> bool:
        """Not ruled out by the guideline pass, and no type word contradicting the mention (nor, for an
        imaging study, another body part than the one ``imaged``, :func:`imaging_query`)."""
        if code in rule_codes:
            return True
        if code in replaced or not excluded.allows(code):
            return False
        if system == PCS:
            return imaged is None or not other_body_part(_description(system, code), imaged)
        return not disagrees(mention, _description(system, code))

    for p in rule:
        c = cand(p.code)
        c.rule, c.why = p, p.reasons
        for ev in p.evidence:
            c.evidence.setdefault(ev.start, ev)
    for m in mentions:
        if m.system != system:
            continue
        e = m.entity
        # what the mention states, as the Index reads it ("bladder leiomyoma" is a benign neoplasm)
        said = index_query(e.query_text) if system == CM else e.query_text
        imaged = imaging_query(e.query_text, source or text, e.start, e.end) if system == PCS else None
        for rank, c0 in enumerate(m.candidates):
            if e.family or _proposable(system, c0.code) != c0.code or not allowed(c0.code, said):
                continue  # family history: the guideline pass codes it; only billable / valid codes
            c = cand(c0.code)
            c.max_sim = max(c.max_sim, c0.score)
            c.best_rank = min(c.best_rank, rank)
            c.n_sim += 1
            c.word_match = max(c.word_match, word_match(e.query_text, c0.alias))
            c.support(e, Reason(ReasonKind.INDEX_MATCH, (c0.code,), f'"{e.text}" matches {c0.code} ({c0.alias})'))
        if e.family:
            continue
        n, codes = stats.lex.get(mention_key(e.query_text), (0, {}))
        for code, k in codes.items():
            if stats.useful(k, n, code) and (target := _proposable(system, code)) and allowed(target, said, imaged):
                c = cand(target)
                if k / (n + 1) > c.lex_p:
                    c.lex_p, c.lex_n, c.lex_docs = k / (n + 1), k, n
                c.support(
                    e,
                    Reason(
                        ReasonKind.CODED_CASES, (code,), f'"{e.text}" was coded {code} in {k} of {n} coded cases (CodiEsp train)'
                    ),
                )
        if m.candidates:
            n, codes = stats.link.get(m.candidates[0].code, (0, {}))
            for code, k in codes.items():
                if stats.useful(k, n, code) and (target := _proposable(system, code)) and allowed(target, said, imaged):
                    c = cand(target)
                    if k / (n + 1) > c.link_p:
                        c.link_p, c.link_n = k / (n + 1), k
                    c.support(
                        e,
                        Reason(
                            ReasonKind.CODED_CASES,
                            (code,),
                            f'"{e.text}" (index {m.candidates[0].code}) was coded {code} in {k} of {n} coded cases',
                        ),
                    )
    if stats.doc_model is not None and text:
        from pipeline.code.rank.doc_model import CANDIDATE_P

        dm = stats.doc_model
        probs, v = dm.probabilities(text)
        # the model's words under a body system's heading (the examination's "SKIN: ... the skin was warm") or in
        # the narrative of an operation ("the skin was closed") are no ground for a diagnosis no mention stands
        # for. (A case report's examination is: barring the examination sections too costs CodiEsp dev CM MAP
        # 0.503 -> 0.501.)
        ordered = sorted({(m.entity.start, m.entity.end): m.entity for m in mentions}.values(), key=lambda e: e.start)
        starts = [e.start for e in ordered]
        not_a_conclusion = frozenset({"procedure"} if system == CM else ())

        def concluded(pos: int) -> bool:
            return section_at(ordered, starts, pos) not in not_a_conclusion and not under_body_system_heading(source or text, pos)

        for j, (code, pj) in enumerate(zip(dm.codes, probs)):
            target = _proposable(system, code)
            if target is None or not allowed(target, ""):
                continue
            if target in out:
                out[target].doc_p = max(out[target].doc_p, float(pj))
            elif pj >= CANDIDATE_P and (
                evidence := _not_elsewhere(system, target, dm.evidence(text, v, j, usable=concluded), source or text)
            ):
                c = cand(target)
                c.doc_p = float(pj)
                for ev in evidence:
                    c.evidence.setdefault(ev.start, ev)
                words = ", ".join(f'"{ev.text}"' for ev in evidence)
                c.why = (
                    Reason(
                        ReasonKind.DOCUMENT_MODEL,
                        (code,),
                        f"document-level model (CodiEsp train): wording such as {words} goes with {code} (p={pj:.2f})",
                    ),
                )
    if stats.neighbours is not None and text:
        _add_neighbour_votes(system, out, stats.neighbours.votes(text), allowed)
    if text:
        _add_title_overlap(system, out, text, source, index)
    # a code needs its evidence in the document (similar cases alone do not make a proposal)
    return [c for c in out.values() if (c.code not in replaced and c.evidence) or c.rule is not None]


def _not_elsewhere(system: str, code: str, evidence: list[Evidence], text: str) -> list[Evidence]:
    """The model's words that do not state another body part for an imaging code: "MRI" of "MRI of
    the lumbar spine" is no evidence of B030ZZZ, the brain's (:func:`imaging.other_body_part`)."""
    if system != PCS:
        return evidence
    from pipeline.code.rules.imaging import imaging_query, other_body_part

    title = _description(system, code)
    return [ev for ev in evidence if not other_body_part(title, imaging_query(ev.text, text, ev.start, ev.end))]


def _add_neighbour_votes(system: str, out: dict[str, _Cand], votes, allowed) -> None:
    """The similar cases' codes: their share for every candidate, and new candidates from a share of
    at least :data:`KNN_CANDIDATE_P`."""
    shares: dict[str, tuple[float, int, str]] = {}
    for code, (share, n) in votes.codes.items():
        target = _proposable(system, code)
        if target is not None and share > shares.get(target, (0.0,))[0]:
            shares[target] = (share, n, code)
    for code, (share, n, given) in shares.items():
        if code not in out:
            if share < KNN_CANDIDATE_P or not allowed(code, ""):
                continue
            out[code] = _Cand(
                code,
                why=(
                    Reason(
                        ReasonKind.SIMILAR_CASES,
                        (given,),
                        f"given in {n} of the {K_NEIGHBOURS} most "
                        "similar coded cases (CodiEsp train)" + (f" as {given}" if given != code else ""),
                    ),
                ),
            )
        c = out[code]
        c.knn_p, c.knn_n = share, n
    for c in out.values():
        c.knn_cat_p = votes.categories.get(_category(c.code), 0.0)
        c.knn_top = votes.top_similarity


def _add_title_overlap(system: str, out: dict[str, _Cand], text: str, source: str | None, index: CodeIndex) -> None:
    """Every candidate's title word overlap with the document and with its best sentence (the
    evidence of a code without any; ``source``: the document before masking, for the evidence text)."""
    sents = title_overlap.sentences(text)
    words = set().union(*(s for _, _, s in sents)) if sents else set()
    for c in out.values():
        c.overlap = title_overlap.overlap(system, c.code, words)
        if not c.overlap and not any(st & words for st in title_overlap.alias_stems(index, c.code)):
            continue
        best, start, end = max((title_overlap.overlap(system, c.code, s), a, b) for a, b, s in sents)
        c.sentence_overlap = best
        c.alias_overlap, alias = title_overlap.best_alias(index, c.code, words)
        if c.alias_overlap:
            c.alias_sentence_overlap, a_start, a_end = max((len(alias & s) / len(alias), a, b) for a, b, s in sents)
            if c.alias_sentence_overlap > best:
                start, end = a_start, a_end
        if not c.evidence:  # a code from similar cases: the sentence that names it best
            sentence = (source or text)[start:end]
            start += len(sentence) - len(sentence.lstrip())
            sentence = sentence.strip()
            c.evidence[start] = Evidence(start, start + len(sentence), sentence)


def features(system: str, cands: Sequence[_Cand], stats: Stats, doc_len: int, n_mentions: int) -> np.ndarray:
    rows = []
    n = max(stats.docs, 1)
    by_cat: dict[str, list[_Cand]] = {}
    for c in cands:
        by_cat.setdefault(_category(c.code), []).append(c)
    for c in cands:
        same = by_cat[_category(c.code)]
        strength = _strength(c)
        first = min(c.evidence) if c.evidence else 0
        rows.append(
            (
                c.rule.score if c.rule else 0.0,
                1.0 if c.rule else 0.0,
                c.max_sim,
                c.best_rank,
                c.n_sim,
                c.lex_p,
                math.log1p(c.lex_n),
                math.log1p(c.lex_docs),
                c.link_p,
                math.log1p(c.link_n),
                math.log(stats.prior(c.code)),
                math.log((stats.cat_docs.get(c.code.replace(".", "")[:3], 0) + 0.5) / n),
                1.0 if c.code.startswith("R") else 0.0,
                *(1.0 if label in c.labels else 0.0 for label in ("PROBLEM", "SYMPTOM", "PROCEDURE", "TEST")),
                1.0 if c.uncertain else 0.0,
                1.0 if c.historical else 0.0,
                first / max(doc_len, 1),
                len(c.evidence),
                math.log(max(c.lex_p, c.link_p, 1e-3) / stats.prior(c.code)),
                math.log1p(n_mentions),
                c.doc_p,
                1.0 if not c.labels and c.rule is None else 0.0,
                1.0 if c.rule is None and any(o.rule is not None for o in same) else 0.0,
                len(same),
                1.0 if all(strength >= _strength(o) for o in same) else 0.0,
                c.knn_p,
                math.log1p(c.knn_n),
                c.knn_cat_p,
                c.knn_top,
                c.overlap,
                1.0 if not c.labels and c.rule is None and not c.doc_p else 0.0,
                c.sentence_overlap,
                len(title_overlap.title_stems(system, c.code)),
                ord(c.code[0]) - 65,
                int(c.code[1:3]) if c.code[1:3].isdigit() else -1,
                c.alias_overlap,
                c.alias_sentence_overlap,
                c.word_match,
            )
        )
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), len(FEATURES))


_WORDS = re.compile(r"[a-z0-9]{3,}")


def _word_forms(text: str) -> set[str]:
    return {w[:-1] if w.endswith("s") and len(w) > 4 else w for w in _WORDS.findall(text.lower())}


def word_match(mention: str, alias: str) -> float:
    """Share of the mention's words (3+ letters, a final s dropped) that the alias has as whole words:
    1.0 for "defect" -> "defect", 0.0 for "fibrosis" -> "fibrositis" (a near miss of the
    character n-grams)."""
    words = _word_forms(mention)
    return len(words & _word_forms(alias)) / len(words) if words else 0.0


def _category(code: str) -> str:
    return code.replace(".", "")[:3]


def _strength(c: _Cand) -> float:
    return max(c.lex_p, c.link_p, c.doc_p, c.max_sim, c.rule.score if c.rule else 0.0)


def replaced_codes(rule: Sequence[CodeProposal]) -> set[str]:
    """Codes the guideline pass's combination codes replace (never re-proposed from statistics)."""
    codes = {p.code for p in rule}
    out: set[str] = set()
    if codes & {"I11.0", "I11.9", "I12.0", "I12.9", "I13.0", "I13.10", "I13.11", "I13.2"}:
        out.add("I10")
    if codes & {"I11.0", "I11.9", "I13.0", "I13.10", "I13.11", "I13.2"}:
        out |= set(HEART_INCLUDED)  # heart disease the combination includes
    for cat in ("E08", "E09", "E10", "E11", "E13"):
        if any(c.startswith(cat + ".") and not c.endswith(".9") for c in codes):
            out.add(cat + ".9")
    return out


def masked(text: str | None, spans: Sequence[tuple[int, int]]) -> str | None:
    """``text`` with the characters of ``spans`` blanked (offsets unchanged)."""
    if not text or not spans:
        return text
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (min(end, len(text)) - start)
    return "".join(chars)


def not_coded_spans(entities: Sequence, skipped: Sequence) -> list[tuple[int, int]]:
    """Spans of the findings the guidelines keep out of coding: skipped ones and family history."""
    return [(s.start, s.end) for s in skipped] + [(e.start, e.end) for e in entities if e.family]


def _doc_len(mentions: Sequence, text: str | None) -> int:
    if text:
        return len(text)
    return max((m.entity.end for m in mentions), default=1)


class Reranker:
    """The shipped model: per system a classifier, an isotonic calibrator and its statistics."""

    def __init__(self, payload: dict) -> None:
        self.version = payload["version"]
        self.stats: dict[str, Stats] = payload["stats"]
        self.models = payload["models"]  # system -> pipeline.code.rank.trees.TreeEnsemble
        self.calibrators = payload["calibrators"]  # system -> pipeline.code.rank.trees.Isotonic

    def rescore(
        self,
        proposals: Sequence[CodeProposal],
        mentions: Sequence,
        text: str | None,
        not_coded: Sequence[tuple[int, int]] = (),
        exclusions: Exclusions | None = None,
        *,
        index_for: Callable[[str], CodeIndex],
    ) -> list[CodeProposal]:
        """All candidate codes with calibrated scores. ``not_coded``: spans of findings the guidelines
        keep out (negated, hypothetical, uncertain outpatient, family history); the document-level
        model does not read them. ``index_for``: a code system's candidate index."""
        out: list[CodeProposal] = []
        source, text = text, masked(text, not_coded)
        replaced = replaced_codes(proposals)
        for system in (CM, PCS):
            rule = [p for p in proposals if p.system == system]
            stats = self.stats.get(system)
            if stats is None or system not in self.models:
                out += rule
                continue
            cands = candidates(system, rule, mentions, stats, replaced, text, exclusions, source, index=index_for(system))
            if not cands:
                continue
            x = features(system, cands, stats, _doc_len(mentions, text), len(mentions))
            scores = self.score(system, x)
            for c, s in zip(cands, scores):
                out.append(to_proposal(system, c, float(s)))
        return out

    def score(self, system: str, x: np.ndarray) -> np.ndarray:
        raw = self.models[system].predict_proba(x)
        cal = self.calibrators[system].predict(raw)
        # isotonic steps tie many codes; the raw probability orders codes within a step
        return np.clip(cal + 1e-3 * raw, 0.0, 1.0)


def to_proposal(system: str, c: _Cand, score: float) -> CodeProposal:
    from pipeline.code.lookup.codeset import get_codeset

    cs = get_codeset()
    description = (
        (c.rule.description if c.rule else None)
        or (cs.cm_description(c.code) if system == CM else cs.pcs_description(c.code))
        or ""
    )
    # the guideline pass's own evidence first (the mention its code is for), then what the statistics add
    own = {ev.start for ev in c.rule.evidence} if c.rule else set()
    evidence = sorted(c.evidence.values(), key=lambda ev: (ev.start not in own, ev.start))
    why = c.why or (c.rule.reasons if c.rule else ())
    if c.lex_n and c.rule is not None and not any(r.kind in (ReasonKind.CODED_CASES, ReasonKind.SIMILAR_CASES) for r in why):
        why += (
            Reason(
                ReasonKind.CASES_WITH_MENTION,
                (c.code,),
                f"given in {c.lex_n} of {c.lex_docs} CodiEsp train cases with this mention",
            ),
        )
    base = c.rule or CodeProposal(system, c.code, description, 0.0, evidence, why)
    return replace(base, description=description, score=round(score, 4), evidence=evidence, reasons=why)


def load_reranker(path: Path = MODEL_PATH) -> Reranker | None:
    """The re-ranker saved at ``path``, or None (with a warning) when it is absent or unusable.
    The coder loads it once (:attr:`pipeline.code.coder.Coder.reranker`)."""
    import joblib

    p = Path(path)
    if not p.is_file():
        log.warning("no re-ranking model at %s: codes keep their index-match scores", p)
        return None
    try:
        payload = joblib.load(p)
    except Exception as e:  # a model pickled by another scikit-learn version
        log.warning("re-ranking model %s not loadable (%s): codes keep their index-match scores", p, e)
        return None
    if payload.get("format") != MODEL_FORMAT:
        log.warning("re-ranking model %s has format %s, expected %s: not used", p, payload.get("format"), MODEL_FORMAT)
        return None
    return Reranker(payload)
