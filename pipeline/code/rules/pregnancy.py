"""Weeks of gestation on a maternal record (Guidelines I.C.15.b.4).

Codes of category Z3A report the weeks of gestation of the pregnancy, and go on the maternal record
beside the chapter 15 code (O00-O9A) when the documentation gives them: "A 39-week intrauterine
pregnancy with complete breech presentation" is O32.1XX0 and Z3A.39. Fewer than 8 weeks is Z3A.01,
more than 42 is Z3A.49.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.extract.types import Entity

PREGNANCY_CHAPTER = "O"
# "39-week", "39 weeks gestation", "32 and 4/7 weeks", "at 38+2 weeks", "28 weeks' gestation", "36 weeks pregnant"
_WEEKS = re.compile(
    r"\b(\d{1,2})(?:\s*(?:\+|and)\s*\d/7|\s*\+\s*\d)?[- ](?:weeks?\b|wks?\b)(?:'|’)?"
    r"(?=(?:\s+(?:\d/7\s+)?(?:of\s+)?(?:gestation|gestational|pregnan|intrauterine|iup|estimated|ega|by|size|\w+\s+pregnan))"
    r"|(?:\s*(?:'s)?\s*gestation))",
    re.I,
)


# "induced for cholestasis of pregnancy at 38-1/2 weeks", "a pregnancy at 32 weeks": the weeks a pregnancy is at
_PREGNANCY_AT_WEEKS = re.compile(
    r"\bpregnan\w*\b[^.\n]{0,40}?\bat\s+(\d{1,2})(?:-\d/\d|\s*\+\s*\d|\s+and\s+\d/\d)?[- ](?:weeks?|wks?)\b", re.I
)


def _weeks_stated(text: str):
    """Each statement of the weeks of gestation, in the order of the note: (match, weeks)."""
    found = [(m, int(m.group(1))) for rx in (_WEEKS, _PREGNANCY_AT_WEEKS) for m in rx.finditer(text)]
    return sorted((f for f in found if 1 <= f[1] <= 45), key=lambda f: f[0].start())


# Guidelines I.C.15.a.3: first trimester, less than 14 weeks 0 days; second, 14 weeks 0 days to less than
# 28 weeks 0 days; third, 28 weeks 0 days until delivery
def trimester_of(weeks: int) -> str:
    return "first" if weeks < 14 else "second" if weeks < 28 else "third"


def trimester(code: str, text: str | None) -> tuple[str, str | None]:
    """A chapter 15 code of unspecified trimester at the trimester of the weeks of gestation the note
    states (its first statement), with why; as it was where the note states none, or the category
    has no code for that trimester (Guidelines I.C.15.a.3; "in childbirth" codes are the coder's)."""
    if not text or not code.startswith(PREGNANCY_CHAPTER):
        return code, None
    from pipeline.code.lookup.codeset import get_codeset
    from pipeline.code.rules.specificity import variant

    if "unspecified trimester" not in (get_codeset().cm_description(code) or "").lower():
        return code, None
    stated = _weeks_stated(text)
    if not stated:
        return code, None
    m, weeks = stated[0]
    which = trimester_of(weeks)
    # the code whose title differs by the trimester only: O26.649 -> O26.643, O41.1290 -> O41.1230
    match = variant(code, "unspecified trimester", f"{which} trimester")
    if match is None:
        return code, None
    return match, f'"{m.group(0)}": {weeks} weeks of gestation, the {which} trimester (Guidelines I.C.15.a.3)'


@dataclass(frozen=True)
class GestationWeeks:
    code: str
    mention: Entity  # the pregnancy finding of the sentence (the evidence)
    why: str


def weeks_code(weeks: int) -> str:
    """The Z3A code for ``weeks`` completed weeks of gestation."""
    if weeks < 8:
        return "Z3A.01"
    if weeks > 42:
        return "Z3A.49"
    return f"Z3A.{weeks:02d}"


def gestation_weeks(entities: Sequence[Entity], text: str | None, codes: Sequence[str]) -> GestationWeeks | None:
    """The Z3A code the first statement of the weeks of gestation gives, when the record has a
    pregnancy code (chapter 15); its evidence is a mention of the same sentence."""
    if not text or not any(c.startswith(PREGNANCY_CHAPTER) for c in codes):
        return None
    for m, weeks in _weeks_stated(text):
        lo = max(text.rfind(".", 0, m.start()), text.rfind("\n", 0, m.start())) + 1
        hi_candidates = [i for i in (text.find(".", m.end()), text.find("\n", m.end())) if i >= 0]
        hi = min(hi_candidates) if hi_candidates else len(text)
        mention = next(
            (e for e in entities if lo <= e.start and e.end <= hi and e.label in ("PROBLEM", "SYMPTOM") and not e.negated),
            None,
        )
        if mention is None:
            continue
        code = weeks_code(weeks)
        return GestationWeeks(code, mention, f'"{m.group(0)}": {weeks} weeks of gestation, {code} (Guidelines I.C.15.b.4)')
    return None
