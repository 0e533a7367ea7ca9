"""Media loading: every supported format decodes; every kind of bad input gives one clear
error type and leaves the original untouched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from conftest import make_media

from pipeline.errors import MediaError
from pipeline.transcribe.audio import SAMPLE_RATE, load_media


def digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_every_sample_format_decodes(manifest):
    from conftest import SAMPLES

    formats = set()
    for e in manifest:
        audio = load_media(SAMPLES / e["file"])
        assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
        assert audio.sample_rate == SAMPLE_RATE
        assert abs(audio.duration - e["duration_s"]) < 0.5, e["file"]
        assert audio.has_video == e["has_video"]
        assert 0.01 < np.abs(audio.samples).max() <= 1.0
        formats.add(Path(e["file"]).suffix)
    assert {".wav", ".mp3", ".m4a", ".flac", ".ogg", ".mp4"} <= formats


def _bad_files(tmp: Path, ffmpeg: str) -> dict[str, Path]:
    files = {}
    (p := tmp / "empty.wav").write_bytes(b"")
    files["empty"] = p
    (p := tmp / "notes.mp3").write_text("This is a text file that someone renamed to mp3.\n" * 20)
    files["not_media"] = p
    (p := tmp / "garbage.m4a").write_bytes(np.random.default_rng(0).bytes(50_000))
    files["not_media_random"] = p
    files["no_audio"] = make_media(ffmpeg, tmp / "no_sound.mp4", "-f", "lavfi", "-i", "color=c=black:s=64x64:d=2", "-an")
    files["silent"] = make_media(ffmpeg, tmp / "silence.wav", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "3")
    (p := tmp / "dictation.docx").write_bytes(b"PK\x03\x04 not media")
    files["unsupported"] = p
    return files


EXPECTED_KIND = {
    "empty": "empty",
    "not_media": "not_media",
    "not_media_random": "not_media",
    "no_audio": "no_audio",
    "silent": "silent",
    "unsupported": "unsupported",
}


def test_bad_inputs_give_clear_errors_and_keep_the_original(tmp_path, ffmpeg):
    for name, path in _bad_files(tmp_path, ffmpeg).items():
        before = digest(path)
        with pytest.raises(MediaError) as info:
            load_media(path)
        assert info.value.kind == EXPECTED_KIND[name], (name, info.value)
        assert info.value.reason and path.name in str(info.value)
        assert path.exists() and digest(path) == before, f"{name}: original changed"


def test_truncated_file_is_refused(tmp_path, sample):
    media, _, _ = sample("02")  # mp3
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(media.read_bytes()[:400])  # a header and almost nothing else
    with pytest.raises(MediaError) as info:
        load_media(cut)
    assert info.value.kind in {"not_media", "unreadable", "too_short"}


def test_too_long_is_refused_before_decoding(sample):
    media, _, _ = sample("01")
    with pytest.raises(MediaError) as info:
        load_media(media, max_duration=10)
    assert info.value.kind == "too_long"
    assert "limit" in info.value.reason


def test_missing_file(tmp_path):
    with pytest.raises(MediaError) as info:
        load_media(tmp_path / "nope.wav")
    assert info.value.kind == "not_found"


def test_mislabeled_but_real_audio_still_decodes(tmp_path, sample):
    media, _, _ = sample("02")  # mp3 data
    wrong = tmp_path / "really_mp3.wav"
    wrong.write_bytes(media.read_bytes())
    audio = load_media(wrong)
    assert audio.duration > 10
