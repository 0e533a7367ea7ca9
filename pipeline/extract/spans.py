"""Marking phrases as entities over what other components found."""

from __future__ import annotations

import re
from collections.abc import Sequence

from spacy.tokens import Doc, Span
from spacy.util import filter_spans


def take_over(doc: Doc, spans: Sequence[Span]) -> None:
    """Set ``spans`` as entities of ``doc``: an entity another component found over the same words
    yields to them ("asbestos" as a chemical inside "exposure to asbestos"), and of overlapping
    ``spans`` the longest wins."""
    if spans:
        kept = [e for e in doc.ents if not any(e.start < s.end and s.start < e.end for s in spans)]
        doc.ents = filter_spans(list(spans) + kept)


def phrase_span(doc: Doc, m: re.Match[str], label: str, source: str, normalized: str | None = None) -> Span | None:
    """The span over a phrase a component's pattern matched in ``doc.text`` (widened to whole tokens),
    labelled, tagged with the component (``Span._.source``) and, where given, the words it is looked up
    by (``Span._.normalized_form``); None where no tokens hold it."""
    span = doc.char_span(m.start(), m.end(), label=label, alignment_mode="expand")
    if span is not None:
        span._.source = source
        if normalized is not None:
            span._.normalized_form = normalized
    return span
