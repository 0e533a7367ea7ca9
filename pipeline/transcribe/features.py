"""Whisper's log-Mel spectrogram, computed the same way on every CPU.

faster-whisper projects the power spectrum onto the Mel filters with a NumPy matrix product, which
OpenBLAS computes with kernels it picks by CPU: the same audio gives other features on an AMD CPU (Zen
kernels) than on an Intel one (SkylakeX kernels), and other words. On the project's Intel Xeon VM,
sample 07's transcript changed with ``OPENBLAS_CORETYPE`` alone, although the CTranslate2 kernels were
pinned (:mod:`pipeline.transcribe.cpu_kernels`).

:class:`PortableFeatureExtractor` computes the same spectrogram with element-wise NumPy operations in a
fixed order (IEEE-754 rounds each of them the same on every CPU): the power as re² + im², and each Mel
band as the sum of its few non-zero filter bins, bin by bin. The Mel filters, the window and the FFT are
faster-whisper's own; the logarithm is taken in double precision, so that the single-precision result
does not depend on which vector math library NumPy dispatches to.
"""

from __future__ import annotations

import numpy as np
from faster_whisper.feature_extractor import FeatureExtractor


def mel_bands(filters: np.ndarray) -> tuple[tuple[int, int], ...]:
    """Per Mel filter, the range of frequency bins where it is non-zero (``(0, 0)`` for none)."""
    bands = []
    for row in filters:
        nonzero = np.flatnonzero(row)
        bands.append((int(nonzero[0]), int(nonzero[-1]) + 1) if nonzero.size else (0, 0))
    return tuple(bands)


def project(filters: np.ndarray, bands: tuple[tuple[int, int], ...], power: np.ndarray) -> np.ndarray:
    """``filters @ power`` summed bin by bin, in the order of the bins (float64 accumulation)."""
    out = np.zeros((filters.shape[0], power.shape[1]), dtype=np.float64)
    for band, (first, end) in enumerate(bands):
        row = out[band]
        for k in range(first, end):
            row += float(filters[band, k]) * power[k].astype(np.float64)
    return out


class PortableFeatureExtractor(FeatureExtractor):
    """faster-whisper's :class:`FeatureExtractor` with a CPU-independent Mel projection."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._bands = mel_bands(self.mel_filters)

    def __call__(self, waveform: np.ndarray, padding=160, chunk_length=None):
        if chunk_length is not None:
            self.n_samples = chunk_length * self.sampling_rate
            self.nb_max_frames = self.n_samples // self.hop_length
        waveform = np.asarray(waveform, dtype=np.float32)
        if padding:
            waveform = np.pad(waveform, (0, padding))
        window = np.hanning(self.n_fft + 1)[:-1].astype("float32")
        stft = self.stft(waveform, self.n_fft, self.hop_length, window=window, return_complex=True).astype("complex64")
        spectrum = stft[..., :-1]
        power = spectrum.real * spectrum.real + spectrum.imag * spectrum.imag
        mel = project(self.mel_filters, self._bands, power)
        log_spec = np.log10(np.maximum(mel, 1e-10)).astype(np.float32)
        log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
        return (log_spec + 4.0) / 4.0
