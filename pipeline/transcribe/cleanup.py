"""Robustness after decoding: no invented text on silence or noise, no repetition loops.

* Speech regions come from Silero voice-activity detection (the model faster-whisper ships). A
  file with no speech gets no decoding at all: an empty transcript flagged ``no_speech``.
* A segment Whisper itself marks as non-speech (``no_speech_prob`` high and ``avg_logprob`` low,
  Whisper's own rule), or that lies outside every speech region, is dropped.
* Repetition loops ("the patient the patient the patient ...", a sentence over and over) are cut to
  one copy: within a segment, a run of 1-12 words repeated 3 or more times back to back; across
  segments, a segment whose text repeats the previous one twice in a row.
"""

from __future__ import annotations

import re

import numpy as np

from pipeline.transcribe.types import Segment, Word
from pipeline.transcribe.words import with_words

SAMPLE_RATE = 16_000
LOW_PROBABILITY = 0.5  # the review screen marks words under this (pipeline/review/transcript_view.py)
MAX_LOOP_WORDS = 12
MIN_REPEATS = 3
_NORM = re.compile(r"[^a-z0-9]+")


def speech_regions(samples: np.ndarray, min_silence_ms: int = 1000, threshold: float = 0.5) -> list[tuple[float, float]]:
    """(start_s, end_s) of speech, by Silero VAD; empty for silence and steady noise."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    opts = VadOptions(threshold=threshold, min_silence_duration_ms=min_silence_ms, speech_pad_ms=200)
    return [(c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE) for c in get_speech_timestamps(samples, opts)]


def _overlaps(seg: Segment, regions: list[tuple[float, float]]) -> bool:
    return any(seg.start < e + 0.5 and seg.end > s - 0.5 for s, e in regions)


def drop_non_speech(segments: list[Segment], regions: list[tuple[float, float]] | None) -> list[Segment]:
    out = []
    for seg in segments:
        if seg.no_speech_prob is not None and seg.avg_logprob is not None:
            if seg.no_speech_prob > 0.6 and seg.avg_logprob < -1.0:
                continue
        if regions is not None and not _overlaps(seg, regions):
            continue
        if not seg.text.strip():
            continue
        out.append(seg)
    return out


def _key(w: Word) -> str:
    return _NORM.sub("", w.text.lower())


def cut_loops(words: list[Word], min_repeats: int = MIN_REPEATS, max_len: int = MAX_LOOP_WORDS) -> list[Word]:
    """``words`` with every back-to-back repetition (>= min_repeats copies) of a 1..max_len word run cut to one copy."""
    keys = [_key(w) for w in words]
    out: list[Word] = []
    i = 0
    while i < len(words):
        cut = False
        for n in range(1, max_len + 1):
            if i + n * min_repeats > len(words):
                break
            unit = keys[i : i + n]
            if not any(unit):
                continue
            reps = 1
            while keys[i + reps * n : i + (reps + 1) * n] == unit:
                reps += 1
            if reps >= min_repeats:
                out.extend(words[i : i + n])
                i += reps * n
                cut = True
                break
        if not cut:
            out.append(words[i])
            i += 1
    return out


def remove_repetitions(segments: list[Segment]) -> tuple[list[Segment], bool]:
    """Segments with repetition loops cut; and whether anything was cut."""
    out: list[Segment] = []
    removed = False
    repeats = 0
    for seg in segments:
        if seg.words:
            kept = cut_loops(list(seg.words))
            if len(kept) < len(seg.words):
                seg = with_words(seg, kept)
                removed = True
        if out and _NORM.sub("", seg.text.lower()) == _NORM.sub("", out[-1].text.lower()) and seg.text.strip():
            repeats += 1
            if repeats >= 1:  # the same sentence twice in a row from the decoder: keep one
                removed = True
                continue
        else:
            repeats = 0
        out.append(seg)
    return out, removed


def low_confidence(segments: list[Segment], share: float = 0.15) -> bool:
    """Whether many words (more than ``share``) were heard with low probability."""
    probs = [w.probability for s in segments for w in s.words if w.probability is not None]
    return bool(probs) and sum(p < LOW_PROBABILITY for p in probs) / len(probs) > share
