"""Rough English spelling-to-sound keys, for matching what a recognizer wrote to what was said.

``sound_key`` folds spellings of one sound ("ph"/"f", "c"/"k"/"s", doubled letters) and is used
by extraction's suffix speller; ``skeleton_key`` goes further (no vowels after the first letter,
voiced and voiceless consonants merged), which is how "listen April" comes near "lisinopril".
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz

_PHONETIC = [
    (re.compile(r"^pn"), "n"),
    (re.compile(r"^ps"), "s"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"ch"), "k"),
    (re.compile(r"c(?=[eiy])"), "s"),
    (re.compile(r"c"), "k"),
    (re.compile(r"y"), "i"),
    (re.compile(r"(ae|oe)"), "e"),
    (re.compile(r"(.)\1+"), r"\1"),
]
_VOICING = str.maketrans({"d": "t", "b": "p", "g": "k", "v": "f", "z": "s", "q": "k", "x": "s"})
_NON_LETTERS = re.compile(r"[^a-z]")
_VOWELS_AFTER_FIRST = re.compile(r"(?<=.)[aeiouhw]")
_REPEATS = re.compile(r"(.)\1+")


def sound_key(word: str) -> str:
    """A rough English spelling-to-sound key: "cholecystitis" and "colesistitis" share one."""
    key = word.lower()
    for pattern, repl in _PHONETIC:
        key = pattern.sub(repl, key)
    return key


def skeleton_key(text: str) -> str:
    """Consonant skeleton of ``text`` (spaces ignored): "listen April" and "lisinopril" -> "lstnprl"/"lsnprl"."""
    key = sound_key(_NON_LETTERS.sub("", text.lower()))
    key = key.translate(_VOICING)
    key = _VOWELS_AFTER_FIRST.sub("", key)
    return _REPEATS.sub(r"\1", key)


def sound_similarity(heard: str, term: str) -> float:
    """0-100: how alike two strings sound (mean of the sound-key and skeleton ratios)."""
    a = sound_key(_NON_LETTERS.sub("", heard.lower()))
    b = sound_key(_NON_LETTERS.sub("", term.lower()))
    return 0.5 * fuzz.ratio(a, b) + 0.5 * fuzz.ratio(skeleton_key(heard), skeleton_key(term))
