"""Lexicon-normalized forms for clinical words a recognizer misspelled.

Whisper writes unfamiliar clinical words the way they sound ("colesistitis", "laperoscopic").
Long clinical words carry their meaning in a suffix (-itis, -ectomy, -oscopy ...), so a word
with such a suffix that is not in the lexicon is compared, by normalized edit distance, with
the lexicon's single-word terms of the same suffix; a close match gives the entity its
normalized form (``span._.normalized_form``) while the evidence keeps the words as transcribed.
"""

from __future__ import annotations

from collections import defaultdict

from rapidfuzz import fuzz, process

from pipeline.transcribe.phonetic import sound_key  # the one spelling-to-sound key, shared with transcription

CLINICAL_SUFFIXES = (
    "itis",
    "ectomy",
    "otomy",
    "ostomy",
    "plasty",
    "oscopy",
    "osis",
    "emia",
    "algia",
    "pathy",
    "oma",
    "ectasis",
    "plegia",
    "rrhea",
    "scopic",
)


MODIFIER_MIN_RATIO = 90.0  # modifiers are compared as spelled: one letter off in ten


class SuffixSpeller:
    def __init__(self, terms: dict[str, str], known_words: set[str], min_ratio: float = 95.0, min_length: int = 8):
        """``terms``: single-word lexicon term -> label; ``known_words``: every word of every
        lexicon term, which are spelled right by definition and never corrected."""
        self.terms = terms
        self.known = known_words
        self.min_ratio = min_ratio
        self.min_length = min_length
        # per suffix: sound key -> lexicon word
        self.by_suffix: dict[str, dict[str, str]] = defaultdict(dict)
        for word in terms:
            if (suffix := self.suffix(word)) and len(word) >= min_length - 2:
                self.by_suffix[suffix][sound_key(word)] = word

    @staticmethod
    def suffix(word: str) -> str | None:
        return next((s for s in CLINICAL_SUFFIXES if word.endswith(s)), None)

    def correct(self, word: str) -> tuple[str, str] | None:
        """(lexicon term, label) for a misspelled clinical word, or None."""
        w = word.lower()
        if len(w) < self.min_length or w in self.known or not (suffix := self.suffix(w)):
            return None
        keys = self.by_suffix.get(suffix, {})
        best = process.extractOne(sound_key(w), keys.keys(), scorer=fuzz.ratio, score_cutoff=self.min_ratio)
        if not best:
            return None
        term = keys[best[0]]
        return term, self.terms[term]

    def closest(self, word: str, choices: set[str]) -> str | None:
        """The modifier a misspelled word stands for ("laperoscopic" -> "laparoscopic")."""
        w = word.lower()
        if w in choices:
            return w
        if len(w) < self.min_length or w in self.known:
            return None
        best = process.extractOne(w, choices, scorer=fuzz.ratio, score_cutoff=MODIFIER_MIN_RATIO)
        return best[0] if best else None
