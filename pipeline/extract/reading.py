"""What extraction reads when the transcript carries the term corrector's suggestions.

Below its precision bar the term corrector does not rewrite the transcript: a misheard word stays as
heard ("acute calculus colysis status") and carries the lexicon term it may be as a *suggestion*
("cholecystitis"), which the reviewer sees beside it. Extraction reads the suggestion in its place, so
the finding is found and coded, while every entity keeps its offsets, evidence and audio time on the
words as heard and says what it was read as (:attr:`pipeline.extract.types.Entity.read_as`). The
transcript itself is never changed.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pipeline.extract.timing import word_spans
from pipeline.extract.types import Entity

if TYPE_CHECKING:
    from pipeline.code.coder import CodingResult
    from pipeline.code.types import CodeProposal, Evidence, SkippedFinding
from pipeline.transcribe.types import Transcript


@dataclass(frozen=True)
class Replacement:
    heard_start: int  # character span of the words as heard, in the transcript text
    heard_end: int
    read_start: int  # the same span in the reading
    read_end: int
    suggestion: str


@dataclass(frozen=True)
class Reading:
    """The transcript text with each suggested term in place of the words it was suggested for."""

    heard: str
    text: str
    replacements: tuple[Replacement, ...]

    def heard_offset(self, pos: int, end: bool = False) -> int:
        """The transcript offset of reading offset ``pos``; inside a suggestion, the edge of the words
        heard there (their start, or their end when ``end``)."""
        i = bisect_right([r.read_start for r in self.replacements], pos - (1 if end else 0)) - 1
        if i < 0:
            return pos
        r = self.replacements[i]
        if pos < r.read_end or (end and pos == r.read_end):
            return r.heard_end if end else r.heard_start
        return pos - r.read_end + r.heard_end

    def read_offset(self, pos: int) -> int:
        """The reading offset of transcript offset ``pos`` (a position inside heard words that were
        replaced maps to the start of their suggestion)."""
        i = bisect_right([r.heard_start for r in self.replacements], pos) - 1
        if i < 0:
            return pos
        r = self.replacements[i]
        if pos < r.heard_end:
            return r.read_start
        return pos - r.heard_end + r.read_end

    def read_span(self, heard_start: int, heard_end: int) -> tuple[int, int]:
        """The reading span of a transcript span (a word inside replaced words: the whole suggestion)."""
        for r in self.replacements:
            if heard_start < r.heard_end and r.heard_start < heard_end:
                return min(r.read_start, self.read_offset(heard_start)), max(r.read_end, self.read_offset(heard_end - 1) + 1)
        return self.read_offset(heard_start), self.read_offset(heard_end - 1) + 1

    def read_as(self, heard_start: int, heard_end: int) -> str | None:
        """The reading of the transcript span when a suggestion lies inside it; None otherwise."""
        if not any(heard_start < r.heard_end and r.heard_start < heard_end for r in self.replacements):
            return None
        start, end = self.read_span(heard_start, heard_end)
        return self.text[start:end].strip() or None


def _core(token: str) -> tuple[int, int]:
    """The span of ``token`` without punctuation around it ("status," -> "status")."""
    lo = next((i for i, ch in enumerate(token) if ch.isalnum()), len(token))
    hi = next((i for i in range(len(token), 0, -1) if token[i - 1].isalnum()), lo)
    return lo, max(lo, hi)


def suggested_reading(transcript: Transcript) -> Reading | None:
    """The transcript read with its suggestions; None when no word carries one. Consecutive words that
    carry the same suggestion ("colysis" "status" -> cholecystitis) are read as one term."""
    text = transcript.text
    spans: list[tuple[int, int, str]] = []  # (start, end, suggestion) in the transcript text
    last_suggestion: str | None = None
    last_end = -1
    for at, token_end, w in word_spans(transcript):
        lo, hi = _core(text[at:token_end])
        if not w.suggestion or hi <= lo:
            last_suggestion = None
            continue
        if last_suggestion == w.suggestion and spans and spans[-1][1] == last_end and text[last_end : at + lo].strip(" ,") == "":
            spans[-1] = (spans[-1][0], at + hi, w.suggestion)
        else:
            spans.append((at + lo, at + hi, w.suggestion))
        last_suggestion, last_end = w.suggestion, at + hi
    if not spans:
        return None
    parts: list[str] = []
    replacements: list[Replacement] = []
    heard_pos = read_pos = 0
    for start, end, suggestion in spans:
        parts.append(text[heard_pos:start])
        read_pos += start - heard_pos
        parts.append(suggestion)
        replacements.append(Replacement(start, end, read_pos, read_pos + len(suggestion), suggestion))
        read_pos += len(suggestion)
        heard_pos = end
    parts.append(text[heard_pos:])
    return Reading(text, "".join(parts), tuple(replacements))


def heard_entity(entity: Entity, reading: Reading) -> Entity:
    """``entity`` (found in the reading) on the words as heard: its offsets and text in the transcript,
    and ``read_as`` the words it was read as where a suggestion lies inside it."""
    start, end = reading.heard_offset(entity.start), reading.heard_offset(entity.end, end=True)
    heard = reading.heard[start:end]
    if start == entity.start and end == entity.end and heard == entity.text:
        return entity
    return replace(entity, start=start, end=end, text=heard, read_as=entity.text if heard != entity.text else None)


def read_entity(entity: Entity, reading: Reading) -> Entity:
    """``entity`` (on the words as heard) in the reading: what the coder reads, with the reading as its text."""
    if entity.read_as is None:
        start, end = reading.read_offset(entity.start), reading.read_offset(entity.end - 1) + 1
    else:
        start, end = reading.read_span(entity.start, entity.end)
    return replace(entity, start=start, end=end, text=reading.text[start:end], read_as=None)


def heard_result(result: CodingResult, reading: Reading) -> CodingResult:
    """A coding result made on the reading, with every evidence span and skipped finding put back on
    the words as heard."""

    def heard(ev: Evidence) -> Evidence:
        start, end = reading.heard_offset(ev.start), reading.heard_offset(ev.end, end=True)
        return replace(ev, start=start, end=end, text=reading.heard[start:end])

    def proposal(p: CodeProposal) -> CodeProposal:
        from pipeline.code.types import Reason, ReasonKind

        out = replace(p, evidence=[heard(ev) for ev in p.evidence])
        for ev, read in zip(out.evidence, p.evidence, strict=True):
            if ev.text != read.text:
                out = out.because(
                    Reason(
                        ReasonKind.READ_AS_SUGGESTED,
                        (),
                        f'heard as "{ev.text}", read as "{read.text}" (the term corrector\'s suggestion; check the audio)',
                    )
                )
        return out

    def skipped(f: SkippedFinding) -> SkippedFinding:
        start, end = reading.heard_offset(f.start), reading.heard_offset(f.end, end=True)
        return replace(f, start=start, end=end, text=reading.heard[start:end])

    return replace(
        result,
        proposals=[proposal(p) for p in result.proposals],
        skipped=[skipped(f) for f in result.skipped],
        alternatives=[proposal(p) for p in result.alternatives],
    )
