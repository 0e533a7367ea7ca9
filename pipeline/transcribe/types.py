"""Typed results of transcription."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float | None = None
    # Set on a word that term correction wrote: what Whisper heard ("met for men") and how sure
    # the correction is (0-1). The review screen shows both.
    original: str | None = None
    correction_confidence: float | None = None
    # Set instead when the term corrector is not precise enough to rewrite (see correction.py): the
    # word stays as heard and the reviewer sees the lexicon term it may be.
    suggestion: str | None = None


@dataclass(frozen=True)
class Correction:
    """One lexicon correction: ``heard`` (Whisper's words) became ``term`` in segment ``segment``."""

    segment: int
    start: float
    end: float
    heard: str
    term: str
    label: str
    confidence: float
    applied: bool = True  # False: a suggestion shown to the reviewer, the transcript keeps what was heard


@dataclass(frozen=True)
class SectionMark:
    """A dictated section header ("history of present illness") found in the transcript text."""

    name: str  # canonical name from pipeline/extract/data/section_headers.json
    start_char: int
    audio_start: float


@dataclass(frozen=True)
class Segment:
    id: int
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    paragraph: bool = False  # a dictated "new paragraph"/"next section"/header starts this segment


@dataclass(frozen=True)
class Transcript:
    """What a Whisper backend heard in one dictation.

    ``text`` is the segments' texts joined by single spaces (a blank line before a segment that
    starts a paragraph), so a character offset in ``text`` maps back to a segment (and its words)
    through :meth:`segment_spans`. ``flags``: ``no_speech`` (nothing was said: empty transcript),
    ``repetition_removed``, ``low_confidence`` (many words under the review screen's probability mark).
    """

    text: str
    segments: list[Segment]
    language: str
    model: str
    backend: str
    duration: float
    processing_seconds: float = 0.0
    flags: list[str] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)
    sections: list[SectionMark] = field(default_factory=list)
    bias_terms: list[str] = field(default_factory=list)  # the vocabulary Whisper was prompted with
    # audio windows (start, end seconds) whose words a second model decoded again and replaced (cpu-combined; redecode.py)
    redecoded: list[tuple[float, float]] = field(default_factory=list)

    @classmethod
    def from_segments(cls, segments: list[Segment], **kw) -> Transcript:
        parts: list[str] = []
        for s in segments:
            t = s.text.strip()
            if t:
                parts.append(("\n\n" if s.paragraph and parts else " " if parts else "") + t)
        return cls(text="".join(parts), segments=segments, **kw)

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
    def from_dict(cls, d: dict) -> Transcript:
        segs = [Segment(**{**s, "words": [Word(**w) for w in s.get("words", [])]}) for s in d.get("segments", [])]
        corrections = [Correction(**c) for c in d.get("corrections", [])]
        sections = [SectionMark(**m) for m in d.get("sections", [])]
        redecoded = [(float(a), float(b)) for a, b in d.get("redecoded", [])]
        return cls(**{**d, "segments": segs, "corrections": corrections, "sections": sections, "redecoded": redecoded})
