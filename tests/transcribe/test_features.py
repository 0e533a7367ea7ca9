"""Whisper's log-Mel spectrogram computed in a fixed order (pipeline.transcribe.features): the same
features whatever kernels OpenBLAS picks for the CPU, and the same as faster-whisper's up to rounding."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from faster_whisper.audio import decode_audio
from faster_whisper.feature_extractor import FeatureExtractor

from pipeline.transcribe.features import PortableFeatureExtractor, mel_bands, project

ROOT = Path(__file__).resolve().parents[2]


def test_each_band_is_the_range_of_its_non_zero_bins():
    filters = np.array([[0.0, 0.5, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.2, 0.3]], dtype=np.float32)
    assert mel_bands(filters) == ((1, 3), (0, 0), (2, 4))


def test_the_projection_is_the_matrix_product():
    rng = np.random.default_rng(0)
    filters = FeatureExtractor(feature_size=80).mel_filters
    power = rng.random((filters.shape[1], 50), dtype=np.float32)
    np.testing.assert_allclose(project(filters, mel_bands(filters), power), filters.astype(np.float64) @ power, rtol=1e-6)


def test_features_match_faster_whisper_s_up_to_rounding(sample):
    audio = decode_audio(str(sample("01")[0]), sampling_rate=16000)[: 16000 * 30]
    stock, portable = FeatureExtractor(feature_size=80)(audio), PortableFeatureExtractor(feature_size=80)(audio)
    assert portable.dtype == np.float32 and portable.shape == stock.shape
    assert np.abs(portable - stock).max() < 1e-5


_FEATURES = """
import hashlib, sys
from faster_whisper.audio import decode_audio
from faster_whisper.feature_extractor import FeatureExtractor
from pipeline.transcribe.features import PortableFeatureExtractor
audio = decode_audio(sys.argv[1], sampling_rate=16000)[: 16000 * 30]
for extractor in (FeatureExtractor, PortableFeatureExtractor):
    print(hashlib.sha256(extractor(feature_size=80)(audio).tobytes()).hexdigest())
"""


@pytest.mark.skipif(os.uname().machine not in ("x86_64", "AMD64"), reason="OpenBLAS's x86 kernel choice")
def test_features_do_not_depend_on_the_kernels_openblas_picks(sample):
    """OpenBLAS picks its kernels by CPU (an AMD CPU gets others than an Intel one); forcing two
    kernel families available on any x86-64 CPU with AVX2 stands in for two CPUs, each in a fresh process."""
    runs = []
    for coretype in ("Nehalem", "Haswell"):
        run = subprocess.run(
            [sys.executable, "-c", _FEATURES, str(sample("01")[0])],
            env={**os.environ, "OPENBLAS_CORETYPE": coretype},
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        runs.append(run.stdout.split())
    (stock_a, portable_a), (stock_b, portable_b) = runs
    assert portable_a == portable_b
    if stock_a == stock_b:  # the check above could not fail on this install's NumPy
        pytest.skip("OpenBLAS gives faster-whisper's features the same rounding with both kernel families here")
