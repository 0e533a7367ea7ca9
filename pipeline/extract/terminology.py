"""Terminology-driven entity recognizer: ``mrt_terminology``.

Matches the shipped clinical lexicon (ICD-10-CM Index and tabular terms, ICD-10-PCS Index
procedure names, drug table, curated lists; see ``scripts/build_lexicon.py``) with a
case-insensitive PhraseMatcher, clinical abbreviations case-sensitively, and procedure words
by their surgical suffix. Longest match wins; a match is widened over the modifiers a coder
needs (laterality, acuity, approach). Trained NER models replace or join this in later work.
"""

from __future__ import annotations

import gzip
import re
from importlib import resources
from pathlib import Path
from typing import cast

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from pipeline.extract import _extensions  # noqa: F401
from pipeline.extract.spelling import SuffixSpeller
from pipeline.extract.types import LABELS

DATA = cast(Path, resources.files("pipeline.extract") / "data")  # the package is installed as files on disk
# words a trained model or the speller sometimes labels that are never a finding on their own: headings,
# the month or modal "may", a bare side (the lexicon's blocked terms, data/blocked_terms.txt, keep general
# words such as "pain" out of the lexicon, but the model's "pain" before its site is a finding)
# "an excellent interference fit", "press fit": a graft's or a component's fit, never a seizure in a dictation
NOT_FINDINGS_ALONE = frozenset(
    {"impression", "presenting", "personal", "admission", "may", "lateral", "medial", "nerves", "fit", "fits"}
)


DEFAULT_MODIFIERS = [
    "left",
    "right",
    "bilateral",
    "acute",
    "chronic",
    "severe",
    "mild",
    "moderate",
    "recurrent",
    "laparoscopic",
    "open",
    "robotic",
    "robotic-assisted",
    "percutaneous",
    "endoscopic",
    "arthroscopic",
    "uncomplicated",
    "complicated",
    "primary",
    "secondary",
    "paroxysmal",
    "persistent",
    "permanent",
]
PROCEDURE_SUFFIX = r"(ectomy|ectomies|otomy|ostomy|oplasty|plasty|oscopy|opexy|orrhaphy|odesis|centesis|otripsy)$"


def _read_terms(path: Path | None) -> list[tuple[str, str]]:
    src = Path(path) if path else DATA / "terms.tsv.gz"
    with gzip.open(src, "rt", encoding="utf-8") if str(src).endswith(".gz") else open(src, encoding="utf-8") as f:
        next(f)
        return [tuple(line.rstrip("\n").split("\t")[:2]) for line in f if line.strip()]  # type: ignore[misc]


def _read_abbreviations(path: Path | None) -> list[tuple[str, str, str]]:
    src = Path(path) if path else DATA / "abbreviations.tsv"
    rows = []
    for line in Path(src).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            abbr, long_form, label = line.split("\t")[:3]
            rows.append((abbr.strip(), long_form.strip(), label.strip()))
    return rows


@Language.factory(
    "mrt_terminology",
    default_config={
        "terms_file": None,
        "abbreviations_file": None,
        "labels": list(LABELS),
        "modifiers": DEFAULT_MODIFIERS,
        "procedure_suffix": PROCEDURE_SUFFIX,
        "spelling_min_ratio": 95.0,
    },
)
def make_terminology(
    nlp: Language,
    name: str,
    terms_file: str | None,
    abbreviations_file: str | None,
    labels: list[str],
    modifiers: list[str],
    procedure_suffix: str,
    spelling_min_ratio: float,
) -> TerminologyRecognizer:
    return TerminologyRecognizer(nlp, terms_file, abbreviations_file, labels, modifiers, procedure_suffix, spelling_min_ratio)


_TYPE_LETTER = re.compile(r"[A-Z]\.?")
_CUT_SIDE = frozenset({"left", "right", "bilateral"})  # a site phrase's side: the site's words follow it


# an organ's one-word name dictated as two words: "Gall Bladder Disease" is no disease of the (urinary) bladder
_SPLIT_COMPOUNDS = {("gall", "bladder"): "gallbladder"}


def _with_split_compound(doc: Doc, span: Span) -> Span:
    """A span that starts inside a compound written as two words, with its first word, read as one word."""
    if span.start == 0 or doc[span.start - 1].sent != span.sent:
        return span
    joined = _SPLIT_COMPOUNDS.get((doc[span.start - 1].lower_, span[0].lower_))
    if joined is None:
        return span
    widened = Span(doc, span.start - 1, span.end, label=span.label)
    widened._.normalized_form = " ".join([joined, *(t.text.lower() for t in span[1:])])
    return widened


class TerminologyRecognizer:
    def __init__(self, nlp, terms_file, abbreviations_file, labels, modifiers, procedure_suffix, spelling_min_ratio) -> None:
        wanted = set(labels)
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        by_label: dict[str, list[str]] = {}
        single_words: dict[str, str] = {}
        known_words: set[str] = set()
        self.typed_heads: set[str] = set()  # words a type letter follows in the lexicon: "hepatitis" (b, c ...)
        for term, label in _read_terms(terms_file):
            words = term.split()
            known_words.update(words)
            if len(words) >= 2 and len(words[-1]) == 1 and words[-1].isalpha() and words[-2].isalpha() and words[-2] != "type":
                self.typed_heads.add(words[-2])
            if label in wanted:
                by_label.setdefault(label, []).append(term)
                if term.isalpha():
                    single_words[term] = label
        self.speller = SuffixSpeller(single_words, known_words, min_ratio=spelling_min_ratio)
        for label, terms in by_label.items():
            self.matcher.add(label, list(nlp.tokenizer.pipe(terms)))
        self.abbr_matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        self.long_forms: dict[str, str] = {}
        for abbr, long_form, label in _read_abbreviations(abbreviations_file):
            if label in wanted:
                self.abbr_matcher.add(label, [nlp.make_doc(abbr)])
                self.long_forms[abbr] = long_form
        self.modifiers = {m.lower() for m in modifiers}
        self.not_findings = NOT_FINDINGS_ALONE
        self.procedure_re = re.compile(procedure_suffix) if "PROCEDURE" in wanted else None

    def __call__(self, doc: Doc) -> Doc:
        spans = [Span(doc, s, e, label=mid) for mid, s, e in self.matcher(doc)]
        for mid, s, e in self.abbr_matcher(doc):
            span = Span(doc, s, e, label=mid)
            span._.normalized_form = self.long_forms.get(span.text)
            spans.append(span)
        covered = {i for s in spans for i in range(s.start, s.end)}
        for t in doc:
            if t.i in covered or not t.is_alpha:
                continue
            if fix := self.speller.correct(t.text):
                span = Span(doc, t.i, t.i + 1, label=fix[1])
                span._.normalized_form = fix[0]
                spans.append(span)
            elif self.procedure_re and len(t) > 6 and self.procedure_re.search(t.lower_):
                spans.append(Span(doc, t.i, t.i + 1, label="PROCEDURE"))
        spans = [_with_split_compound(doc, self._widen(doc, s)) for s in spans if not self._no_finding(s)]
        model = [e for e in doc.ents if not self._no_finding(e)]
        kept = filter_spans(
            spans + [_with_split_compound(doc, self._with_type_letter(doc, self._with_site_after_side(doc, e))) for e in model]
        )  # same extent: the lexicon label (SYMPTOM) beats a model's (PROBLEM)
        for span in kept:
            if span._.normalized_form is None and span.text in self.long_forms:
                span._.normalized_form = self.long_forms[span.text]
            elif span._.normalized_form is None:  # a longer model span keeps the corrections inside it
                self._carry_normalized(doc, span, spans)
        doc.ents = kept
        return doc

    def _no_finding(self, span: Span) -> bool:
        """A span whose words are only words that are never a finding on their own: a heading
        ("IMPRESSION", "ADMISSION,1"), the month or modal "may", a side ("lateral")."""
        words = [t.lower_ for t in span if t.is_alpha]
        return not words or " ".join(words) in self.not_findings

    @staticmethod
    def _carry_normalized(doc: Doc, span: Span, lexicon_spans: list[Span]) -> None:
        inner = sorted(
            (
                s
                for s in lexicon_spans
                if s._.normalized_form is not None
                and span.start <= s.start
                and s.end <= span.end
                and (s.start, s.end) != (span.start, span.end)
            ),
            key=lambda s: s.start,
        )
        if not inner:
            return
        parts, i = [], span.start
        for s in inner:
            if s.start < i:
                continue
            parts += [doc[i : s.start].text, s._.normalized_form]
            i = s.end
        parts.append(doc[i : span.end].text)
        span._.normalized_form = " ".join(p for p in parts if p)

    def _with_type_letter(self, doc: Doc, span: Span) -> Span:
        """A model's span with the type letter that follows it: "chronic hepatitis" + "B" (the letter
        decides the code: B18.1, not K73.9)."""
        end = span.end
        if (
            end < len(doc)
            and span[-1].lower_ in self.typed_heads
            and _TYPE_LETTER.fullmatch(doc[end].text)
            and doc[end].sent == span.sent
        ):
            widened = Span(doc, span.start, end + 1, label=span.label)  # "B." at a sentence end is one token
            widened._.normalized_form = span._.normalized_form and f"{span._.normalized_form} {doc[end].text[0]}"
            return widened
        return span

    def _with_site_after_side(self, doc: Doc, span: Span) -> Span:
        """A model's span cut after the side of its site, with the site: "Rhabdomyosarcoma of the
        left" + "orbit" (a side is never the end of a site phrase)."""
        if span.label_ != "PROBLEM" or span[-1].lower_ not in _CUT_SIDE or "of" not in {t.lower_ for t in span[:-1]}:
            return span
        end = self._site_end(doc, span.end - 1, span.sent.end)
        if end <= span.end:
            return span
        widened = Span(doc, span.start, end, label=span.label)
        if span._.normalized_form is not None:
            widened._.normalized_form = f"{span._.normalized_form} {doc[span.end : end].text}"
        return widened

    def _widen(self, doc: Doc, span: Span) -> Span:
        start, end = span.start, span.end
        fixed: list[str] = []
        while start > 0 and doc[start - 1].sent == span.sent:
            modifier = self.speller.closest(doc[start - 1].text, self.modifiers)
            if modifier is None:
                break
            fixed.insert(0, modifier)
            start -= 1
        if span.label_ == "PROBLEM" and end < len(doc) and doc[end].lower_ == "of":
            end = self._site_end(doc, end, span.sent.end)
        if (start, end) == (span.start, span.end):
            return span
        widened = Span(doc, start, end, label=span.label)
        if span._.normalized_form is not None:  # keep the normalized form covering the whole span
            tail = doc[span.end : end].text
            widened._.normalized_form = " ".join(filter(None, [*fixed, span._.normalized_form, tail]))
        return widened

    @staticmethod
    def _site_end(doc: Doc, of_index: int, limit: int, max_words: int = 5) -> int:
        """End of an anatomic site after "of" ("fracture of the left distal radius"), or the
        original end when none follows. Stops at punctuation, stop words and digits."""
        i, words = of_index + 1, 0
        if i < limit and doc[i].lower_ in ("the", "his", "her", "their"):
            i += 1
        end = of_index
        while i < limit and words < max_words and doc[i].is_alpha and not doc[i].is_stop:
            i += 1
            words += 1
            end = i
        return end if words else of_index
