"""Transcription accuracy: WER with Whisper's English text normalizer, the medical-term error rate
over the project's lexicon, and the ``medwer`` package's medical WER (a fixed public term list)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def _normalizer():
    from whisper.normalizers import EnglishTextNormalizer

    return EnglishTextNormalizer()


def normalize(text: str) -> str:
    return _normalizer()(text)


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
    blocked = {l.strip().lower() for l in blocked_file.read_text(encoding="utf-8").splitlines() if l.strip() and not l.startswith("#")}
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
