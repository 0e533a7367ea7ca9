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
    for m in _WEEKS.finditer(text):
        weeks = int(m.group(1))
        if not 1 <= weeks <= 45:
            continue
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
