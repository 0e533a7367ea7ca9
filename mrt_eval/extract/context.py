"""Negation accuracy of ``mrt_context`` on the NegEx gold set (reports 1-60): ``mrt eval context``.

The gold file ``annotations-reports-1-60.tsv`` (NegEx test kit, Chapman et al., Apache 2.0) has one
row per concept: report number, concept, the sentence (the concept written in capitals inside it)
and ``Affirmed``/``Negated``. Each sentence runs through blank ``en`` + sentencizer + a component
that marks the gold concept as the only entity + ``mrt_sections`` + ``mrt_context``; the
``negated`` flag is compared with the gold label. Whitespace runs (line-wrap padding in the
reports) are collapsed to one space first, as a transcript would have them. The file has no
temporality/experiencer columns; if a file with them is given (genConText kit layout), those are
scored too. The NegEx kit has no train/test split: reports 1-60 are the dev set the rules were
tuned on (``--split dev``).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

import pipeline.extract.context  # noqa: F401  (registers mrt_context)
import pipeline.extract.sections  # noqa: F401  (registers mrt_sections)

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "negex"
GOLD_FILE = "annotations-reports-1-60.tsv"
_WS = re.compile(r"\s+")


@dataclass
class GoldRow:
    """One annotated concept."""

    report: str
    concept: str
    sentence: str
    negated: bool
    historical: bool | None = None
    experiencer_other: bool | None = None


def load_gold(path: Path) -> list[GoldRow]:
    """Read the gold TSV (header row; quoted fields allowed)."""
    rows: list[GoldRow] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        header = [h.strip().lower() for h in next(reader)]
        for rec in reader:
            if len(rec) < 4:
                continue
            item = dict(zip(header, rec))
            hist = item.get("temporality") or item.get("historical")
            exp = item.get("experiencer")
            rows.append(
                GoldRow(
                    report=rec[0].strip(),
                    concept=_WS.sub(" ", rec[1]).strip(),
                    sentence=_WS.sub(" ", rec[2]).strip(),
                    negated=rec[3].strip().lower() == "negated",
                    historical=None if not hist else hist.strip().lower() in ("historical", "history"),
                    experiencer_other=None if not exp else exp.strip().lower() != "patient",
                )
            )
    return rows


def find_concept(text: str, concept: str) -> tuple[int, int] | None:
    """Character span of the concept: the occurrence written in capitals, else the first one."""
    pattern = re.compile(r"\s+".join(re.escape(w) for w in concept.split()), re.IGNORECASE)
    first: tuple[int, int] | None = None
    for m in pattern.finditer(text):
        if first is None:
            first = m.span()
        if m.group(0) == m.group(0).upper():
            return m.span()
    return first


@Language.component("negex_gold_concept")
def gold_concept(doc: Doc) -> Doc:
    """Mark ``doc.user_data['gold_concept']`` (a char span) as the doc's only entity."""
    span_chars = doc.user_data.get("gold_concept")
    if span_chars:
        span = doc.char_span(span_chars[0], span_chars[1], label="CONCEPT", alignment_mode="expand")
        doc.ents = [span] if span is not None else []
    return doc


def build_pipeline() -> Language:
    """blank en + sentencizer + gold concept marker + mrt_sections + mrt_context."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("negex_gold_concept")
    nlp.add_pipe("mrt_sections")
    nlp.add_pipe("mrt_context")
    return nlp


def _binary(pairs: list[tuple[bool, bool]]) -> dict[str, float]:
    tp = sum(1 for g, p in pairs if g and p)
    tn = sum(1 for g, p in pairs if not g and not p)
    fp = sum(1 for g, p in pairs if not g and p)
    fn = sum(1 for g, p in pairs if g and not p)
    n = len(pairs) or 1
    return {
        "n": len(pairs),
        "tp": tp,
        "tn": tn,
        "fp": fp,
        "fn": fn,
        "accuracy": (tp + tn) / n,
        "ppv": tp / (tp + fp) if tp + fp else 0.0,
        "sensitivity": tp / (tp + fn) if tp + fn else 0.0,
        "specificity": tn / (tn + fp) if tn + fp else 0.0,
    }


def evaluate(rows: list[GoldRow], nlp: Language | None = None) -> dict[str, object]:
    """Run the pipeline on every row; return metrics per feature and the list of errors."""
    nlp = nlp or build_pipeline()
    neg: list[tuple[bool, bool]] = []
    hist: list[tuple[bool, bool]] = []
    exp: list[tuple[bool, bool]] = []
    errors: list[dict[str, object]] = []
    missing = 0
    for row in rows:
        doc = nlp.make_doc(row.sentence)
        doc.user_data["gold_concept"] = find_concept(row.sentence, row.concept)
        doc = nlp(doc)
        ents: tuple[Span, ...] = doc.ents
        if not ents:
            missing += 1
            pred_neg, pred_hist, pred_fam, cues = False, False, False, []
        else:
            e = ents[0]
            pred_neg, pred_hist, pred_fam, cues = e._.negated, e._.historical, e._.family, e._.context_cues
        neg.append((row.negated, pred_neg))
        if row.historical is not None:
            hist.append((row.historical, pred_hist))
        if row.experiencer_other is not None:
            exp.append((row.experiencer_other, pred_fam))
        if row.negated != pred_neg:
            errors.append(
                {"report": row.report, "concept": row.concept, "gold": row.negated, "cues": cues, "sentence": row.sentence}
            )
    out: dict[str, object] = {"negation": _binary(neg), "errors": errors, "concept_not_found": missing}
    if hist:
        out["historical"] = _binary(hist)
    if exp:
        out["experiencer"] = _binary(exp)
    return out
