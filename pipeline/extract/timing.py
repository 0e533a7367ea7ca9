"""Audio time for text: map character spans of a transcript back to Whisper word times.

``mrt_audio_time`` reads ``doc._.word_times`` (set by :func:`word_times` before the pipeline
runs) and stamps every entity with ``audio_start``/``audio_end`` and its lowest word probability.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator

from spacy.language import Language
from spacy.tokens import Doc

from pipeline.extract import _extensions  # noqa: F401
from pipeline.transcribe.types import Transcript, Word

WordTime = tuple[int, int, float, float, float | None]


def word_spans(transcript: Transcript) -> Iterator[tuple[int, int, Word]]:
    """(start_char, end_char, word) for every timed word found in ``transcript.text``, in order."""
    text = transcript.text
    for seg_start, seg_end, seg in transcript.segment_spans():
        pos = seg_start
        for w in seg.words:
            token = w.text.strip()
            if not token:
                continue
            at = text.find(token, pos, seg_end)
            if at < 0:
                continue
            yield at, at + len(token), w
            pos = at + len(token)


def word_times(transcript: Transcript) -> list[WordTime]:
    """(start_char, end_char, start_s, end_s, probability) for every word in ``transcript.text``.

    Segments without word timings contribute one entry spanning the whole segment.
    """
    untimed = [(start, end, seg.start, seg.end, None) for start, end, seg in transcript.segment_spans() if not seg.words]
    timed = [(start, end, w.start, w.end, w.probability) for start, end, w in word_spans(transcript)]
    return sorted(untimed + timed, key=lambda t: t[0])


@Language.factory("mrt_audio_time")
def make_audio_time(nlp: Language, name: str) -> AudioTimeStamper:
    return AudioTimeStamper()


class AudioTimeStamper:
    def __call__(self, doc: Doc) -> Doc:
        times: list[WordTime] | None = doc._.word_times
        if not times:
            return doc
        starts = [t[0] for t in times]
        ends = [t[1] for t in times]
        for ent in doc.ents:
            lo = bisect_right(ends, ent.start_char)  # first word ending after the entity starts
            hi = bisect_left(starts, ent.end_char)  # words starting before the entity ends
            hits = times[lo:hi]
            if not hits:
                continue
            ent._.audio_start = round(hits[0][2], 2)
            ent._.audio_end = round(hits[-1][3], 2)
            probs = [h[4] for h in hits if h[4] is not None]
            ent._.word_prob = round(min(probs), 3) if probs else None
        return doc
