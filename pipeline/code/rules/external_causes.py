"""External cause codes for a record's injury (Guidelines I.C.20).

Extraction marks the phrases that tell how, where and doing what an injury happened
(:mod:`pipeline.extract.external_causes`). A record with an injury code (chapter S or T with a 7th
character) gets, from those phrases: one mechanism code (W/V/X/Y00-Y38, the most specific the note
states: ice before a plain fall), one place of occurrence (Y92), one activity (Y93) and one status
(Y99, only when stated: I.C.20.k). The mechanism takes the injury's 7th character (A initial, D
subsequent, S sequela); Y92, Y93 and Y99 are used once, at the initial encounter (I.C.20.b-c).
A record without an injury code gets none of them: a fall that injured nothing is the coder's call.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.extract.external_causes import KINDS, ExternalCauseRule, external_cause_rules, rule_for
from pipeline.extract.types import Entity


@dataclass(frozen=True)
class ExternalCause:
    code: str
    rule: ExternalCauseRule
    mention: Entity

    @property
    def why(self) -> str:
        return f'"{self.mention.text}": Index of External Causes, {self.rule.index} (Guidelines I.C.20)'


def is_external_cause(e: Entity) -> bool:
    """Whether the mention is an external-cause phrase as extraction marks them."""
    return rule_for(e.text) is not None


def is_external_cause_code(code: str) -> bool:
    """V00-Y38 (the cause and intent) or Y90-Y99 (place, activity, status); not Y62-Y84 (complications
    of care, which explain a condition of any chapter)."""
    return code[0] in "VWX" or (code[0] == "Y" and (code[1:3] < "39" or code[1:3] >= "90"))


def injury_character(codes: list[str]) -> str | None:
    """The 7th character of the record's first injury code (S00-T88 with a 7th character), or None."""
    for code in codes:
        c = code.replace(".", "")
        if code[:1] in "ST" and len(c) == 7 and c[-1] in "ADS":
            return c[-1]
    return None


def external_causes(mentions: list[Entity], injury_codes: list[str]) -> list[ExternalCause]:
    """The external cause codes of the record: one per kind, the table's first rule any mention
    matches, with the injury's 7th character; none without an injury code, and no place, activity
    or status at a subsequent encounter or for a sequela (I.C.20.b-c)."""
    seventh = injury_character(injury_codes)
    if seventh is None:
        return []
    matched = [(rule, e) for e in mentions if (rule := rule_for(e.text)) is not None]
    order = {r: i for i, r in enumerate(external_cause_rules())}
    out = []
    for kind in KINDS:
        if kind != "mechanism" and seventh != "A":
            continue
        ofkind = [(rule, e) for rule, e in matched if rule.kind == kind]
        if not ofkind:
            continue
        rule, e = min(ofkind, key=lambda re_: (order[re_[0]], re_[1].start))
        out.append(ExternalCause(rule.code.replace("?", seventh), rule, e))
    return out
