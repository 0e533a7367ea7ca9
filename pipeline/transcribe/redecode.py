"""A second, larger model decodes again only what the first was unsure of (profile ``cpu-combined``).

tiny.en decodes the whole dictation. Its words under ``redecode_max_probability`` and the medical
words it wrote (drug names, doses, units: :func:`pipeline.transcribe.lexicon.medical_spans`, the notion
the benchmark's medical-word WER uses) are marked; marked words less than ``redecode_merge_s`` apart
form one window. A window is widened by up to ``redecode_pad_s`` each side, but never into a word
outside it: windows are cut on word boundaries, from the word timestamps, so each window replaces a
whole run of tiny.en's words. The second model (Whisper base, beam 5) decodes each window's audio on
its own (a window shorter than ``redecode_min_s`` is first widened word by word), with no prompt but
the biasing vocabulary when that is on; its words, offset by the window's start and kept inside the
window, replace tiny.en's words of that window. A window the second model returns nothing for, or
something implausible (a repetition loop, far more words than tiny.en heard there: :func:`plausible`),
keeps tiny.en's words. Decoding is deterministic like the first pass (temperature 0 unless
``MRT_TEMPERATURE_FALLBACK``).

Tried and dropped on sample 01: joining all windows' audio into one clip (as faster-whisper joins VAD
speech) costs fewer encoder passes, but base then put "Metformin" into the window before its own;
prompting each window with tiny.en's words before it made base repeat the prompt in a loop.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from pipeline.settings import Settings
from pipeline.transcribe.audio import Audio
from pipeline.transcribe.cleanup import cut_loops
from pipeline.transcribe.lexicon import medical_spans, normalize
from pipeline.transcribe.types import Segment, Word
from pipeline.transcribe.vocabulary import BiasPrompt
from pipeline.transcribe.words import with_words

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
MAX_WORDS_PER_S = 6.0  # more words than this per second of a window: the second model hallucinated
_SENTENCE_END = (".", "?", "!")
_ATTACHED = tuple("-',.;:%)!?")  # a word starting so is written onto the one before (words.join_words)


@dataclass(frozen=True)
class RedecodeOptions:
    """Which of the first model's words the second model decodes again, and how."""

    model: str  # the second model (base)
    beam_size: int = 5
    max_probability: float = 0.5  # words under it are re-decoded
    medical: bool = True  # medical words are re-decoded whatever their probability
    pad_s: float = 0.5
    merge_s: float = 1.0
    min_s: float = 3.0  # shorter windows are widened word by word
    more_confident: bool = True  # take the second model's words only where it is surer than the first

    @classmethod
    def from_settings(cls, settings: Settings) -> RedecodeOptions | None:
        if not settings.redecode_model:
            return None
        return cls(
            settings.redecode_model,
            settings.redecode_beam_size,
            settings.redecode_max_probability,
            settings.redecode_medical,
            settings.redecode_pad_s,
            settings.redecode_merge_s,
            settings.redecode_min_s,
            settings.redecode_more_confident,
        )

    def model_settings(self, settings: Settings) -> Settings:
        """``settings`` for the second model: its name and beam; no VAD (the windows are speech)."""
        return settings.model_copy(update={"whisper_model": self.model, "beam_size": self.beam_size, "vad_filter": False})


@dataclass(frozen=True)
class Window:
    """Words ``first``..``last`` (inclusive, in the order of all the first model's words) and the audio
    ``start``..``end`` (seconds) the second model decodes in their place."""

    first: int
    last: int
    start: float
    end: float
    replaced: bool = False  # the second model's words took the first's place (see plausible)


def marked_words(words: Sequence[Word], options: RedecodeOptions) -> list[bool]:
    """For each word: whether it is re-decoded (probability under the bar, or a medical word)."""
    marked = [w.probability is not None and w.probability < options.max_probability for w in words]
    if options.medical:
        tokens: list[str] = []
        owner: list[int] = []
        for i, w in enumerate(words):
            for t in normalize(w.text).split():
                tokens.append(t)
                owner.append(i)
        for a, b in medical_spans(tokens):
            for k in range(a, b):
                marked[owner[k]] = True
    return marked


def plan_windows(words: Sequence[Word], duration: float, options: RedecodeOptions) -> list[Window]:
    """The windows the second model decodes: marked words less than ``merge_s`` apart together, a
    window shorter than ``min_s`` widened word by word on both sides (Whisper hallucinates on a
    fraction of a second: "Return in 3 months" came back as a loop), windows that then meet joined;
    each padded by up to ``pad_s`` but cut before the next kept word and after the previous one."""
    runs: list[list[int]] = []
    for i, m in enumerate(marked_words(words, options)):
        if not m:
            continue
        if runs and words[i].start - words[runs[-1][1]].end <= options.merge_s:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    for run in runs:
        a, b = run
        while words[b].end - words[a].start < options.min_s and (a > 0 or b + 1 < len(words)):
            before = words[a].start - words[a - 1].start if a > 0 else float("inf")
            after = words[b + 1].end - words[b].end if b + 1 < len(words) else float("inf")
            if before <= after:
                a -= 1
            else:
                b += 1
        run[:] = [a, b]
    for run in runs:  # never cut between two parts of one written word ("64-year" "-old", "6" ".9%")
        while run[0] > 0 and words[run[0]].text.startswith(_ATTACHED):
            run[0] -= 1
        while run[1] + 1 < len(words) and words[run[1] + 1].text.startswith(_ATTACHED):
            run[1] += 1
    joined: list[list[int]] = []
    for a, b in runs:
        if joined and (a <= joined[-1][1] + 1 or words[a].start - words[joined[-1][1]].end <= options.merge_s):
            joined[-1][1] = max(joined[-1][1], b)
        else:
            joined.append([a, b])
    windows: list[Window] = []
    for a, b in joined:
        lo = words[a - 1].end if a > 0 else 0.0
        hi = words[b + 1].start if b + 1 < len(words) else duration
        start = min(max(words[a].start - options.pad_s, lo, 0.0), words[a].start)
        end = max(min(words[b].end + options.pad_s, hi, duration), words[b].end)
        windows.append(Window(a, b, start, min(end, duration)))
    return windows


def _key(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def trim_repeated_edges(new: list[Word], before: Word | None, after: Word | None) -> list[Word]:
    """``new`` less a first word that spells again the kept word just before the window, and a last word
    that spells again the kept word just after it: the first model's word times are loose, so a window's
    padding can hold a little of its neighbour ("twice per day day")."""
    if new and before is not None and _key(new[0].text) and _key(new[0].text) == _key(before.text):
        new = new[1:]
    if new and after is not None and _key(new[-1].text) and _key(new[-1].text) == _key(after.text):
        new = new[:-1]
    return new


def _mean_log_probability(words: Sequence[Word]) -> float:
    probs = [w.probability for w in words if w.probability is not None]
    return sum(math.log(max(p, 1e-6)) for p in probs) / len(probs) if probs else -math.inf


def plausible(new: Sequence[Word], old: Sequence[Word], window: Window, more_confident: bool = False) -> bool:
    """Whether the second model's words for a window can stand in for the first model's: no repetition
    loop, not far more words than the first model heard there or than anyone says in that time, and
    (``more_confident``) a higher mean word log-probability than the first model's words there."""
    if not new:
        return False
    if len(cut_loops(list(new))) < len(new):
        return False
    if len(new) > 2 * len(old) + 4 or len(new) > MAX_WORDS_PER_S * max(window.end - window.start, 1.0):
        return False
    return not more_confident or _mean_log_probability(new) > _mean_log_probability(old)


def _decode_window(audio: Audio, window: Window, model: Any, settings: Settings, bias: BiasPrompt | None) -> list[Word]:
    """The second model's words for ``window``, in audio time, inside the window and in order."""
    piece = np.ascontiguousarray(audio.samples[int(window.start * SAMPLE_RATE) : int(window.end * SAMPLE_RATE)])
    if len(piece) < SAMPLE_RATE // 10:
        return []
    kwargs: dict[str, Any] = {"speech": [(0.0, len(piece) / SAMPLE_RATE)]} if model.backend == "openai-whisper" else {}
    segs, _ = model.segments(piece, bias, None, settings=settings, **kwargs)
    out: list[Word] = []
    for seg in segs:
        for word in seg.words:
            start = min(max(window.start + word.start, window.start, out[-1].end if out else 0.0), window.end)
            end = min(max(window.start + word.end, start), window.end)
            out.append(replace(word, start=start, end=end))
    return out


def _match_edges(new: list[Word], old: list[Word], before: Word | None) -> list[Word]:
    """The second model's words for a window written as the first's were at the window's edges: a word
    in mid-sentence keeps its lower case, a window that did not end a sentence gets no full stop (the
    second model decodes the window alone and starts and ends it as sentences)."""
    if not new or not old:
        return new
    first, last = new[0], new[-1]
    mid_sentence = before is not None and not before.text.endswith(_SENTENCE_END)
    if mid_sentence and old[0].text[:1].islower() and first.text[:1].isupper() and not first.text[1:2].isupper():
        new = [replace(first, text=first.text[0].lower() + first.text[1:]), *new[1:]]
    if last.text.endswith(".") and not old[-1].text.endswith(_SENTENCE_END) and last.text.rstrip("."):
        new = [*new[:-1], replace(new[-1], text=new[-1].text.rstrip("."))]
    return new


def redecode(
    audio: Audio,
    segments: list[Segment],
    model: Any,
    settings: Settings,
    options: RedecodeOptions,
    bias: BiasPrompt | None = None,
) -> tuple[list[Segment], list[Window]]:
    """``segments`` (the first model's, in audio time) with the words of every window decoded again by
    ``model`` (the second model); and the windows decoded (``replaced`` where its words were taken)."""
    t0 = time.perf_counter()
    owners = [(k, w) for k, seg in enumerate(segments) for w in seg.words]
    words = [w for _, w in owners]
    windows = plan_windows(words, audio.duration, options)
    if not windows:
        return segments, []
    msettings = options.model_settings(settings)
    replacement: dict[int, tuple[Window, list[Word]]] = {}
    for w in windows:
        new = _decode_window(audio, w, model, msettings, bias)
        old = words[w.first : w.last + 1]
        after = words[w.last + 1] if w.last + 1 < len(words) else None
        new = trim_repeated_edges(new, words[w.first - 1] if w.first else None, after)
        if plausible(new, old, w, options.more_confident):  # else the first model's words stay
            replacement[w.first] = (w, _match_edges(new, old, words[w.first - 1] if w.first else None))
        else:
            log.debug("window %.2f-%.2f s: the second model's %d words not taken", w.start, w.end, len(new))
    new_words: list[list[Word]] = [[] for _ in segments]
    i = 0
    while i < len(owners):
        k, word = owners[i]
        if i in replacement:
            w, new = replacement[i]
            new_words[k].extend(new)
            i = w.last + 1
            continue
        new_words[k].append(word)
        i += 1
    out: list[Segment] = []
    for seg, nw in zip(segments, new_words):
        if nw == seg.words:
            out.append(seg)
        elif nw:
            out.append(with_words(seg, nw, start=min(seg.start, nw[0].start), end=max(seg.end, nw[-1].end)))
        # a segment whose words all went to a window that began in an earlier segment is dropped
    out = [replace(s, id=i) if s.id != i else s for i, s in enumerate(out)]
    windows = [replace(w, replaced=w.first in replacement) for w in windows]
    kept = [w for w in windows if w.replaced]
    seconds = sum(w.end - w.start for w in windows)
    log.info(
        "re-decoded %d windows (%.1f of %.1f s of audio) with %s, %d taken: %d of %d words replaced by %d in %.2f s",
        len(windows),
        seconds,
        audio.duration,
        options.model,
        len(kept),
        sum(w.last - w.first + 1 for w in kept),
        len(words),
        sum(len(replacement[w.first][1]) for w in kept),
        time.perf_counter() - t0,
    )
    return out, windows
