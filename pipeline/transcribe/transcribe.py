"""One interface over the Whisper backends; models load once per process."""

from __future__ import annotations

import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from pipeline.settings import Settings, get_settings
from pipeline.transcribe.audio import Audio, load_media
from pipeline.transcribe.types import Segment, Transcript

BACKENDS = ("faster-whisper", "openai-whisper")


class Transcriber(Protocol):
    backend: str
    model_id: str

    def segments(self, samples) -> tuple[list[Segment], str]: ...


_lock = threading.Lock()


@lru_cache(maxsize=4)
def _load(backend: str, settings: Settings) -> Transcriber:
    if backend == "faster-whisper":
        from pipeline.transcribe.faster import FasterWhisperTranscriber

        return FasterWhisperTranscriber(settings)
    if backend == "openai-whisper":
        from pipeline.transcribe.openai_whisper import OpenAIWhisperTranscriber

        return OpenAIWhisperTranscriber(settings)
    raise ValueError(f"unknown transcription backend {backend!r}; choose one of {', '.join(BACKENDS)}")


def get_transcriber(settings: Settings | None = None, backend: str | None = None) -> Transcriber:
    """The process-wide model for these settings (loaded on first use)."""
    settings = settings or get_settings()
    with _lock:
        return _load(backend or settings.transcribe_backend, settings)


def transcribe_audio(audio: Audio, settings: Settings | None = None, backend: str | None = None) -> Transcript:
    settings = settings or get_settings()
    model = get_transcriber(settings, backend)
    t0 = time.perf_counter()
    segments, language = model.segments(audio.samples)
    return Transcript.from_segments(
        segments,
        language=language,
        model=model.model_id,
        backend=model.backend,
        duration=audio.duration,
        processing_seconds=time.perf_counter() - t0,
    )


def transcribe_file(path: str | Path, settings: Settings | None = None, backend: str | None = None) -> Transcript:
    settings = settings or get_settings()
    audio = load_media(
        path,
        max_duration=settings.max_duration_s,
        min_duration=settings.min_duration_s,
        max_bytes=settings.max_file_bytes,
    )
    return transcribe_audio(audio, settings, backend)
