"""Typed results of transcription."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float | None = None


@dataclass(frozen=True)
class Segment:
    id: int
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    avg_logprob: float | None = None
    no_speech_prob: float | None = None


@dataclass(frozen=True)
class Transcript:
    """What a Whisper backend heard in one dictation.

    ``text`` is the segments' texts joined by single spaces, so a character offset in
    ``text`` maps back to a segment (and its words) through :meth:`segment_spans`.
    """

    text: str
    segments: list[Segment]
    language: str
    model: str
    backend: str
    duration: float
    processing_seconds: float = 0.0

    @classmethod
    def from_segments(cls, segments: list[Segment], **kw) -> "Transcript":
        text = " ".join(s.text.strip() for s in segments if s.text.strip())
        return cls(text=text, segments=segments, **kw)

    @property
    def real_time_factor(self) -> float:
        return self.processing_seconds / self.duration if self.duration else 0.0

    def segment_spans(self) -> list[tuple[int, int, Segment]]:
        """(start_char, end_char, segment) for each non-empty segment in ``text``."""
        spans, pos = [], 0
        for seg in self.segments:
            t = seg.text.strip()
            if not t:
                continue
            start = self.text.find(t, pos)
            if start < 0:  # defensive: text was built differently
                continue
            spans.append((start, start + len(t), seg))
            pos = start + len(t)
        return spans

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Transcript":
        segs = [
            Segment(**{**s, "words": [Word(**w) for w in s.get("words", [])]}) for s in d.get("segments", [])
        ]
        return cls(**{**d, "segments": segs})
