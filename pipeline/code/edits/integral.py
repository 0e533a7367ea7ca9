"""Symptoms integral to a coded diagnosis are not coded separately (Official Guidelines I.B.4-5).

The table (``data/integral_symptoms.tsv``, curated, with its source) lists symptom code prefixes and
the diagnosis code prefixes they are routinely part of: cough with acute bronchitis, chest pain with
angina or infarction, fever with pneumonia. :func:`integral_to` names the proposed diagnosis a
symptom code is integral to; the coder then keeps that symptom as an alternative, saying why.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).resolve().parents[1] / "data" / "integral_symptoms.tsv"
GUIDELINE = "signs and symptoms routinely associated with a disease are not coded separately (Guidelines I.B.5)"


@lru_cache(maxsize=1)
def table() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(symptom prefix, symptom, diagnosis prefixes) rows."""
    rows = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            prefix, name, diagnoses = line.split("\t")
            rows.append((prefix, name, tuple(diagnoses.split())))
    return tuple(rows)


def integral_to(symptom_code: str, diagnosis_codes: Iterable[str]) -> str | None:
    """The first of ``diagnosis_codes`` that ``symptom_code`` is integral to, else None."""
    rows = [r for r in table() if symptom_code.startswith(r[0])]
    if not rows:
        return None
    for code in diagnosis_codes:
        if any(code.startswith(p) for _, _, prefixes in rows for p in prefixes):
            return code
    return None
