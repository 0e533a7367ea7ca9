"""Diagnosis list items no recognizer marked: ``mrt_diagnosis_lists``.

Under a diagnosis heading ("DISCHARGE DIAGNOSES:", "IMPRESSION:", "POSTOPERATIVE DIAGNOSIS:") every
item of the list is a diagnosis the physician states, the first thing a coder codes. The trained
models and the lexicon miss some of them in the words the physician chose ("3.  Diskitis.",
"7.  Protein malnourishment.", "Fibroid uterus."). This component reads each item that no other
component marked as the Alphabetic Index reads it (:func:`pipeline.code.lookup.index_lookup.lookup`,
the coder's own reading): an item the Index reads word for word, of at most :data:`MAX_WORDS` words,
becomes a ``PROBLEM`` span (``Span._.source == "diagnosis_list"``), so context (negation, history)
and the coder read it like any other finding. An item the Index does not read whole is left alone:
this is no guess at what an unrecognized phrase means.

Run it after ``mrt_sections`` (it reads ``doc._.sections`` and ``doc._.section_headers``) and before
``mrt_context``.
"""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import filter_spans

from pipeline.extract import _extensions  # noqa: F401
from pipeline.extract.types import DIAGNOSIS_SECTIONS

LABEL = "PROBLEM"
DRUG_LABEL = "MEDICATION"
SOURCE = "diagnosis_list"
MAX_WORDS = 5  # an item longer than this is prose, not a list item
# one item: after a line break, a list number ("2.", "3)") or the end of the one before (". ", "; ", ", ")
ITEM = re.compile(r"(?:^|\n|(?<=[.;:,])\s|\s(?=\d{1,2}[.)]\s))\s*(?:\d{1,2}[.)]\s*)?([^\n.;,:]+)")


class DiagnosisListReader:
    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        from pipeline.code.lookup.index_lookup import lookup, words

        sections = doc._.sections or []
        headers = doc._.section_headers or []
        marked = [(e.start_char, e.end_char) for e in doc.ents]
        as_drug = {(e.start_char, e.end_char): e for e in doc.ents if e.label_ == DRUG_LABEL}
        spans, misread = [], []
        for start, end, name in sections:
            if name not in DIAGNOSIS_SECTIONS:
                continue
            body = max([start, *(h_end for h_start, h_end in headers if start <= h_start < end)])
            for m in ITEM.finditer(doc.text, body, end):
                item = m.group(1).strip()
                a = m.start(1) + (len(m.group(1)) - len(m.group(1).lstrip()))
                b = a + len(item)
                n = len(words(item))
                drug = as_drug.get((a, b))  # "2.  Coagulopathy, induced by Coumadin.": a diagnosis taken for a drug
                if not 0 < n <= MAX_WORDS or (drug is None and any(x < b and a < y for x, y in marked)):
                    continue
                hit = lookup(item)
                if hit is None or hit.share < 1.0 or (drug is not None and not _names_a_condition(item, hit)):
                    continue
                if drug is not None:
                    misread.append(drug)
                span = doc.char_span(a, b, label=LABEL, alignment_mode="contract")
                if span is not None and len(span):
                    span._.source = SOURCE
                    span._.section = name
                    spans.append(span)
        if spans:
            doc.ents = filter_spans([*(e for e in doc.ents if e not in misread), *spans])
        return doc


def _names_a_condition(item: str, hit) -> bool:
    """A whole list item a recognizer took for a drug is a diagnosis when it is an Index main term
    itself, read by its own name ("Coagulopathy"): a drug name is no main term of the Index."""
    from pipeline.code.lookup.index_lookup import states_the_main_term

    return bool(hit.code) and len(hit.path) == 1 and not hit.by_adjective and states_the_main_term(item, hit)


@Language.factory("mrt_diagnosis_lists")
def make_diagnosis_lists(nlp: Language, name: str) -> DiagnosisListReader:
    """spaCy factory: ``nlp.add_pipe("mrt_diagnosis_lists")`` after ``mrt_sections``."""
    return DiagnosisListReader(nlp, name)
