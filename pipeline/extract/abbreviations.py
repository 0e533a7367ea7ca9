"""Abbreviation resolution: ``mrt_abbreviations``.

Runs after scispaCy's ``abbreviation_detector`` and the recognizers, and does two things:

* **Defined in the text** ("chronic obstructive pulmonary disease (COPD)"): scispaCy's detector
  pairs every later "COPD" with its long form. An entity written as the short form gets the long
  form as ``normalized_form`` (what the linker and the coder look up), and a short form that no
  recognizer marked becomes an entity with the label of the entity its long form is.
* **Ambiguous clinical abbreviations** (``data/abbreviations_ambiguous.tsv``: MS, PE, RA, CP, MR,
  ARF, CA, ...): each sense lists context words; the sense whose words occur most often within
  ``window`` tokens of the abbreviation wins. A winning sense that is a finding becomes an entity
  with its long form; a sense that is not (PE = physical examination, RA = room air) removes the
  mention from the entities. With no evidence, or a tie, the mention is kept when one of its senses
  is a finding, flagged with ``span._.abbreviation_senses`` (every long form) and no long form,
  so a coder resolves it.

Unambiguous lexicon abbreviations (COPD, CHF, NSTEMI, s/p, h/o ...) are matched by
``mrt_terminology`` from ``data/abbreviations.tsv``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from pipeline.extract import _extensions  # noqa: F401

DATA = resources.files("pipeline.extract") / "data"
NOT_A_FINDING = "-"


@dataclass(frozen=True)
class Sense:
    long_form: str
    label: str  # an entity label, or "-" when the sense is not a codable finding
    cues: tuple[re.Pattern, ...]


def read_ambiguous(path: str | Path | None = None) -> dict[str, list[Sense]]:
    src = Path(path) if path else Path(str(DATA / "abbreviations_ambiguous.tsv"))
    senses: dict[str, list[Sense]] = {}
    for line in src.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        abbr, long_form, label, cues = (line.split("\t") + [""] * 4)[:4]
        patterns = tuple(
            re.compile(r"(?<![\w/])" + re.escape(c.strip().lower()) + r"(?![\w/])") for c in cues.split(",") if c.strip()
        )
        senses.setdefault(abbr.strip(), []).append(Sense(long_form.strip(), label.strip(), patterns))
    return senses


class AbbreviationResolver:
    def __init__(self, nlp: Language, name: str, ambiguous_file: str | None, window: int) -> None:
        self.name = name
        self.window = window
        self.senses = read_ambiguous(ambiguous_file)
        self.matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        for abbr in self.senses:
            self.matcher.add(abbr, [nlp.make_doc(abbr)])

    def __call__(self, doc: Doc) -> Doc:
        ents = list(doc.ents)
        drop: set[tuple[int, int]] = set()
        for _, start, end in self.matcher(doc):
            span = doc[start:end]
            resolved = self.resolve(doc, start, end)
            senses = self.senses[span.text]
            if resolved is not None and resolved.label == NOT_A_FINDING:
                drop.add((start, end))
                continue
            if resolved is not None:
                new = Span(doc, start, end, label=resolved.label)
                new._.normalized_form = resolved.long_form
            else:
                labels = [s.label for s in senses if s.label != NOT_A_FINDING]
                if not labels:
                    drop.add((start, end))
                    continue
                new = Span(doc, start, end, label=Counter(labels).most_common(1)[0][0])
                new._.abbreviation_senses = [s.long_form for s in senses]
            new._.source = "abbreviation"
            ents = [e for e in ents if (e.start, e.end) != (start, end)] + [new]
        ents = [e for e in ents if (e.start, e.end) not in drop]
        ents = self._defined_in_text(doc, ents)
        doc.ents = filter_spans(ents)
        return doc

    def resolve(self, doc: Doc, start: int, end: int) -> Sense | None:
        """The sense with the most evidence; None on no evidence or a tie. Evidence: its long form
        written in the document (3), its context words in the mention's sentence (2 each) and
        within ``window`` tokens outside it (1 each)."""
        sent = doc[start].sent
        lo, hi = max(0, start - self.window), min(len(doc), end + self.window)
        near = (doc[sent.start : start].text + " | " + doc[end : sent.end].text).lower()
        around = (doc[lo : min(start, sent.start)].text + " | " + doc[max(end, sent.end) : hi].text).lower()
        text = doc.text.lower()
        senses = self.senses[doc[start:end].text]
        hits = [
            3 * (s.long_form.lower() in text) + sum(2 * len(p.findall(near)) + len(p.findall(around)) for p in s.cues)
            for s in senses
        ]
        best = max(hits)
        if best == 0 or hits.count(best) > 1:
            return None
        return senses[hits.index(best)]

    @staticmethod
    def _defined_in_text(doc: Doc, ents: list[Span]) -> list[Span]:
        pairs = getattr(doc._, "abbreviations", None) or []
        if not pairs:
            return ents
        by_extent = {(e.start, e.end): e for e in ents}
        covered = {i for e in ents for i in range(e.start, e.end)}
        for short in pairs:
            long = short._.long_form
            if long is None:
                continue
            existing = by_extent.get((short.start, short.end))
            if existing is not None:
                if existing._.normalized_form is None:
                    existing._.normalized_form = long.text
                continue
            if any(i in covered for i in range(short.start, short.end)):
                continue
            long_ent = next(
                (e for e in ents if e.start <= long.start and long.end <= e.end or long.start <= e.start and e.end <= long.end),
                None,
            )
            if long_ent is not None:
                new = Span(doc, short.start, short.end, label=long_ent.label)
                new._.normalized_form = long.text
                new._.source = "abbreviation"
                ents.append(new)
                covered.update(range(short.start, short.end))
        return ents


@Language.factory("mrt_abbreviations", default_config={"ambiguous_file": None, "window": 25})
def make_abbreviations(nlp: Language, name: str, ambiguous_file: str | None, window: int) -> AbbreviationResolver:
    """spaCy factory: ``nlp.add_pipe("mrt_abbreviations")`` after the recognizers."""
    return AbbreviationResolver(nlp, name, ambiguous_file, window)
