"""The transcript as the record screen shows it: segments of runs of text, each run
carrying the entity it belongs to and whether its words were heard with low confidence.

Runs never nest, so entity highlights, low-confidence marks and evidence highlights can
overlap freely; the template escapes every run's text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LOW_PROBABILITY = 0.5


@dataclass(frozen=True)
class Run:
    start: int  # character offsets in the transcript text
    end: int
    text: str
    entity: int | None = None  # index into the record's entities
    low: bool = False
    first_of_entity: bool = False
    heard: str | None = None  # what Whisper wrote where term correction changed the words
    heard_confidence: float | None = None
    suggestion: str | None = None  # the lexicon term the corrector proposes where it may not rewrite


@dataclass(frozen=True)
class SegmentView:
    index: int
    start_s: float
    end_s: float
    runs: list[Run] = field(default_factory=list)


def _word_offsets(text: str, seg_start: int, seg_end: int, words: list[dict]) -> list[tuple[int, int, dict]]:
    """Character span of each word inside its segment (words are matched in order)."""
    out = []
    cursor = seg_start
    for w in words:
        token = (w.get("text") or w.get("word") or "").strip()
        if not token:
            continue
        pos = text.find(token, cursor, seg_end)
        if pos < 0:
            continue
        out.append((pos, pos + len(token), w))
        cursor = pos + len(token)
    return out


def build_view(text: str, segments: list[dict], entities: list) -> list[SegmentView]:
    """``entities`` are objects with ``start``/``end`` character offsets (e.g. EntityRecord)."""
    views = []
    cursor = 0
    for i, seg in enumerate(segments):
        seg_text = (seg.get("text") or "").strip()
        if not seg_text:
            continue
        seg_start = text.find(seg_text, cursor)
        if seg_start < 0:
            continue
        seg_end = seg_start + len(seg_text)
        cursor = seg_end
        owner: list[int | None] = [None] * (seg_end - seg_start)
        low = [False] * (seg_end - seg_start)
        heard: list[tuple[str, float | None] | None] = [None] * (seg_end - seg_start)
        suggested: list[str | None] = [None] * (seg_end - seg_start)
        for k, e in enumerate(entities):
            for c in range(max(e.start, seg_start), min(e.end, seg_end)):
                if owner[c - seg_start] is None:
                    owner[c - seg_start] = k
        for ws, we, w in _word_offsets(text, seg_start, seg_end, seg.get("words") or []):
            p = w.get("probability")
            for c in range(ws, we):
                if p is not None and p < LOW_PROBABILITY:
                    low[c - seg_start] = True
                if w.get("original"):
                    heard[c - seg_start] = (w["original"], w.get("correction_confidence"))
                if w.get("suggestion"):
                    suggested[c - seg_start] = w["suggestion"]
        runs: list[Run] = []
        run_start = seg_start
        seen: set[int] = set()
        for c in range(seg_start, seg_end + 1):
            i0 = run_start - seg_start
            boundary = c == seg_end or (
                owner[c - seg_start],
                low[c - seg_start],
                heard[c - seg_start],
                suggested[c - seg_start],
            ) != (owner[i0], low[i0], heard[i0], suggested[i0])
            if boundary and c > run_start:
                ent = owner[i0]
                h = heard[i0]
                runs.append(
                    Run(
                        run_start,
                        c,
                        text[run_start:c],
                        ent,
                        low[i0],
                        ent is not None and ent not in seen,
                        h[0] if h else None,
                        h[1] if h else None,
                        suggested[i0],
                    )
                )
                if ent is not None:
                    seen.add(ent)
                run_start = c
        views.append(SegmentView(i, float(seg.get("start") or 0.0), float(seg.get("end") or 0.0), runs))
    return views


def span_evidence(text: str, segments: list[dict], start: int, end: int) -> dict:
    """The transcript words between character offsets ``start`` and ``end`` as a code's evidence
    (the shape of :class:`pipeline.code.types.Evidence`), with the audio time of their first and last
    word where Whisper timed them (else the segment's). Raises ``ValueError`` for a span that is not
    inside the transcript or holds no words."""
    if not (0 <= start < end <= len(text)):
        raise ValueError(f"the highlighted span {start}-{end} is not inside the transcript")
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end:
        raise ValueError("the highlighted span holds no words")
    audio_start = audio_end = None
    cursor = 0
    for seg in segments:
        seg_text = (seg.get("text") or "").strip()
        seg_start = text.find(seg_text, cursor) if seg_text else -1
        if seg_start < 0:
            continue
        seg_end = seg_start + len(seg_text)
        cursor = seg_end
        if seg_end <= start or seg_start >= end:
            continue
        timed = [
            (ws, we, w)
            for ws, we, w in _word_offsets(text, seg_start, seg_end, seg.get("words") or [])
            if ws < end and we > start
        ]
        first = timed[0][2].get("start") if timed else None
        last = timed[-1][2].get("end") if timed else None
        if audio_start is None:
            audio_start = float(first if first is not None else seg.get("start") or 0.0)
        audio_end = float(last if last is not None else seg.get("end") or 0.0)
    return {
        "start": start,
        "end": end,
        "text": text[start:end],
        "audio_start": round(audio_start, 2) if audio_start is not None else None,
        "audio_end": round(audio_end, 2) if audio_end is not None else None,
    }
