"""Fingerprints of each transcription stage, for finding where two CPUs stop hearing the same words.

``mrt bench transcript-stages`` runs the product's transcription of each sample (its settings, its
sidecar's vocabulary) and prints, per file, the first 12 hex digits of a SHA-256 of what each stage
hands to the next:

* ``audio``: the decoded 16 kHz samples (ffmpeg);
* ``vad``: the speech timestamps of faster-whisper's Silero VAD (ONNX Runtime);
* ``features``: the log-Mel spectrogram of the first 30 s window (:mod:`pipeline.transcribe.features`);
* ``encoder``: CTranslate2's encoder output for that window (oneDNN: the convolutions, the float and
  int8 matrix products);
* ``transcript``: the stored transcript text (what ``mrt export`` gives; docs/benchmarks.md lists the
  samples' fingerprints).

Two machines that print the same row up to a stage and differ from it on have found the stage whose
kernels differ. The first lines give what decides those kernels: the CPU's vendor, model and cache
sizes, and the pinned variables (:mod:`pipeline.transcribe.cpu_kernels`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.settings import Settings

WINDOW_SAMPLES = 30 * 16000
ENCODER_FRAMES = 3000


@dataclass(frozen=True)
class StageFingerprints:
    name: str
    audio: str
    vad: str
    features: str
    encoder: str
    transcript: str


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def cpu_description(cpuinfo: Path = Path("/proc/cpuinfo")) -> dict[str, str]:
    """Vendor, family, model, model name and cache sizes (Linux; empty where unreadable)."""
    out: dict[str, str] = {}
    try:
        lines = cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        key, _, value = line.partition(":")
        key = key.strip()
        if key in ("vendor_id", "cpu family", "model", "model name") and key not in out:
            out[key] = value.strip()
    caches = Path("/sys/devices/system/cpu/cpu0/cache")
    for index in sorted(caches.glob("index*")):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            out[f"L{level} {kind.lower()}"] = (index / "size").read_text().strip()
        except OSError:
            continue
    return out


def stage_fingerprints(item, model, settings: Settings) -> StageFingerprints:
    """The fingerprints of one dataset item (:class:`mrt_eval.transcribe.benchmark.Item`) transcribed
    with a loaded faster-whisper ``model`` (:class:`pipeline.transcribe.faster.FasterWhisperTranscriber`)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    from pipeline.transcribe.transcribe import transcribe_audio

    samples = np.ascontiguousarray(item.audio.samples, dtype=np.float32)
    whisper = model._model  # the WhisperModel it owns
    speech = get_speech_timestamps(samples, VadOptions())
    features = whisper.feature_extractor(samples[:WINDOW_SAMPLES])
    window = np.zeros((features.shape[0], ENCODER_FRAMES), dtype=np.float32)
    frames = min(ENCODER_FRAMES, features.shape[1])
    window[:, :frames] = features[:, :frames]
    encoded = np.asarray(whisper.encode(window))
    transcript = transcribe_audio(item.audio, model, settings, item.context)
    return StageFingerprints(
        item.name,
        fingerprint(samples.tobytes()),
        fingerprint(repr([(s["start"], s["end"]) for s in speech]).encode()),
        fingerprint(np.ascontiguousarray(features).tobytes()),
        fingerprint(np.ascontiguousarray(encoded).tobytes()),
        fingerprint(transcript.text.encode("utf-8")),
    )


PINNED = ("CT2_USE_MKL", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "CT2_FORCE_CPU_ISA")


def pinned_variables() -> dict[str, str]:
    """The kernel variables as this process has them (after a model load has pinned them)."""
    return {k: os.environ[k] for k in PINNED if k in os.environ}
