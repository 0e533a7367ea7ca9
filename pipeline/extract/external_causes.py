"""External causes of injury: ``mrt_external_causes``.

An injury is coded with how it happened, where, and doing what (Guidelines I.C.20): "slipped on ice
on her driveway while walking her dog" is W00.0XXA, Y92.014 and Y93.K1. The phrases a dictation uses
for them, with their codes, are ``data/external_causes.tsv`` (:func:`external_cause_rules`). This
component marks each phrase as a ``PROBLEM`` span (``Span._.source == "external_cause"``) so that the
context component reads its negation ("denies any fall") and the audio timing reaches it; the coder
(:mod:`pipeline.code.rules.external_causes`) codes the spans of a record that has an injury code.

A mechanism phrase is marked wherever it is; a place, activity or status phrase only in a sentence
that tells of an injury (a mechanism phrase or an injury word: "twisted her ankle playing
basketball") or in the sentence right before one, on the same line ("He was playing basketball in
gym. ... someone stepped on his ankle and twisted it"), so "walking" in "difficulty walking" is no activity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import cast

from spacy.language import Language
from spacy.tokens import Doc, Span

from pipeline.extract.spans import phrase_span, take_over

DATA_FILE = cast(Path, resources.files("pipeline.extract") / "data" / "external_causes.tsv")
LABEL = "PROBLEM"
SOURCE = "external_cause"
KINDS = ("mechanism", "place", "activity", "status")
_INJURY_WORDS = re.compile(r"\b(?:injur\w*|twist\w*|sprain\w*|hurt|struck|hit|accident|fractur\w*|lacerat\w*)\b", re.I)


@dataclass(frozen=True)
class ExternalCauseRule:
    kind: str  # mechanism, place, activity or status
    code: str  # ends in "?" where the injury's 7th character goes
    pattern: re.Pattern[str]
    index: str  # the Index of External Causes entry


@lru_cache(maxsize=1)
def external_cause_rules() -> tuple[ExternalCauseRule, ...]:
    """The table's rules, in its order (within a kind, the first that applies wins)."""
    rules = []
    for line in DATA_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, code, pattern, index = line.split("\t")
        if kind not in KINDS:
            raise ValueError(f"{DATA_FILE.name}: unknown kind {kind!r}")
        rules.append(ExternalCauseRule(kind, code, re.compile(pattern, re.I), index))
    return tuple(rules)


def rule_for(words: str) -> ExternalCauseRule | None:
    """The first rule whose pattern reads all of ``words`` (a span this component marked), or None."""
    return next((r for r in external_cause_rules() if r.pattern.fullmatch(words.strip())), None)


def _first_word(sentence: Span) -> int:
    """The character where a sentence's words start (a sentence may begin with the line break before it)."""
    return sentence.start_char + len(sentence.text) - len(sentence.text.lstrip())


class ExternalCauseRecognizer:
    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        matches = [(r, m) for r in external_cause_rules() for m in r.pattern.finditer(doc.text)]
        mechanisms = [m.start() for r, m in matches if r.kind == "mechanism"]
        if not matches or not (mechanisms or _INJURY_WORDS.search(doc.text)):
            return doc
        sentences = list(doc.sents)
        tells = [any(s.start_char <= m < s.end_char for m in mechanisms) or bool(_INJURY_WORDS.search(s.text)) for s in sentences]
        # the sentence that sets the scene for the injury counts too: "He was playing basketball today in
        # gym. Two hours prior to presentation, he started to fall and ... twisted his right ankle."
        injury_sentences = [
            (s.start_char, s.end_char)
            for i, s in enumerate(sentences)
            if tells[i]
            or (
                i + 1 < len(sentences)
                and tells[i + 1]
                and "\n" not in doc.text[s.start_char : _first_word(sentences[i + 1])].lstrip()
            )
        ]
        spans = []
        for r, m in matches:
            if r.kind != "mechanism" and not any(a <= m.start() < b for a, b in injury_sentences):
                continue
            if (span := phrase_span(doc, m, LABEL, SOURCE)) is not None:
                spans.append(span)
        take_over(doc, spans)  # a lexicon or NER span over the same words yields to the phrase
        return doc


@Language.factory("mrt_external_causes")
def make_external_causes(nlp: Language, name: str) -> ExternalCauseRecognizer:
    """spaCy factory: ``nlp.add_pipe("mrt_external_causes")`` after ``mrt_tobacco``."""
    return ExternalCauseRecognizer(nlp, name)
