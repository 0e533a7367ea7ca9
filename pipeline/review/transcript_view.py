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


@dataclass(frozen=True)
class SegmentView:
    index: int
    start_s: float
    end_s: float
    runs: list[Run] = field(default_factory=list)


def _word_offsets(text: str, seg_start: int, seg_end: int, words: list[dict]) -> list[tuple[int, int, float | None]]:
    """Character span of each word inside its segment (words are matched in order)."""
    out = []
    cursor = seg_start
    for w in words:
        token = (w.get("word") or "").strip()
        if not token:
            continue
        pos = text.find(token, cursor, seg_end)
        if pos < 0:
            continue
        out.append((pos, pos + len(token), w.get("probability")))
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
        for k, e in enumerate(entities):
            for c in range(max(e.start, seg_start), min(e.end, seg_end)):
                if owner[c - seg_start] is None:
                    owner[c - seg_start] = k
        for ws, we, p in _word_offsets(text, seg_start, seg_end, seg.get("words") or []):
            if p is not None and p < LOW_PROBABILITY:
                for c in range(ws, we):
                    low[c - seg_start] = True
        runs: list[Run] = []
        run_start = seg_start
        seen: set[int] = set()
        for c in range(seg_start, seg_end + 1):
            boundary = c == seg_end or owner[c - seg_start] != owner[run_start - seg_start] or low[c - seg_start] != low[run_start - seg_start]
            if boundary and c > run_start:
                ent = owner[run_start - seg_start]
                runs.append(Run(run_start, c, text[run_start:c], ent, low[run_start - seg_start], ent is not None and ent not in seen))
                if ent is not None:
                    seen.add(ent)
                run_start = c
        views.append(SegmentView(i, float(seg.get("start") or 0.0), float(seg.get("end") or 0.0), runs))
    return views
