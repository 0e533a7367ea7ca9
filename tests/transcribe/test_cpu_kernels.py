"""The CPU kernels CTranslate2 decodes with (pipeline.transcribe.cpu_kernels): pinned to oneDNN at the
CPU's instruction-set tier, so the same audio gives the same words on the machines of a tier that run
those kernels alike (three Intel Xeon models do; an AMD EPYC of the tier differs in a few words), with any
thread count."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.transcribe.cpu_kernels import CpuKernels, cpu_flags, pin, portable_environment

PINNED = {"CT2_USE_MKL": "0", "ONEDNN_MAX_CPU_ISA": "AVX2", "DNNL_MAX_CPU_ISA": "AVX2", "CT2_FORCE_CPU_ISA": "AVX2"}
AVX512_VNNI = frozenset({"avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd", "avx512_vnni"})
PINNED_AVX512 = {
    "CT2_USE_MKL": "0",
    "ONEDNN_MAX_CPU_ISA": "AVX512_CORE_VNNI",
    "DNNL_MAX_CPU_ISA": "AVX512_CORE_VNNI",
    "CT2_FORCE_CPU_ISA": "AVX512",
}


def test_portable_kernels_are_onednn_at_the_cpu_s_tier_on_x86():
    assert portable_environment("x86_64", AVX512_VNNI | {"amx_int8", "avx512_bf16"}) == PINNED_AVX512
    # AVX-512 without VNNI (Skylake-SP) is the AVX2 tier
    assert portable_environment("x86_64", frozenset({"avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl"})) == PINNED
    assert portable_environment("AMD64", frozenset({"avx2", "fma"})) == PINNED


def test_a_cpu_without_avx2_or_of_unknown_flags_gets_only_the_library_pinned():
    # forcing AVX2 on a CPU without it is an error in CTranslate2
    assert portable_environment("x86_64", frozenset({"sse4_2", "avx"})) == {"CT2_USE_MKL": "0"}
    assert portable_environment("x86_64", None) == {"CT2_USE_MKL": "0"}


def test_nothing_is_pinned_off_x86():
    assert portable_environment("aarch64", frozenset({"neon", "asimd"})) == {}


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 avx2 fma\n\n", encoding="utf-8")
    assert cpu_flags(info) == frozenset({"fpu", "sse2", "avx2", "fma"})
    assert cpu_flags(tmp_path / "missing") is None


def test_pin_sets_what_is_missing_and_keeps_what_the_operator_set(monkeypatch):
    monkeypatch.setattr("pipeline.transcribe.cpu_kernels.platform.machine", lambda: "x86_64")
    monkeypatch.setattr("pipeline.transcribe.cpu_kernels.cpu_flags", lambda: frozenset({"avx2", "fma"}))
    env: dict[str, str] = {"CT2_USE_MKL": "1"}
    assert pin(CpuKernels.PORTABLE, "cpu", env) == {k: v for k, v in PINNED.items() if k != "CT2_USE_MKL"}
    assert env == {**PINNED, "CT2_USE_MKL": "1"}


def test_native_kernels_and_a_gpu_pin_nothing():
    env: dict[str, str] = {}
    assert pin(CpuKernels.NATIVE, "cpu", env) == {} and env == {}
    assert pin(CpuKernels.PORTABLE, "cuda", env) == {} and env == {}


_TRANSCRIBE = """
import json, os, sys
from pipeline.settings import get_settings
from pipeline.transcribe.audio import load_media
from pipeline.transcribe.transcribe import Transcriber
t = Transcriber(get_settings()).transcribe(load_media(sys.argv[1]))
print(json.dumps({"text": t.text, "env": {k: os.environ.get(k) for k in sys.argv[2:]}}))
"""


@pytest.mark.slow
def test_real_whisper_hears_the_same_words_with_one_thread_or_two_and_other_blas_kernels(sample):
    """Each run in a fresh process (CTranslate2 reads the pins once per process), as installs do; on
    x86-64 the second also forces other OpenBLAS kernels (picked by CPU vendor, they changed the
    features before pipeline.transcribe.features)."""
    media = sample("07")[0]
    env = {k: v for k, v in os.environ.items() if k not in PINNED}
    expected = portable_environment(os.uname().machine, cpu_flags())
    out = []
    x86 = os.uname().machine in ("x86_64", "AMD64")
    for threads, blas in (("1", {}), ("2", {"OPENBLAS_CORETYPE": "Nehalem"} if x86 else {})):
        run = subprocess.run(
            [sys.executable, "-c", _TRANSCRIBE, str(media), *expected],
            env={**env, "MRT_CPU_THREADS": threads, **blas},
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        out.append(json.loads(run.stdout.strip().splitlines()[-1]))
    assert out[0]["text"] == out[1]["text"]
    assert out[0]["env"] == expected  # the default pinned them before the model loaded


def test_the_portable_kernels_compute_the_features_in_a_fixed_order(settings):
    from pipeline.transcribe.faster import FasterWhisperTranscriber
    from pipeline.transcribe.features import PortableFeatureExtractor

    assert isinstance(FasterWhisperTranscriber(settings)._model.feature_extractor, PortableFeatureExtractor)
