"""Codes for the social circumstances a dictation states (Guidelines I.C.21.c.17).

Extraction marks "lives alone", "unemployed", "homeless", "noncompliant with her medication regimen",
"exposure to asbestos" with the Alphabetic Index's words for each (:mod:`pipeline.extract.social_history`).
The coder reads those words in the Index (Problem, living alone Z60.2; Unemployment Z56.0;
Noncompliance, with, medication regimen NEC Z91.148; Exposure, asbestos Z77.090) and reports the code:
social determinants may be coded from any clinician's documentation or the patient's own account.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.code.lookup.index_lookup import lookup
from pipeline.extract.social_history import rule_for
from pipeline.extract.types import Entity

# social determinants, exposures and noncompliance; and the statuses the same words state: do not
# resuscitate (Z66, a status code of Guidelines I.C.21.c.3) and at risk for falling (Z91.81)
SOCIAL_CATEGORIES = ("Z55", "Z56", "Z57", "Z58", "Z59", "Z60", "Z62", "Z63", "Z64", "Z65", "Z66", "Z77", "Z91.1", "Z91.81")


@dataclass(frozen=True)
class SocialCode:
    code: str
    why: str


def is_social_history(e: Entity) -> bool:
    """Whether the mention is a social-circumstance phrase as extraction marks them."""
    return rule_for(e.text) is not None


def social_code(e: Entity) -> SocialCode | None:
    """The Index's code for a marked phrase (a Z code of :data:`SOCIAL_CATEGORIES`), or None."""
    rule = rule_for(e.text)
    hit = lookup(rule.index) if rule else None
    if rule is None or hit is None or not hit.complete or not hit.code.startswith(SOCIAL_CATEGORIES):
        return None
    return SocialCode(hit.code, f'"{e.text}": Index: {hit.phrase()}, {hit.code} (Guidelines I.C.21.c.17)')
