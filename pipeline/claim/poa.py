"""Present-on-admission (POA) indicators: the exempt list, and a proposal from the text.

The indicator values are UB-04/837I's: ``Y`` present at admission, ``N`` not present, ``U`` the
documentation does not say, ``W`` the provider cannot clinically determine, ``1`` exempt from POA
reporting (blank on paper). An exempt code always gets ``1`` (Guidelines Appendix I: "the only
circumstance in which the field may be left blank"); every other code gets a *proposal* read from
the dictation, with the words that support it, which the coder confirms or changes. Nothing here
decides a POA on its own: :class:`PoaProposal` says ``confirmed=False`` until a person sets it.

Text cues (Guidelines Appendix I):

* ``Y``: "admitted with", "presented with", "on admission", "present on admission", "prior to
  admission", "history of" a chronic condition, found in the emergency department;
* ``N``: "developed on day 3", "hospital-acquired", "nosocomial", "after admission", "during the
  hospital stay", "postoperatively" in an inpatient stay;
* ``W``: "unable to determine whether ... present on admission", "clinically undetermined";
* nothing said: ``U`` is *not* proposed silently; the proposal is left empty ("needs the coder"),
  since U should not be assigned routinely and a POA query may be due.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
EXEMPT_FILE = DATA_DIR / "poa_exempt_rules.tsv"


class Poa(str, Enum):
    YES = "Y"
    NO = "N"
    UNKNOWN = "U"
    UNDETERMINED = "W"
    EXEMPT = "1"


@dataclass(frozen=True)
class ExemptRule:
    pattern: str  # undotted code prefix, or "re:" and a regular expression on the undotted code
    title: str

    def matches(self, code: str) -> bool:
        if self.pattern.startswith("re:"):
            return re.match(self.pattern[3:], undotted(code)) is not None
        return undotted(code).startswith(self.pattern)

    @property
    def specificity(self) -> int:
        return 0 if self.pattern.startswith("re:") else len(self.pattern)


@dataclass(frozen=True)
class PoaProposal:
    code: str
    indicator: Poa | None  # None: the text does not say; the coder decides (or queries)
    reason: str
    evidence: str | None = None  # the words that support it
    confirmed: bool = False


def undotted(code: str) -> str:
    return code.replace(".", "").strip().upper()


@lru_cache(maxsize=1)
def exempt_rules() -> tuple[ExemptRule, ...]:
    rules = []
    for line in EXEMPT_FILE.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#") or line.startswith("pattern\t"):
            continue
        pattern, title = line.split("\t", 1)
        pattern = pattern.strip()
        rules.append(ExemptRule(pattern if pattern.startswith("re:") else pattern.upper(), title.strip()))
    return tuple(rules)


def exempt_rule(code: str) -> ExemptRule | None:
    """The exempt-list rule that covers ``code``, or None when the code needs Y/N/U/W."""
    best = None
    for r in exempt_rules():
        if r.matches(code) and (best is None or r.specificity > best.specificity):
            best = r
    return best


def is_poa_exempt(code: str) -> bool:
    return exempt_rule(code) is not None


# ---------------------------------------------------------------- proposals from the text
_Y_CUES = (
    r"admitted (?:with|for)",
    r"present(?:ed|ing)? (?:with|on admission)",
    r"on admission",
    r"at (?:the time of )?admission",
    r"prior to admission",
    r"before admission",
    r"in the (?:emergency department|ed|er)",
    r"came in with",
    r"brought in (?:with|for)",
    r"chief complaint",
    r"known history of",
    r"chronic",
)
_N_CUES = (
    r"developed (?:on )?(?:hospital )?day \d+",
    r"on hospital day \d+",
    r"hospital[- ]acquired",
    r"nosocomial",
    r"after admission",
    r"during (?:the|this) (?:hospital )?(?:stay|admission|hospitalization)",
    r"developed (?:during|while)",
    r"post-?operatively",
    r"not present on admission",
    r"iatrogenic",
)
_W_CUES = (r"unable to (?:clinically )?determine", r"clinically undetermined", r"cannot be (?:clinically )?determined")
_Y = re.compile(r"\b(?:" + "|".join(_Y_CUES) + r")\b", re.I)
_N = re.compile(r"\b(?:" + "|".join(_N_CUES) + r")\b", re.I)
_W = re.compile(r"\b(?:" + "|".join(_W_CUES) + r")\b", re.I)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")


def _sentences_with(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    out = []
    for m in _SENTENCE.finditer(text):
        if any(m.start() <= s < m.end() or s <= m.start() < e for s, e in spans):
            out.append((m.start(), m.end(), m.group(0).strip()))
    return out


def propose_poa(code: str, text: str = "", evidence: list[tuple[int, int]] | None = None) -> PoaProposal:
    """The proposed indicator for one diagnosis: 1 when exempt, else what the sentences that
    carry the code's evidence (character spans into ``text``) say, nearest cue first: W over N
    over Y (a "developed on day 3" outweighs a general "admitted with" in the same sentence)."""
    rule = exempt_rule(code)
    if rule is not None:
        return PoaProposal(code, Poa.EXEMPT, f"on the CMS POA-exempt list ({rule.pattern}: {rule.title})")
    for _s, _e, sentence in _sentences_with(text, evidence or []):
        for pattern, poa, why in (
            (_W, Poa.UNDETERMINED, "the provider cannot determine it"),
            (_N, Poa.NO, "the text says it arose after admission"),
            (_Y, Poa.YES, "the text says it was present at admission"),
        ):
            m = pattern.search(sentence)
            if m:
                return PoaProposal(code, poa, f"{why} (“{m.group(0)}”)", sentence)
    return PoaProposal(
        code,
        None,
        "the text does not say when it began: the coder decides, or queries the provider (U only if the record cannot tell)",
    )
