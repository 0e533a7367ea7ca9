"""Every custom Doc/Span attribute this package adds, registered in one place.

Import this module (``pipeline.extract`` does) before using the attributes.
"""

from __future__ import annotations

from spacy.tokens import Doc, Span

# Assertion flags set by the ``mrt_context`` component.
SPAN_FLAGS = ("negated", "uncertain", "historical", "hypothetical", "family")

_SPAN_DEFAULTS: dict[str, object] = {
    **{flag: False for flag in SPAN_FLAGS},
    "section": None,  # canonical section name, set by ``mrt_sections``
    "audio_start": None,  # seconds into the dictation, set by ``mrt_audio_time``
    "audio_end": None,
    "context_cues": None,  # list[str]: the trigger phrases that set the flags (for rationale)
    # The lexicon form of an entity: an abbreviation's expansion ("COPD" -> "chronic obstructive
    # ...") or a misspelling's correction. (Not ``long_form``: scispaCy's abbreviation detector
    # owns that name, and span attributes are stored per character span, so they would collide.)
    "normalized_form": None,
    "word_prob": None,  # lowest Whisper word probability inside the entity
    "kb_candidates": None,  # list[tuple[str, float]]: ranked (code, score) pairs, set by ``mrt_linker``
    "abbreviation_senses": None,  # list[str]: long forms of an ambiguous abbreviation left unresolved
    "source": None,  # which recognizer found the span: "ner:<model>", "terminology", "procedure", ...
}

_DOC_DEFAULTS: dict[str, object] = {
    "sections": None,  # list[tuple[int, int, str]]: (start_char, end_char, canonical name)
    "section_headers": None,  # list[tuple[int, int]]: each section heading's own characters (start_char, end_char)
    "word_times": None,  # list[tuple[int, int, float, float, float | None]]: char span, audio start/end, prob
}


def register() -> None:
    for name, default in _SPAN_DEFAULTS.items():
        if not Span.has_extension(name):
            Span.set_extension(name, default=default)
    for name, default in _DOC_DEFAULTS.items():
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=default)


register()
