"""Transcription accuracy: WER with Whisper's English text normalizer, the medical-term error rate
over the project's lexicon, and the ``medwer`` package's medical WER (a fixed public term list)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

# the normalizer, the units and what counts as a medical word are the product's own (the re-decoding of
# tiny.en's medical spans uses them too): pipeline/transcribe/lexicon.py
from pipeline.transcribe.lexicon import (  # noqa: F401  (re-exported)
    UNIT_TOKENS,
    UNIT_WORDS,
    medical_spans,
    medical_word_entries,
    normalize,
)


def word_error_rate(reference: str, hypothesis: str) -> float:
    import jiwer

    ref, hyp = normalize(reference), normalize(hypothesis)
    if not ref.strip():
        return 0.0 if not hyp.strip() else 1.0
    return jiwer.wer(ref, hyp)


@lru_cache(maxsize=1)
def scored_terms() -> frozenset[str]:
    """Lexicon terms the medical-term error rate counts, in normalized spelling (lower case, no
    punctuation, hyphens as spaces), less the extraction lexicon's blocked everyday words."""
    from pipeline.transcribe.lexicon import read_lexicon_terms

    blocked_file = resources.files("pipeline.extract") / "data" / "blocked_terms.txt"
    blocked = {
        line.strip().lower()
        for line in blocked_file.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    out = set()
    for term in read_lexicon_terms():
        t = " ".join(re.sub(r"[^a-z0-9' ]", " ", term.replace("-", " ")).split())
        if t and t not in blocked and not t.isdigit():
            out.add(t)
    return frozenset(out)


@dataclass(frozen=True)
class TermScore:
    terms: int  # lexicon term occurrences in the reference
    wrong: int  # of those, missing or misspelled in the hypothesis
    missed: tuple[str, ...] = ()

    @property
    def rate(self) -> float | None:
        return self.wrong / self.terms if self.terms else None


def medical_term_errors(reference: str, hypothesis: str) -> TermScore:
    """Lexicon terms of the reference (greedy longest match, normalized words) whose words are not
    all aligned to identical words of the hypothesis (Levenshtein alignment)."""
    import jiwer

    from pipeline.transcribe.lexicon import find_terms

    ref_words, hyp_words = normalize(reference).split(), normalize(hypothesis).split()
    terms = find_terms(ref_words, scored_terms())
    if not terms:
        return TermScore(0, 0)
    ok = [False] * len(ref_words)
    if hyp_words:
        out = jiwer.process_words(" ".join(ref_words), " ".join(hyp_words))
        for chunk in out.alignments[0]:
            if chunk.type == "equal":
                for i in range(chunk.ref_start_idx, chunk.ref_end_idx):
                    ok[i] = True
    missed = tuple(t for s, e, t in terms if not all(ok[s:e]))
    return TermScore(len(terms), len(missed), missed)


@lru_cache(maxsize=1)
def _medwer_scorer():
    try:
        from medwer import Scorer
    except ImportError as e:  # pragma: no cover - medwer is a dependency
        raise RuntimeError("the medwer package is not installed (pip install medwer)") from e
    return Scorer()


def medwer_scores(references: list[str], hypotheses: list[str]) -> dict:
    """``medwer``'s corpus scores: {"wer", "medical_wer", "utts", "ref_words", "med_ref_words"}."""
    return _medwer_scorer().corpus(references, hypotheses)


def keep_medical_words(norm_text: str) -> list[str]:
    """The medical words of normalized text: terms (greedy longest match, one token per term), units,
    and doses (a number right before a unit)."""
    toks = norm_text.split()
    return ["_".join(toks[a:b]) for a, b in medical_spans(toks)]


@dataclass(frozen=True)
class WordCounts:
    """Edits and reference words for a file: all words, and medical words only."""

    edits: int
    words: int
    substitutions: int
    deletions: int
    insertions: int
    medical_edits: int
    medical_words: int

    def __add__(self, other: WordCounts) -> WordCounts:
        return WordCounts(*(a + b for a, b in zip(self.astuple(), other.astuple())))

    def astuple(self) -> tuple[int, ...]:
        return (
            self.edits,
            self.words,
            self.substitutions,
            self.deletions,
            self.insertions,
            self.medical_edits,
            self.medical_words,
        )

    @property
    def wer(self) -> float | None:
        return self.edits / self.words if self.words else None

    @property
    def medical_wer(self) -> float | None:
        return self.medical_edits / self.medical_words if self.medical_words else None


ZERO = WordCounts(0, 0, 0, 0, 0, 0, 0)


def word_counts(reference: str, hypothesis: str) -> WordCounts:
    """WER and medical-word WER counts (doses, units and drug names are medical words)."""
    import jiwer
    from medwer import wer as edit_distance

    ref, hyp = normalize(reference), normalize(hypothesis)
    n = len(ref.split())
    if not hyp.strip():
        s, d, i = 0, n, 0
    elif not n:
        s, d, i = 0, 0, len(hyp.split())
    else:
        m = jiwer.process_words(ref, hyp)
        s, d, i = m.substitutions, m.deletions, m.insertions
    rm, hm = keep_medical_words(ref), keep_medical_words(hyp)
    me, mn, _ = edit_distance(" ".join(rm), " ".join(hm))
    return WordCounts(s + d + i, n, s, d, i, me, mn)
