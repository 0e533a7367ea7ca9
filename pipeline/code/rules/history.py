"""Family-history (Z80-Z84) and personal-history (Z85-Z87) codes for a coded condition.

The tabular itself says which conditions each history code covers ("Conditions classifiable
to C15-C26" under Z80.0); those notes, inherited from parent codes, map a condition code to
its history code. Where no note covers it, the closest history description by words decides.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import simple_icd_10_cm as cm

from pipeline.extract.types import DIAGNOSIS_SECTIONS, Entity

FAMILY = ("Z80", "Z81", "Z82", "Z83", "Z84")
PERSONAL = ("Z85", "Z86", "Z87")
MALIGNANCY = "Z85"  # personal history of malignant neoplasm (Guidelines I.C.2.d)
# the words that name a malignancy ("retroperitoneal bleed" matched to C48.0 names none)
MALIGNANCY_WORDS = re.compile(
    r"cancer|carcinoma|malignan|sarcoma|lymphoma|leukemia|leukaemia|melanoma|myeloma|mesothelioma|blastoma|seminoma|"
    r"\btumou?r|neoplasm",
    re.I,
)
_RANGE = re.compile(r"([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?)(?:-([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?))?")


@dataclass(frozen=True)
class HistoryCode:
    code: str
    description: str
    ranges: tuple[tuple[str, str], ...]  # inclusive (low, high) code prefixes covered

    def covers(self, code: str) -> int | None:
        """Width rank of the narrowest range covering ``code`` (smaller is more specific)."""
        best = None
        for lo, hi in self.ranges:
            if lo <= code[: len(lo)] and code[: len(hi)] <= hi:
                width = _width(lo, hi) if lo != hi else 0
                best = width if best is None else min(best, width)
        return best


def _width(lo: str, hi: str) -> int:
    def num(c: str) -> int:
        return (ord(c[0]) - 65) * 1000 + int(re.sub(r"\D", "0", c[1:3]))

    return num(hi) - num(lo) + 1


def _ranges(code: str) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    chain = [code] + list(cm.get_ancestors(code))
    for c in chain:
        if not re.match(r"^Z\d", c):
            continue
        for term in cm.get_inclusion_term(c):
            if "classifiable to" not in term:
                continue
            for lo, hi in _RANGE.findall(term.split("classifiable to", 1)[1].replace(".-", "")):
                out.append((lo, hi or lo))
        if out:
            break  # the nearest code that states its coverage wins
    return tuple(out)


@lru_cache(maxsize=2)
def history_codes(kind: str) -> tuple[HistoryCode, ...]:
    prefixes = FAMILY if kind == "family" else PERSONAL
    codes = []
    for pre in prefixes:
        for c in cm.get_descendants(pre):
            if cm.is_leaf(c):
                codes.append(HistoryCode(c, cm.get_description(c), _ranges(c)))
    return tuple(codes)


# Lifelong or persisting conditions: "history of" these still describes a current condition (coded
# as such; Guidelines I.C.21.c.4 keeps the personal-history codes for conditions that no longer exist).
# Undotted code prefixes, by chapter.
CHRONIC_PREFIXES = (
    "B18",
    "B20",  # chronic viral hepatitis, HIV
    "D56",
    "D57",
    "D58",
    "D66",
    "D67",
    "D86",  # hereditary anemias, hemophilia, sarcoidosis
    "E03",
    "E06",
    "E08",
    "E09",
    "E10",
    "E11",
    "E13",
    "E20",
    "E22",
    "E23",
    "E27",
    "E66",
    "E78",
    "E79",
    "E84",
    "F01",
    "F02",
    "F03",
    "F20",
    "F25",
    "F31",
    "F32",
    "F33",
    "F41",
    "F7",
    "F84",  # dementia, psychoses, ID, autism
    "G10",
    "G12",
    "G20",
    "G30",
    "G35",
    "G40",
    "G43",
    "G473",
    "G70",
    "G71",
    "G80",
    "H353",
    "H40",
    "H54",
    "H90",
    "H91",  # macular degeneration, glaucoma, blindness, hearing loss
    "I05",
    "I06",
    "I07",
    "I08",
    "I09",
    "I10",
    "I11",
    "I12",
    "I13",
    "I15",
    "I25",
    "I27",
    "I34",
    "I35",
    "I36",
    "I37",
    "I38",
    "I42",
    "I48",
    "I50",
    "I70",
    "I739",
    "I83",
    "I872",
    "J43",
    "J44",
    "J45",
    "J47",
    "J84",
    "J961",  # emphysema, COPD, asthma, bronchiectasis, ILD, chronic resp. failure
    "K21",
    "K44",
    "K50",
    "K51",
    "K57",
    "K58",
    "K70",
    "K74",
    "K760",
    "K861",
    "K900",
    "L40",
    "M05",
    "M06",
    "M08",
    "M10",
    "M15",
    "M16",
    "M17",
    "M18",
    "M19",
    "M32",
    "M34",
    "M350",
    "M41",
    "M45",
    "M47",
    "M48",
    "M797",
    "M81",
    "N18",
    "N40",  # chronic kidney disease, prostatic hyperplasia
)
# "history of chronic glaucoma", "a history of chronic alcoholism": the physician calls it chronic
_CHRONIC_WORDS = re.compile(r"\bchronic(?:ally)?\b", re.I)
_GENERIC = {
    "family",
    "personal",
    "history",
    "other",
    "unspecified",
    "diseases",
    "disease",
    "conditions",
    "system",
    "with",
    "without",
}


# Where the classification has a dedicated "old"/"history" code outside Z85-Z87.
# (Keyed by category, or by a code where one code of its category has its own: a colon polyp is
# History, personal, disease or disorder, digestive system, colonic polyp, Z86.0100.)
PERSONAL_OVERRIDES = {"I21": "I25.2", "I22": "I25.2", "I63": "Z86.73", "I64": "Z86.73", "K63.5": "Z86.0100"}


def acute_only(condition_code: str) -> bool:
    """A condition whose past has its own code (old myocardial infarction I25.2, history of stroke
    Z86.73): its acute code never stands for a history of it, not even as an alternative."""
    return condition_code.replace(".", "")[:3] in PERSONAL_OVERRIDES


def is_chronic(condition_code: str, mention: str = "") -> bool:
    """A condition a "history of" leaves current: lifelong by its code, or called chronic."""
    return condition_code.replace(".", "").startswith(CHRONIC_PREFIXES) or bool(_CHRONIC_WORDS.search(mention))


def history_code_for(condition_code: str, condition_text: str, kind: str) -> HistoryCode | None:
    """The family/personal history code for a condition, or None when nothing fits."""
    dotted = condition_code if "." in condition_code or len(condition_code) <= 3 else cm.add_dot(condition_code)
    words = _stems(condition_text + " " + (cm.get_description(dotted) if cm.is_valid_item(dotted) else ""))
    if kind == "personal" and (override := PERSONAL_OVERRIDES.get(dotted[:5]) or PERSONAL_OVERRIDES.get(dotted[:3])):
        return HistoryCode(override, cm.get_description(override), ())
    candidates = history_codes(kind)
    covering = [(w, h) for h in candidates if (w := h.covers(dotted)) is not None]
    if covering:
        narrowest = min(w for w, _ in covering)
        tied = [h for w, h in covering if w == narrowest]
        # among codes that share one inherited note, the one whose words match; else the "other" code of
        # the note's own level ("pericarditis": Z86.79 other diseases of the circulatory system, not
        # Z86.718 other venous thrombosis, a residual one level down)
        # one inherited note of as many ranges as codes gives each range its code, in order (Z85.83-,
        # "C40-C41, C45-C49": bone Z85.830, then soft tissue Z85.831, where mesothelioma C45 belongs)
        if by_range := _code_of_its_range(tied, dotted):
            return by_range
        return max(tied, key=lambda h: (len(words & _stems(h.description)), " other " in h.description.lower(), -len(h.code)))
    scored = [(len(words & _stems(h.description)), h) for h in candidates]
    overlap, best = max(scored, key=lambda x: x[0], default=(0, None))
    return best if overlap >= 1 else None


def _code_of_its_range(tied: list[HistoryCode], code: str) -> HistoryCode | None:
    """Of malignancy history codes sharing one note whose ranges are as many as they are, the one in the
    place of the range that covers ``code``; None where the note does not split so (the other
    chapters' notes list ranges that are not their codes')."""
    ranges = tied[0].ranges
    if len(tied) < 2 or len(ranges) != len(tied) or any(h.ranges != ranges or not h.code.startswith(MALIGNANCY) for h in tied):
        return None
    for place, (lo, hi) in enumerate(ranges):
        if lo <= code[: len(lo)] and code[: len(hi)] <= hi:
            return sorted(tied, key=lambda h: h.code)[place]
    return None


def covers_malignancy(history_code: str, condition_code: str) -> bool:
    """Whether the personal-history code ``history_code`` (Z85) is the one for a malignancy coded
    ``condition_code``: Z85.3 for C50.911 (its Tabular note: conditions classifiable to C50)."""
    if not history_code.startswith(MALIGNANCY) or not condition_code.startswith("C"):
        return False
    h = history_code_for(condition_code, "", "personal")
    return h is not None and h.code == history_code


def _stems(text: str) -> set[str]:
    """Word stems to compare a condition with a history code's title: "colon polyp" and "colonic polyps" share both."""
    return {w[:5] for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 3 and w not in _GENERIC}


def told_as_history(mentions: Sequence[Entity], cands: Sequence[Sequence], min_score: float) -> dict[int, str]:
    """The mentions (by ``id``) the note's own diagnoses give as history: where a diagnosis heading lists
    "History of pulmonary embolism" and nothing there states it current, the narrative's unflagged
    "her course was complicated by pulmonary embolus" tells that past episode, not a new one. Matched
    by the category of each mention's best candidate (``cands``, one list per mention); a lifelong
    condition's history is current anyway (not read here). Each maps to the words of the diagnosis
    that says so."""
    told: dict[str, str] = {}
    current: set[str] = set()
    for e, cs in zip(mentions, cands):
        if e.family or e.section not in DIAGNOSIS_SECTIONS or not cs or cs[0].score < min_score:
            continue
        category = cs[0].code[:3]
        if e.historical and not is_chronic(cs[0].code, e.text):
            told.setdefault(category, e.text)
        elif not e.historical:
            current.add(category)
    return {
        id(e): told[cs[0].code[:3]]
        for e, cs in zip(mentions, cands)
        if cs
        and cs[0].code[:3] in told
        and cs[0].code[:3] not in current
        and not (e.historical or e.family or e.section in DIAGNOSIS_SECTIONS)
    }


# "history of sleep apnea with reversal after 100-pound weight loss", "history of asthma, resolved": gone
_RESOLVED_AFTER = re.compile(r"^[^.;]{0,40}?\b(?:resolved|resolution|reversal|reversed|cured|outgrew|outgrown|no longer)\b", re.I)


def resolved_after(words: str) -> bool:
    """Whether the words right after a condition told as history say it is gone (then even a lifelong
    condition is its personal-history code, Guidelines I.C.21.c.4)."""
    return bool(_RESOLVED_AFTER.match(words))
