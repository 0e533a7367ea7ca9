"""Which CPU kernels CTranslate2 decodes with, so that the same audio gives the same words everywhere.

CTranslate2 picks its matrix-product library by CPU vendor (Intel MKL on an Intel CPU, oneDNN on any
other) and its kernels by the widest instruction set the CPU has. int8 decoding rounds differently in
each, so one dictation was heard as "acute calculus colysis" on an Intel VM and as "laparoscopic
colysis rectomy" on an AMD one, and its codes differed.

:data:`CpuKernels.PORTABLE` (the default, setting ``cpu_kernels``) pins both choices before the first
model is loaded: oneDNN on every vendor (``CT2_USE_MKL=0``), at one of two instruction-set tiers
(:data:`TIERS`: AVX-512 with VNNI, else AVX2), so every CPU of a tier decodes with the same kernels.
Three Intel Xeon models of the AVX-512 VNNI tier then write the same transcripts; an AMD EPYC (Zen 5) of
that tier writes 3 of the 8 samples' alike and hears a few words differently in the others (the stage
where they part is not known yet: ``mrt bench transcript-stages`` fingerprints each one).
Chosen on the transcription development set's dev voices on the project's AMD EPYC VM (AVX-512 with
VNNI and BF16; tiny.en, beam 1, default word transformations; WER / medical-word WER / RTF): this tier
50.5% / 51.5% / 0.043; CTranslate2's native choice there (oneDNN up to its BF16 kernels) 48.1% / 51.5% /
0.041, but an Intel CPU decodes differently; oneDNN capped at AVX2 49.2% / 53.5% / 0.038; Intel MKL in
its reproducible AVX2 mode 49.8% / 51.5% / 0.36, nine times the time. Medical words decide: the AVX2 cap
loses two points of them. On the held-apart voices (reported, not chosen on): this tier 69.1% / 65.8%,
native 69.7% / 67.1%, AVX2 81.1% / 70.3%.
:data:`CpuKernels.NATIVE` leaves CTranslate2's own choice.

The pins are environment variables that CTranslate2 and oneDNN read once per process, at their first
use: a variable already set (by the operator, or by an earlier model in the same process) wins, and
:func:`pin` says so in the log. They do nothing on a GPU or on an ARM CPU (no MKL, no AVX).
"""

from __future__ import annotations

import enum
import logging
import os
import platform
from collections.abc import MutableMapping
from pathlib import Path

log = logging.getLogger(__name__)


class CpuKernels(str, enum.Enum):
    PORTABLE = "portable"  # oneDNN at a tier of TIERS, and order-fixed features: the same transcript on every CPU of a tier
    NATIVE = "native"  # CTranslate2's own choice: MKL on Intel, oneDNN elsewhere, the widest instruction set


X86_MACHINES = frozenset({"x86_64", "amd64"})
# the instruction-set tiers, widest first: (CPU flags it needs, oneDNN's cap, CTranslate2's own kernels)
# AVX-512 with VNNI (Intel Cascade Lake and later, AMD Zen 4 and later), capped there so that Intel's AMX
# and AVX-512 BF16/FP16 paths are not taken; then AVX2 with FMA (any x86-64 server CPU since 2013)
TIERS = (
    (frozenset({"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd", "avx512_vnni"}), "AVX512_CORE_VNNI", "AVX512"),
    (frozenset({"avx2", "fma"}), "AVX2", "AVX2"),
)


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str] | None:
    """The CPU's feature flags (Linux), or None where they cannot be read."""
    try:
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("flags"):
                return frozenset(line.split(":", 1)[1].split())
    except OSError:
        return None
    return None


def portable_environment(machine: str, flags: frozenset[str] | None) -> dict[str, str]:
    """The variables that pin the portable kernels on this machine: none off x86-64; oneDNN on every
    x86-64 CPU, at the widest tier of :data:`TIERS` the CPU is known to have (forcing an instruction
    set the CPU lacks is an error in CTranslate2, so unknown flags pin the library only)."""
    if machine.lower() not in X86_MACHINES:
        return {}
    env = {"CT2_USE_MKL": "0"}
    for needs, onednn, ct2 in TIERS:
        if flags is not None and needs <= flags:
            return env | {"ONEDNN_MAX_CPU_ISA": onednn, "DNNL_MAX_CPU_ISA": onednn, "CT2_FORCE_CPU_ISA": ct2}
    return env


def pin(kernels: CpuKernels, device: str, environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Set the portable kernels' variables in ``environ`` (the process's) before a CPU model loads;
    returns what was set. A variable already there is left as it is."""
    environ = os.environ if environ is None else environ
    if kernels is not CpuKernels.PORTABLE or device != "cpu":
        return {}
    wanted = portable_environment(platform.machine(), cpu_flags())
    kept = {k: environ[k] for k in wanted if k in environ and environ[k] != wanted[k]}
    set_now = {k: v for k, v in wanted.items() if k not in environ}
    environ.update(set_now)
    if kept:
        log.warning("CPU kernels: %s already set, kept; transcripts may differ from other machines'", kept)
    elif set_now:
        log.info("CPU kernels pinned for the same transcript on every x86-64 CPU: %s", set_now)
    return set_now
