"""Decode any dictation (audio or video) into 16 kHz mono float32 samples with ffmpeg.

ffmpeg: the system binary when one is on PATH, else the one ``imageio-ffmpeg`` ships.
Every failure is a :class:`~pipeline.errors.MediaError` with a reason a technician can act on;
the source file is only ever read.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import ffmpeg
import numpy as np

from pipeline.errors import MediaError

SAMPLE_RATE = 16_000
AUDIO_EXTENSIONS = frozenset({".wav", ".mp3", ".m4a", ".flac", ".ogg"})
VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".mkv", ".webm"})
MEDIA_EXTENSIONS = AUDIO_EXTENSIONS | VIDEO_EXTENSIONS
# Peak amplitude under which a whole file counts as digital silence (-80 dBFS).
SILENCE_PEAK = 1e-4

_DURATION_RE = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_STREAM_RE = re.compile(r"Stream #\d+:\d+.*?: (Audio|Video):")


@dataclass(frozen=True)
class MediaInfo:
    duration: float | None
    has_audio: bool
    has_video: bool


@dataclass(frozen=True)
class Audio:
    """Decoded dictation audio."""

    samples: np.ndarray  # float32, mono, SAMPLE_RATE
    duration: float
    source: Path
    has_video: bool
    sample_rate: int = SAMPLE_RATE


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary to use."""
    system = shutil.which("ffmpeg")
    if system:
        return system
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def is_media_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in MEDIA_EXTENSIONS and not path.name.startswith(".")


def probe(path: Path) -> MediaInfo:
    """Read container duration and stream kinds from ffmpeg's banner (no ffprobe needed)."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
    )
    err = proc.stderr
    kinds = set(_STREAM_RE.findall(err))
    if not kinds:
        raise MediaError(path, "not_media", "this file is not audio or video that ffmpeg can read (corrupt or mislabeled)")
    m = _DURATION_RE.search(err)
    duration = None
    if m:
        h, mi, s = m.groups()
        duration = int(h) * 3600 + int(mi) * 60 + float(s)
    return MediaInfo(duration=duration, has_audio="Audio" in kinds, has_video="Video" in kinds)


def load_media(
    path: str | Path,
    *,
    max_duration: float = 4 * 3600,
    min_duration: float = 0.2,
    max_bytes: int = 4 * 1024**3,
) -> Audio:
    """Decode ``path`` to 16 kHz mono float32, checking it is usable dictation media."""
    path = Path(path)
    if not path.exists():
        raise MediaError(path, "not_found", "file not found")
    if not path.is_file():
        raise MediaError(path, "not_media", "not a regular file")
    if path.suffix.lower() not in MEDIA_EXTENSIONS:
        supported = ", ".join(sorted(e.lstrip(".") for e in MEDIA_EXTENSIONS))
        raise MediaError(path, "unsupported", f"unsupported file type '{path.suffix}' (supported: {supported})")
    size = path.stat().st_size
    if size == 0:
        raise MediaError(path, "empty", "the file is empty (0 bytes): the recording was not saved or copied")
    if size > max_bytes:
        raise MediaError(path, "too_large", f"the file is {size / 1024**3:.1f} GB, over the {max_bytes / 1024**3:.1f} GB limit")

    info = probe(path)
    if not info.has_audio:
        raise MediaError(path, "no_audio", "the video has no sound track, so there is nothing to transcribe")
    if info.duration is not None and info.duration > max_duration:
        raise MediaError(
            path, "too_long", f"the recording lasts {_hms(info.duration)}, over the {_hms(max_duration)} limit for one dictation"
        )

    try:
        out, _ = (
            ffmpeg.input(str(path))
            .output("pipe:", format="f32le", acodec="pcm_f32le", ac=1, ar=SAMPLE_RATE, t=max_duration + 1)
            .global_args("-nostdin", "-hide_banner", "-loglevel", "error")
            .run(cmd=ffmpeg_exe(), capture_stdout=True, capture_stderr=True)
        )
    except ffmpeg.Error as e:
        detail = (e.stderr or b"").decode(errors="replace").strip().splitlines()
        last = detail[-1] if detail else "unknown ffmpeg error"
        raise MediaError(path, "unreadable", f"the audio could not be decoded (corrupt file): {last}") from None

    samples = np.frombuffer(out, dtype=np.float32).copy()
    duration = samples.size / SAMPLE_RATE
    if duration > max_duration:
        raise MediaError(path, "too_long", f"the recording lasts over {_hms(max_duration)}, the limit for one dictation")
    if duration < min_duration:
        raise MediaError(path, "too_short", f"the recording holds only {duration:.2f} s of audio: empty or cut off")
    if not np.isfinite(samples).all() or float(np.abs(samples).max()) < SILENCE_PEAK:
        raise MediaError(path, "silent", "the recording is silent: no sound was captured")
    return Audio(samples=samples, duration=duration, source=path, has_video=info.has_video)


def _hms(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
