"""Social circumstances a coder reports: ``mrt_social_history``.

Dictations state a patient's circumstances in words the code-set lexicon does not hold as findings:
"lives alone", "unemployed since ...", "homeless", "noncompliant with her medication regimen",
"exposure to asbestos". A coder reports them (Guidelines I.C.21.c.17: social determinants of health,
from any clinician's note or the patient's own account). The phrases, each with the Alphabetic
Index's words for it, are ``data/social_history.tsv`` (:func:`social_history_rules`). This component
marks each phrase as a ``PROBLEM`` span (``Span._.source == "social_history"``) whose normalized form
is those Index words, so the context component reads its negation ("does not live alone") like any
finding's and the coder looks it up in the Index (:mod:`pipeline.code.rules.social_history`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import cast

from spacy.language import Language
from spacy.tokens import Doc

from pipeline.extract.spans import phrase_span, take_over

DATA_FILE = cast(Path, resources.files("pipeline.extract") / "data" / "social_history.tsv")
LABEL = "PROBLEM"
SOURCE = "social_history"


@dataclass(frozen=True)
class SocialHistoryRule:
    index: str  # the Alphabetic Index's words for the circumstance
    pattern: re.Pattern[str]


@lru_cache(maxsize=1)
def social_history_rules() -> tuple[SocialHistoryRule, ...]:
    """The table's rules, in its order."""
    rules = []
    lines = [ln for ln in DATA_FILE.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    if not lines or lines[0].split("\t") != ["index", "pattern"]:
        raise ValueError(f"{DATA_FILE.name}: the header must be 'index<TAB>pattern'")
    for line in lines[1:]:
        index, pattern = line.split("\t")
        rules.append(SocialHistoryRule(index, re.compile(pattern, re.I)))
    return tuple(rules)


def rule_for(words: str) -> SocialHistoryRule | None:
    """The first rule whose pattern reads all of ``words`` (a span this component marked), or None."""
    return next((r for r in social_history_rules() if r.pattern.fullmatch(words.strip())), None)


class SocialHistoryRecognizer:
    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        for rule in social_history_rules():
            for m in rule.pattern.finditer(doc.text):
                if (span := phrase_span(doc, m, LABEL, SOURCE, rule.index)) is not None:
                    spans.append(span)
        take_over(doc, spans)  # a lexicon or NER span over the same words yields to the phrase
        return doc


@Language.factory("mrt_social_history")
def make_social_history(nlp: Language, name: str) -> SocialHistoryRecognizer:
    """spaCy factory: ``nlp.add_pipe("mrt_social_history")`` after ``mrt_external_causes``."""
    return SocialHistoryRecognizer(nlp, name)
