"""Marking phrases as entities over what other components found."""

from __future__ import annotations

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
