#!/usr/bin/env python
"""Real-time factor and WER of each Whisper backend on the sample dictations.

    python bench/transcribe_samples.py [--backend faster-whisper --backend openai-whisper] [--json out.json]

Models are loaded (and warmed on the first sample) before timing.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pipeline.settings import get_settings
from pipeline.transcribe.audio import load_media
from pipeline.transcribe.transcribe import get_transcriber, transcribe_audio
from pipeline.transcribe.wer import word_error_rate

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", action="append", choices=["faster-whisper", "openai-whisper"])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    backends = args.backend or ["faster-whisper", "openai-whisper"]
    manifest = json.loads((SAMPLES / "manifest.json").read_text())["samples"]
    audios = [(e, load_media(SAMPLES / e["file"]), (SAMPLES / e["reference"]).read_text()) for e in manifest]
    settings = get_settings()
    rows = []
    for backend in backends:
        t0 = time.perf_counter()
        get_transcriber(settings, backend)
        load_s = time.perf_counter() - t0
        transcribe_audio(audios[0][1], settings, backend)  # warm-up (JIT, caches)
        total_audio = total_proc = 0.0
        wers = []
        for e, audio, ref in audios:
            t = transcribe_audio(audio, settings, backend)
            w = word_error_rate(ref, t.text)
            wers.append((e["name"], w, t.real_time_factor))
            total_audio += t.duration
            total_proc += t.processing_seconds
        ref_words = sum(len(r.split()) for _, _, r in audios)
        rows.append(
            {
                "backend": backend, "model": settings.whisper_model,
                "compute": settings.compute_type if backend == "faster-whisper" else "float32",
                "beam": settings.beam_size, "load_s": round(load_s, 2), "audio_s": round(total_audio, 1),
                "rtf": round(total_proc / total_audio, 4), "mean_wer": round(sum(w for _, w, _ in wers) / len(wers), 4),
                "per_sample": [{"name": n, "wer": round(w, 4), "rtf": round(r, 4)} for n, w, r in wers],
                "ref_words": ref_words,
            }
        )
    table = Table(title=f"Transcription on {len(audios)} samples · {platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores")
    for col in ("backend", "model", "compute", "beam", "load s", "audio s", "RTF", "mean WER"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["backend"], r["model"], r["compute"], str(r["beam"]), f"{r['load_s']:.1f}", f"{r['audio_s']:.0f}", f"{r['rtf']:.3f}", f"{r['mean_wer']:.3f}")
    Console().print(table)
    per = Table(title="WER per sample")
    per.add_column("sample")
    for r in rows:
        per.add_column(r["backend"])
    for i, e in enumerate(manifest):
        per.add_row(e["name"], *[f"{r['per_sample'][i]['wer']:.3f}" for r in rows])
    Console().print(per)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
