"""Word error rate with Whisper's English text normalizer (numbers, spellings, punctuation)."""

from __future__ import annotations

from functools import lru_cache


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
