"""How far two coders agree on the dictation set, and where the product stands between them.

The dictation set's gold (:mod:`mrt_eval.coding.dictation`) is one coder's reading. A second coder
coded the dev notes again, independently, from the same written conventions (docs/dictation_set.md)
and without seeing the first reading or the product's output: ``tests/data/dictation/second_reading.jsonl``,
one line per note in the gold file's form (``note_id``, ``sha256``, ``codes`` with a rationale each).

:func:`agreement` compares the two readings (ICD-10-CM, the system the set's target is stated in):

* the second reading scored against the first as if it were a system: its P/R/F1 against the gold
  (F1 is symmetric, so it is also the first against the second). This is the ceiling a coder-level
  target should be read against: a product that agreed with the gold as often as a second coder
  does would score this F1.
* the same per note type and per group of codes (status and history Z codes, symptoms, external
  causes, the rest), since coders are known to differ most on the optional codes;
* the product's proposals (:func:`mrt_eval.coding.evaluate.code_documents`) against each reading,
  against the codes both coders assign (recall: the firm part), and against the codes either
  assigns (precision: a proposal one coder would have made).

``mrt eval agreement`` prints it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from mrt_eval.coding.dictation import GOLD_FILE, DictationNote, GoldCode, load_gold
from mrt_eval.coding.metrics import category
from pipeline.code.types import CM

SECOND_READING_FILE = GOLD_FILE.with_name("second_reading.jsonl")


@dataclass(frozen=True)
class SetScores:
    """One set of codes scored against another, micro-averaged over notes."""

    notes: int
    reference: int  # codes in the reading scored against
    compared: int  # codes in the reading (or the product) being scored
    both: int
    precision: float
    recall: float
    f1: float

    def to_dict(self) -> dict:
        return asdict(self)


def score_sets(pairs: Iterable[tuple[set[str], set[str]]]) -> SetScores:
    """(reference, compared) code sets per note -> micro P/R/F1 of ``compared`` against ``reference``."""
    notes = ref = cmp_ = both = 0
    for reference, compared in pairs:
        notes += 1
        ref += len(reference)
        cmp_ += len(compared)
        both += len(reference & compared)
    p = both / cmp_ if cmp_ else 0.0
    r = both / ref if ref else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return SetScores(notes, ref, cmp_, both, p, r, f)


def code_group(code: str) -> str:
    """The groups coders are known to differ on: status and history (Z), symptoms and findings (R),
    external causes (V-Y), and the diagnoses proper (everything else)."""
    first = code[:1]
    if first == "Z":
        return "status_and_history"
    if first == "R":
        return "symptoms_and_findings"
    if first in "VWXY":
        return "external_causes"
    return "diagnoses"


GROUPS = ("diagnoses", "status_and_history", "symptoms_and_findings", "external_causes")


def load_second_reading(path: Path | None = None) -> list[DictationNote]:
    """The second coder's reading, checked against the gold file: each note must be a gold note with
    the same text hash (a reading of another text is an error, not a silent comparison)."""
    p = path or SECOND_READING_FILE
    if not p.is_file():
        raise FileNotFoundError(f"no second reading at {p}")
    gold = {n.note_id: n for n in load_gold()}
    return _load_lines(p, gold)


def _load_lines(path: Path, gold: dict[str, DictationNote]) -> list[DictationNote]:
    """Each line's codes on its gold note's record (type, setting, split); the line must carry that note's text hash."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        g = gold.get(d["note_id"])
        if g is None or d.get("sha256") != g.sha256:
            raise ValueError(f"{path}: note {d['note_id']} is not a gold note or its text hash differs from the gold file's")
        out.append(
            replace(
                g,
                codes=tuple(GoldCode(c["code"], c["system"], c["rationale"]) for c in d["codes"]),
            )
        )
    return out


def cm_codes(note: DictationNote) -> set[str]:
    return {c.code for c in note.codes if c.system == CM}


def agreement(
    first: Sequence[DictationNote], second: Sequence[DictationNote], product: dict[str, set[str]] | None = None
) -> dict:
    """The report (see the module doc) on the notes both readings cover. ``product``: note_id -> the
    ICD-10-CM codes the product proposes for it."""
    by_id = {n.note_id: n for n in first}
    notes = sorted((n for n in second if n.note_id in by_id), key=lambda n: int(n.note_id))
    a = {n.note_id: cm_codes(by_id[n.note_id]) for n in notes}
    b = {n.note_id: cm_codes(n) for n in notes}
    ids = [n.note_id for n in notes]

    def two_readings(keep=lambda code: True) -> SetScores:
        return score_sets(({c for c in a[i] if keep(c)}, {c for c in b[i] if keep(c)}) for i in ids)

    report: dict = {
        "notes": len(ids),
        "first_codes": sum(len(a[i]) for i in ids),
        "second_codes": sum(len(b[i]) for i in ids),
        "second_vs_first": {
            "full": two_readings().to_dict(),
            "category": score_sets(({category(c) for c in a[i]}, {category(c) for c in b[i]}) for i in ids).to_dict(),
        },
        "by_note_type": {},
        "by_code_group": {g: two_readings(lambda c, g=g: code_group(c) == g).to_dict() for g in GROUPS},
    }
    types = sorted({by_id[i].note_type.value for i in ids})
    for t in types:
        members = [i for i in ids if by_id[i].note_type.value == t]
        report["by_note_type"][t] = score_sets((a[i], b[i]) for i in members).to_dict()
    if product is not None:
        report["product"] = {
            "vs_first": score_sets((a[i], product.get(i, set())) for i in ids).to_dict(),
            "vs_second": score_sets((b[i], product.get(i, set())) for i in ids).to_dict(),
            "recall_of_codes_both_assign": score_sets((a[i] & b[i], product.get(i, set())) for i in ids).recall,
            "precision_against_codes_either_assigns": score_sets((a[i] | b[i], product.get(i, set())) for i in ids).precision,
        }
    return report


def evaluate_agreement(split: str = "dev", second_path: Path | None = None, with_product: bool = True) -> dict:
    """:func:`agreement` of the gold and the second reading on ``split``'s notes, with the product's
    proposals on them (coded as ``mrt eval coding --dataset dictation`` codes them)."""
    from mrt_eval.coding.dictation import load_split
    from mrt_eval.coding.evaluate import code_documents
    from pipeline.settings import get_settings

    first = [n for n in load_gold() if n.split == split]
    second = [n for n in load_second_reading(second_path) if n.split == split]
    if not second:
        raise ValueError(f"the second reading covers no {split} note")
    product = None
    if with_product:
        covered = {n.note_id for n in second}
        pairs = [(n, d) for n, d in load_split(split) if n.note_id in covered]
        coded = code_documents([d for _, d in pairs], get_settings(), [n.setting for n, _ in pairs])
        product = {n.note_id: {c for s, c in shown if s == CM} for (n, _), (_, shown) in zip(pairs, coded)}
    return {"split": split, **agreement(first, second, product)}
