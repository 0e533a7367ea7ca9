"""Decode any dictation (audio or video) into 16 kHz mono float32 samples with ffmpeg.

ffmpeg: the system binary when one is on PATH, else the one ``imageio-ffmpeg`` ships.
Every failure is a :class:`~pipeline.errors.MediaError` with a reason a technician can act on;
the source file is only ever read.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
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


def is_hidden_name(name: str) -> bool:
    """A hidden file (``.name``, ``.name.wav``): a copy in progress or a tool's own file.

    A name that is only dots before its media extension (``..wav``) is not hidden: it is a
    dictation with an odd name, processed (or refused) like any other, never silently skipped.
    """
    stem = name[:-5] if name.lower().endswith(".json") else name  # a sidecar: NAME.wav.json, NAME.json
    suffix = Path(stem).suffix
    if suffix.lower() in MEDIA_EXTENSIONS:
        stem = stem[: -len(suffix)]
    return stem.startswith(".") and stem.strip(".") != ""


def is_media_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in MEDIA_EXTENSIONS and not is_hidden_name(path.name)


@contextlib.contextmanager
def ffmpeg_input(path: str | Path) -> Iterator[str]:
    """The argument that names ``path`` to ffmpeg: ``file:`` and the absolute, resolved path of a
    regular file, so no name (``concat:a.wav|b.wav``, ``http:...``, ``-i``) is read as a protocol or
    an option. A name that is not UTF-8 is handed over as a hard link (or a copy) with a plain name
    in a private temporary folder; the original is only read."""
    p = Path(path)
    try:
        real = p.resolve(strict=True)
    except (OSError, RuntimeError):
        raise MediaError(p, "not_found", "file not found") from None
    if not real.is_file():
        raise MediaError(p, "not_media", "not a regular file")
    try:
        str(real).encode("utf-8")
    except UnicodeEncodeError:
        with tempfile.TemporaryDirectory(prefix="mrt-media-") as tmp:
            plain = Path(tmp) / ("media" + "".join(c for c in real.suffix if c.isascii() and c.isalnum() or c == "."))
            try:
                os.link(real, plain)
            except OSError:  # another file system, or links not allowed: a private copy
                shutil.copyfile(real, plain)
            yield "file:" + str(plain)
        return
    yield "file:" + str(real)


def probe(path: Path, source: str | None = None) -> MediaInfo:
    """Read container duration and stream kinds from ffmpeg's banner (no ffprobe needed).
    ``source``: the ffmpeg argument for ``path`` (:func:`ffmpeg_input`), when already made."""
    if source is None:
        with ffmpeg_input(path) as arg:
            return probe(path, arg)
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", source],
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
    """Decode ``path`` to 16 kHz mono float32, checking it is usable dictation media.

    ffmpeg only ever sees ``file:`` and the absolute path of a regular file (:func:`ffmpeg_input`)."""
    path = Path(path)
    if not (path.exists() or path.is_symlink()):
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

    with ffmpeg_input(path) as source:
        return _decode(path, source, max_duration=max_duration, min_duration=min_duration)


def _decode(path: Path, source: str, *, max_duration: float, min_duration: float) -> Audio:
    info = probe(path, source)
    if not info.has_audio:
        raise MediaError(path, "no_audio", "the video has no sound track, so there is nothing to transcribe")
    if info.duration is not None and info.duration > max_duration:
        raise MediaError(
            path, "too_long", f"the recording lasts {_hms(info.duration)}, over the {_hms(max_duration)} limit for one dictation"
        )

    try:
        out, _ = (
            ffmpeg.input(source)
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
