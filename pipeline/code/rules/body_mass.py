"""Body mass index beside the weight diagnosis it supports (Guidelines I.B.14, I.C.21.c.3).

A Z68 code reports the BMI the record gives, and only with an associated reportable diagnosis: obesity,
overweight, underweight or malnutrition. "Morbid obesity with BMI of 39.4" is E66.01 and Z68.39. An
adult's (20 or older) BMI is coded by its value (Z68.1 for 19.9 or less, Z68.20-Z68.39 by whole unit,
Z68.41-Z68.45 by band); a child's (2-19) only by the percentile the note gives (Z68.51-Z68.54), never
from a bare value. A bound ("BMI greater than 40") states no value and is not coded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# the diagnoses a BMI is reported with: obesity and overweight (E66), malnutrition (E40-E46, E64.0),
# underweight (R63.6), cachexia (R64)
WEIGHT_DIAGNOSES = ("E66", "E40", "E41", "E42", "E43", "E44", "E45", "E46", "E64.0", "R63.6", "R64")
ADULT_AGE = 20
_BMI = re.compile(
    r"\b(?:BMI|body\s+mass\s+index)\b(?:\s*\(BMI\))?\s*(?:of|is|was|:|=|at|measured\s+at|calculated\s+at)?\s*"
    r"(?P<bound>greater\s+than|more\s+than|less\s+than|over|under|above|below|>|<|≥|≤)?\s*"
    r"(?P<value>\d{2}(?:\.\d+)?)(?!\s*(?:%|th\b|st\b|nd\b|rd\b))"
    r"|\b(?:BMI|body\s+mass\s+index)\b[^.\n\d]{0,30}?(?P<percentile>\d{1,2}(?:\.\d+)?)\s*(?:st|nd|rd|th)?\s*percentile",
    re.I,
)
_AGE = re.compile(r"\b(\d{1,3})[- ](?:year|yr)s?[- ]old\b|\bage(?:d)?\s*:?\s*(\d{1,3})\b", re.I)


@dataclass(frozen=True)
class BodyMassIndex:
    code: str
    start: int  # the BMI's words in the note (the evidence)
    end: int
    why: str


def adult_code(bmi: float) -> str:
    """The Z68 code of an adult's BMI value."""
    if bmi < 20:
        return "Z68.1"
    if bmi < 40:
        return f"Z68.{int(bmi)}"
    for upper, code in ((45, "Z68.41"), (50, "Z68.42"), (60, "Z68.43"), (70, "Z68.44")):
        if bmi < upper:
            return code
    return "Z68.45"


def pediatric_code(percentile: float) -> str:
    """The Z68 code of a child's BMI percentile for age (a percentile states no share of the 95th, so
    95th and above is Z68.54)."""
    if percentile < 5:
        return "Z68.51"
    if percentile < 85:
        return "Z68.52"
    if percentile < 95:
        return "Z68.53"
    return "Z68.54"


def patient_age(text: str) -> int | None:
    """The patient's age in years as the note first states it ("a 33-year-old female", "Age: 45")."""
    m = _AGE.search(text)
    return int(m.group(1) or m.group(2)) if m else None


def body_mass_index(text: str | None, codes: Sequence[str]) -> BodyMassIndex | None:
    """The Z68 code of the first BMI the note states, when the record has a weight diagnosis."""
    if not text or not any(c.startswith(WEIGHT_DIAGNOSES) for c in codes):
        return None
    age = patient_age(text)
    for m in _BMI.finditer(text):
        if m.group("percentile") is not None:
            if age is None or age >= ADULT_AGE:
                continue
            code = pediatric_code(float(m.group("percentile")))
            return BodyMassIndex(code, m.start(), m.end(), f'"{m.group(0)}": a child\'s BMI for age, {code} (Guidelines I.B.14)')
        if m.group("bound") or (age is not None and age < ADULT_AGE):
            continue  # a bound states no value; a child's BMI is coded by percentile
        bmi = float(m.group("value"))
        if not 10 <= bmi <= 120:
            continue
        code = adult_code(bmi)
        return BodyMassIndex(
            code, m.start(), m.end(), f'"{m.group(0)}" with the weight diagnosis: BMI {bmi:g}, {code} (Guidelines I.B.14)'
        )
    return None
