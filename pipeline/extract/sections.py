"""Section detection for dictated and written notes: ``mrt_sections`` spaCy component.

Finds headers such as ``HISTORY OF PRESENT ILLNESS:``, ``Assessment/Plan:`` and the forms a speech
recognizer writes without colons or capitals (``History of present illness. The patient ...``,
``Past medical history, significant for ...``, ``Assessment and plan.``), maps them to canonical
names from ``data/section_headers.json`` and sets

* ``doc._.sections``: ``[(start_char, end_char, name), ...]`` covering the whole text (text before
  the first header is named by the ``untitled`` setting), and ``doc._.section_headers`` the
  characters of each header itself;
* ``span._.section`` on every entity in ``doc.ents``.

A header counts only at the start of a sentence or a line (so "the patient's family history is
unremarkable" is prose), except a header in capitals followed by a colon, which counts anywhere.
Run it after the sentencizer and before ``mrt_context``. With ``split_sentences`` it also starts a
new sentence at each header and at the text after the header's separator, so a header never shares
a sentence (and hence a ConText scope) with the text around it.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from pathlib import Path
from typing import NamedTuple

import numpy as np
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Token

from . import _extensions  # noqa: F401  (registers the Span/Doc attributes)

DEFAULT_HEADERS = Path(__file__).parent / "data" / "section_headers.json"
GROUPS = ("headers", "strict", "abbreviations", "soap")
SOAP = "soap"  # the one-letter headings of a SOAP note: S, O, A, P
OPERATIVE_DIAGNOSES = frozenset({"preoperative_diagnosis", "postoperative_diagnosis"})
PROCEDURE = "procedure"
MIN_SOAP_HEADINGS = 3  # of the four, for a note to be read as a SOAP note ("P: 72" alone is a pulse)
_SEPARATORS = frozenset({":", "):", "-", "--", "—", "–", ".", ",", ";"})
_ABBREV_SEPARATORS = frozenset({":", "):", "-", "--", "—", "–"})


class Header(NamedTuple):
    """A header found in a doc: token span, canonical name and the variant's group."""

    start: int
    end: int
    name: str
    group: str


def load_headers(path: str | Path | None = None) -> dict[str, dict[str, list[str]]]:
    """Read the header file: ``{group: {canonical_name: [variant, ...]}}``."""
    data = json.loads(Path(path or DEFAULT_HEADERS).read_text(encoding="utf-8"))
    return {g: data.get(g, {}) for g in GROUPS}


def _is_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def _is_newline(tok: Token) -> bool:
    return tok.is_space and "\n" in tok.text


class SectionComponent:
    """Sets ``doc._.sections`` and ``span._.section``."""

    def __init__(
        self,
        nlp: Language,
        name: str = "mrt_sections",
        headers_path: str | None = None,
        untitled: str = "untitled",
        split_sentences: bool = True,
    ) -> None:
        self.name = name
        self.untitled = untitled
        self.split_sentences = split_sentences
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._keys: dict[int, tuple[str, str]] = {}
        for group, table in load_headers(headers_path).items():
            for canonical, variants in table.items():
                key = f"{group}:{canonical}"
                self.matcher.add(key, list(nlp.tokenizer.pipe([v.lower() for v in variants])))  # type: ignore[union-attr]  # spaCy types Language.tokenizer as a callable; it is a Tokenizer
                self._keys[nlp.vocab.strings[key]] = (group, canonical)

    # -- header detection ---------------------------------------------------------------
    @staticmethod
    def _next_token(doc: Doc, end: int) -> Token | None:
        """The token after a header, skipping runs of spaces (but not line breaks)."""
        while end < len(doc) and doc[end].is_space and "\n" not in doc[end].text:
            end += 1
        return doc[end] if end < len(doc) else None

    @staticmethod
    def _starts_line(doc: Doc, start: int, has_sents: bool) -> bool:
        if start == 0 or (has_sents and doc[start].is_sent_start):
            return True
        prev = doc[start - 1]
        return _is_newline(prev) or prev.text.endswith("\n")

    @staticmethod
    def _between_commas(doc: Doc, start: int, end: int, nxt: Token | None, group: str) -> bool:
        """A dictated header the recognizer wrote mid-sentence: "..., family history, family
        history of ...". Counts when a comma or semicolon comes before it, a separator after it,
        and it has at least two words (so a lone "plan," in a list stays prose)."""
        if group == "abbreviations" or start == 0 or nxt is None or nxt.text not in _SEPARATORS:
            return False
        prev = doc[start - 1]
        words = sum(1 for t in doc[start:end] if t.is_alpha)
        return prev.text in (",", ";") and words >= 2

    @staticmethod
    def _after_a_stray_comma(doc: Doc, start: int) -> bool:
        """A header whose line break a transcript wrote as a comma: "... assisted living.  ,MEDICATIONS,1."."""
        i = start - 1
        while i >= 0 and doc[i].is_space and "\n" not in doc[i].text:
            i -= 1
        if i < 0 or doc[i].text != ",":
            return False
        i -= 1
        while i >= 0 and doc[i].is_space and "\n" not in doc[i].text:
            i -= 1
        return i < 0 or _is_newline(doc[i]) or doc[i].text.endswith((".", "\n"))

    def _valid(self, doc: Doc, start: int, end: int, group: str, has_sents: bool) -> bool:
        """Whether the match ``doc[start:end]`` of ``group`` is a header here."""
        span = doc[start:end]
        nxt = self._next_token(doc, end)
        caps = _is_caps(span.text)
        if caps and nxt is not None and nxt.text in (":", "):") and group != "abbreviations":
            return True
        if (
            caps
            and nxt is not None
            and nxt.text in _SEPARATORS
            and group != "abbreviations"
            and self._after_a_stray_comma(doc, start)
        ):
            return True
        if not self._starts_line(doc, start, has_sents):
            return self._between_commas(doc, start, end, nxt, group)
        if group == SOAP:  # a line's first letter with its separator: "S -", "A:"
            return nxt is not None and nxt.text in _ABBREV_SEPARATORS and self._starts_line(doc, start, False)
        if group == "abbreviations":
            return nxt is None or nxt.text in _ABBREV_SEPARATORS or _is_newline(nxt)
        separated = nxt is None or nxt.text in _SEPARATORS or _is_newline(nxt)
        if group == "strict":
            return separated or caps
        words = sum(1 for t in span if t.is_alpha)
        return words >= 2 or separated or caps

    def find_headers(self, doc: Doc) -> list[Header]:
        """Valid, non-overlapping headers in text order (longest match wins)."""
        has_sents = doc.has_annotation("SENT_START")
        cands: list[Header] = []
        for key, start, end in self.matcher(doc):
            group, name = self._keys[key]
            if self._valid(doc, start, end, group, has_sents):
                cands.append(Header(start, end, name, group))
        if len({h.name for h in cands if h.group == SOAP}) < MIN_SOAP_HEADINGS:
            cands = [h for h in cands if h.group != SOAP]
        if any(h.name in OPERATIVE_DIAGNOSES for h in cands):  # an operative report's "Operations:" are its own
            cands = [h._replace(name=PROCEDURE) if doc[h.start : h.end].text.lower() == "operations" else h for h in cands]
        cands.sort(key=lambda h: (h.start - h.end, h.start))
        taken: set[int] = set()
        out: list[Header] = []
        for h in cands:
            if taken.isdisjoint(range(h.start, h.end)):
                taken.update(range(h.start, h.end))
                out.append(h)
        return sorted(out)

    # -- main -----------------------------------------------------------------------------
    def __call__(self, doc: Doc) -> Doc:
        headers = self.find_headers(doc)
        n_chars = len(doc.text)
        sections: list[tuple[int, int, str]] = []
        starts = [doc[h.start].idx for h in headers]
        if headers and doc[: headers[0].start].text.strip():
            sections.append((0, starts[0], self.untitled))
        elif starts:
            starts[0] = 0  # leading whitespace belongs to the first section
        for i, h in enumerate(headers):
            sections.append((starts[i], starts[i + 1] if i + 1 < len(headers) else n_chars, h.name))
        if not headers and n_chars:
            sections.append((0, n_chars, self.untitled))
        doc._.sections = sections
        doc._.section_headers = [(doc[h.start].idx, doc[h.end - 1].idx + len(doc[h.end - 1].text)) for h in headers]

        if self.split_sentences and headers and doc.has_annotation("SENT_START") and not doc.has_annotation("DEP"):
            self._split(doc, headers)

        if headers:  # a heading's words are the heading, not a finding ("IMPRESSION:", "FAMILY HISTORY:")
            doc.ents = [e for e in doc.ents if not any(e.start < h.end and h.start < e.end for h in headers)]
        sec_starts = [s for s, _, _ in sections]
        for ent in doc.ents:
            i = bisect_right(sec_starts, ent.start_char) - 1
            ent._.section = sections[i][2] if i >= 0 else None
        return doc

    @staticmethod
    def _split(doc: Doc, headers: list[Header]) -> None:
        """Start a sentence at each header and at the text after its separator (one array write)."""
        starts = doc.to_array([SENT_START]).astype(np.int64)  # uint64 holds -1 as 2**64-1
        for h in headers:
            starts[h.start] = 1
            i, separated = h.end, False
            while i < len(doc) and (doc[i].is_space or doc[i].text in _SEPARATORS):
                separated = True
                i += 1
            if separated and i < len(doc):
                starts[i] = 1
        starts[starts == 0] = -1  # the sentencizer's "not a start" (0 would mean unknown)
        doc.from_array([SENT_START], starts.astype(np.uint64).reshape(-1, 1))  # type: ignore[arg-type]  # spaCy types it as thinc Ints2d; a 2-d integer array


@Language.factory(
    "mrt_sections",
    default_config={"headers_path": None, "untitled": "untitled", "split_sentences": True},
)
def make_sections(nlp: Language, name: str, headers_path: str | None, untitled: str, split_sentences: bool) -> SectionComponent:
    """spaCy factory for :class:`SectionComponent` (``nlp.add_pipe("mrt_sections")``)."""
    return SectionComponent(nlp, name, headers_path, untitled, split_sentences)
