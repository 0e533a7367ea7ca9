"""A condition named as what a screening looks for, coded as the screening (Guidelines I.C.21.c.5).

"Colon cancer screening", "screening for breast cancer": the patient is tested for a condition not
known to be there, so the condition is not a diagnosis. The Index reads the encounter under its main
term Screening: Screening, neoplasm, colon, Z12.11. A condition the screening finds is a mention of its
own ("polyps were found") and is coded as usual. Where the Index lists no entry for what is screened
for, the condition is still not coded, and the coder adds the screening code. A screening procedure the
operative report names ("PROCEDURE: Screening colonoscopy.") is read the same way: Screening,
colonoscopy, Z12.11.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.code.lookup.index_lookup import lookup

MAIN_TERM = "screening"
# "colon cancer screening", "screening for (a) breast cancer", "screening of the prostate"
_SCREENING_AFTER = re.compile(r"^[\s,]*screening\b", re.I)
_SCREENING_FIRST = re.compile(r"^\s*screening\s+", re.I)  # "screening colonoscopy"
_SCREENING_BEFORE = re.compile(r"\bscreening\s+(?:for|of)\s+(?:an?\s+|the\s+)?$", re.I)


@dataclass(frozen=True)
class Screening:
    """The screening a mention names: the Index's code and entry (None when the Index has no entry for it)."""

    code: str | None
    path: tuple[str, ...] = ()

    @property
    def why(self) -> str:
        read = f"Index: {', '.join(self.path)} {self.code}" if self.code else "no Index entry under Screening for it"
        return f"a screening for the condition, which is not diagnosed ({read}; Guidelines I.C.21.c.5)"


def screened_for(before: str, after: str) -> bool:
    """The words around a mention say it is what a screening looks for: ``before`` is its sentence up
    to it, ``after`` the words that follow it."""
    return bool(_SCREENING_AFTER.search(after) or _SCREENING_BEFORE.search(before))


def screening_for(mention: str) -> Screening:
    """The Index's Screening entry for what ``mention`` names (a subterm of Screening, not the bare main term)."""
    hit = lookup(f"{MAIN_TERM} {mention}", main_term=MAIN_TERM)
    if hit is None or len(hit.path) < 2:
        return Screening(None)
    return Screening(hit.code, hit.path)


def screening_procedure(mention: str) -> Screening | None:
    """The screening a procedure's words name ("screening colonoscopy": Screening, colonoscopy, Z12.11),
    or None when they name none the Index lists."""
    if not _SCREENING_FIRST.match(mention):
        return None
    found = screening_for(_SCREENING_FIRST.sub("", mention))
    return found if found.code else None
