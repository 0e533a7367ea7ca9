"""Injuries told as what happened to a body part: ``mrt_injury_statements``.

Emergency dictations often tell the injury by its verb before any diagnosis is written: "twisted his
right ankle", "injured her left knee", "cut his finger", "broke her wrist". The lexicon holds the
nouns ("sprain", "laceration", "fracture"), not these phrases, so without this component the note has
no injury to code, and its external causes (Guidelines I.C.20) nothing to attach to. This component
marks each such phrase as a ``PROBLEM`` span (``Span._.source == "injury_statement"``) whose
normalized form is the injury in the Index's words ("injury of right ankle": Injury, ankle, S99.91-),
so the context component reads its negation ("denies hurting his back") and the coder looks it up as
any finding.

The verbs and the injury each names are :data:`INJURY_VERBS`; a body part is a word of
:data:`BODY_PARTS`, with an optional possessive and side in between.
"""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc

from pipeline.extract.spans import phrase_span, take_over

LABEL = "PROBLEM"
SOURCE = "injury_statement"

# the verb as dictated -> the injury the Index reads it as ("Cut - see Laceration"; a twist or a bump
# with no further diagnosis is an injury of the site, Injury, by site)
INJURY_VERBS = {
    "twisted": "injury",
    "twisting": "injury",
    "rolled": "injury",
    "injured": "injury",
    "injuring": "injury",
    "hurt": "injury",
    "hurting": "injury",
    "jammed": "injury",
    "banged": "injury",
    "bumped": "injury",
    "sprained": "sprain",
    "spraining": "sprain",
    "strained": "strain",
    "cut": "laceration",
    "lacerated": "laceration",
    "broke": "fracture",
    "broken": "fracture",
    "fractured": "fracture",
    "dislocated": "dislocation",
    "burned": "burn",
    "burnt": "burn",
}
BODY_PARTS = (
    "ankle knee wrist hand finger thumb toe foot elbow shoulder hip back neck head arm forearm leg thigh "
    "calf heel face chin forehead nose lip eye ear scalp rib ribs chest"
).split()
_STATEMENT = re.compile(
    r"\b(?P<verb>" + "|".join(INJURY_VERBS) + r")\s+(?:(?:his|her|their|the|my|a|both)\s+)?"
    r"(?P<side>right\s+|left\s+)?(?P<part>" + "|".join(BODY_PARTS) + r")s?\b",
    re.I,
)


def injury_reading(statement: str) -> str | None:
    """The Index's words for an injury statement ("twisted his right ankle" -> "injury of right
    ankle"), or None when ``statement`` is not one."""
    m = _STATEMENT.fullmatch(statement.strip())
    if not m:
        return None
    side = (m.group("side") or "").strip().lower()
    return " ".join(w for w in (INJURY_VERBS[m.group("verb").lower()], "of", side, m.group("part").lower()) if w)


class InjuryStatementRecognizer:
    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        for m in _STATEMENT.finditer(doc.text):
            if (span := phrase_span(doc, m, LABEL, SOURCE, injury_reading(m.group(0)))) is not None:
                spans.append(span)
        take_over(doc, spans)  # "ankle" or "hurt" found alone by another component yields to the statement
        return doc


@Language.factory("mrt_injury_statements")
def make_injury_statements(nlp: Language, name: str) -> InjuryStatementRecognizer:
    """spaCy factory: ``nlp.add_pipe("mrt_injury_statements")`` before ``mrt_external_causes``."""
    return InjuryStatementRecognizer(nlp, name)
