"""The record screen's transcript runs: low-confidence and corrected words are marked."""

from __future__ import annotations

from dataclasses import asdict

from pipeline.review.transcript_view import build_view
from pipeline.transcribe.types import Word


def test_low_probability_and_corrected_words_are_marked():
    text = "Started metformin today. Mild cough."
    words = [
        Word(0.0, 0.5, "Started", 0.95),
        Word(0.5, 1.2, "metformin", 0.9, original="met for men", correction_confidence=0.82),
        Word(1.2, 1.5, "today.", 0.3),
    ]
    segments = [
        {"start": 0.0, "end": 1.5, "text": "Started metformin today.", "words": [asdict(w) for w in words]},
        {
            "start": 1.5,
            "end": 2.5,
            "text": "Mild cough.",
            "words": [asdict(Word(1.5, 2.0, "Mild", 0.99)), asdict(Word(2.0, 2.5, "cough.", 0.99))],
        },
    ]
    view = build_view(text, segments, [])
    runs = {r.text.strip(): r for seg in view for r in seg.runs}
    assert runs["metformin"].heard == "met for men" and runs["metformin"].heard_confidence == 0.82
    assert runs["today."].low and not runs["today."].heard
    assert not any(r.low or r.heard for r in view[1].runs)


def test_flagged_term_shows_its_suggestion_and_keeps_what_was_heard():
    """Below the corrector's precision bar the word stays as heard and carries the suggested term."""
    text = "Started met formin today."
    words = [
        Word(0.0, 0.5, "Started", 0.95),
        Word(0.5, 0.8, "met", 0.4, suggestion="metformin", correction_confidence=0.7),
        Word(0.8, 1.2, "formin", 0.4, suggestion="metformin", correction_confidence=0.7),
        Word(1.2, 1.5, "today.", 0.9),
    ]
    view = build_view(text, [{"start": 0.0, "end": 1.5, "text": text, "words": [asdict(w) for w in words]}], [])
    flagged = [r for seg in view for r in seg.runs if r.suggestion]
    assert " ".join(r.text.strip() for r in flagged) == "met formin"
    assert all(r.suggestion == "metformin" and not r.heard for r in flagged)
