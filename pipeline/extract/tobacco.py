"""Tobacco use recognizer: ``mrt_tobacco``.

Dictations state tobacco use in the social history in words the code-set lexicon does not hold as a
finding: "Smoker.", "She smokes a pack of cigarettes a day", "former smoker", "quit smoking in
1990", "27 pack-year smoking history", "chews tobacco", "denies tobacco use". Each becomes a
``PROBLEM`` span (``Span._.source == "tobacco"``), so the context component reads its negation
("denies", "never") like any finding's, and the coder (:mod:`pipeline.code.rules.tobacco`) codes it
to nicotine dependence by product, personal history of it, or tobacco use.

"Nonsmoker" / "non-smoker" is no finding and gets no span, nor is "smoking cessation" (counseling),
nor the smoking of something other than tobacco ("smokes marijuana daily", "a crack smoker"). The span is the tobacco words only
("smokes", "smoker", "tobacco use"); the coder reads the sentence around it for the product and for
whether the use is past.
"""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc

from pipeline.extract.spans import phrase_span, take_over

LABEL = "PROBLEM"
PATTERN = re.compile(
    r"(?<![\w-])(?:"
    r"(?:ex|former|past|previous|prior|current|heavy|active|chronic|daily)[- ]?smokers?"
    r"|smokers?|smokes|smoked|used\s+to\s+smoke|(?:does|do|still|currently|continues\s+to)\s+smoke"
    r"|smoking(?:\s+history)?(?!\s+cessation)"
    r"|(?:tobacco|nicotine)\s+(?:use|abuse|dependence|addiction)|uses\s+tobacco|chews\s+tobacco|chewing\s+tobacco"
    r")(?![\w-])",
    re.I,
)
_NOT_A_FINDING = re.compile(r"non[- ]?$", re.I)  # "nonsmoker", "non-smoker"
# what is smoked is not tobacco: "smokes marijuana daily", "smoking crack cocaine", "a marijuana smoker"
_OTHER_SUBSTANCE = r"(?:marijuana|marihuana|cannabis|pot|weed|crack|cocaine|meth\w*|heroin|opium|hashish)"
_NOT_TOBACCO_AFTER = re.compile(rf"^\s+(?:(?:a|some|the|occasional|daily|\w+ly)\s+){{0,2}}{_OTHER_SUBSTANCE}\b", re.I)
_NOT_TOBACCO_BEFORE = re.compile(rf"\b{_OTHER_SUBSTANCE}\s+$", re.I)


class TobaccoRecognizer:
    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        for m in PATTERN.finditer(doc.text):
            if _NOT_A_FINDING.search(doc.text[max(0, m.start() - 4) : m.start()]):
                continue
            if _NOT_TOBACCO_AFTER.match(doc.text[m.end() : m.end() + 40]) or _NOT_TOBACCO_BEFORE.search(
                doc.text[max(0, m.start() - 20) : m.start()]
            ):
                continue
            if (span := phrase_span(doc, m, LABEL, "tobacco")) is not None:
                spans.append(span)
        take_over(doc, spans)  # a lexicon or NER span over the same words yields to the phrase
        return doc


@Language.factory("mrt_tobacco")
def make_tobacco(nlp: Language, name: str) -> TobaccoRecognizer:
    """spaCy factory: ``nlp.add_pipe("mrt_tobacco")`` after ``mrt_procedures``."""
    return TobaccoRecognizer(nlp, name)
