"""Rewriting a segment's words while keeping its text and word list in step.

After correction, cleanup or dictation commands change words, a segment's text is rebuilt from its
words so that every word is still found, in order, in the text (evidence -> audio time relies on it).
"""

from __future__ import annotations

from dataclasses import replace

from pipeline.transcribe.types import Segment, Word

_NO_SPACE_BEFORE = tuple("-',.;:%)!?")


def join_words(texts: list[str]) -> str:
    """Words joined as Whisper writes them: no space before "-sabin", "'s", punctuation."""
    out = ""
    for t in texts:
        t = t.strip()
        if not t:
            continue
        out += t if (not out or t.startswith(_NO_SPACE_BEFORE) or out.endswith("\n")) else " " + t
    return out


def with_words(seg: Segment, words: list[Word], **changes) -> Segment:
    """``seg`` with new words and the text rebuilt from them."""
    return replace(seg, words=words, text=join_words([w.text for w in words]), **changes)
