#!/usr/bin/env python
"""Peak memory and speed of one long dictation (default: a 60-minute file made by
``bench/make_dictations.py --long 60``).

    python bench/transcribe_long.py [FILE] [--backend faster-whisper]

Prints duration, processing time, RTF, words, flags and the process's peak resident memory
(``ru_maxrss``), which includes the decoded audio (16 kHz float32: 230 MB per hour).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from pipeline.settings import get_settings
from pipeline.transcribe.audio import load_media
from pipeline.transcribe.transcribe import Transcriber


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file", nargs="?", type=Path, default=Path.home() / ".cache" / "mrt" / "long" / "long_60min.wav")
    ap.add_argument("--backend", default="faster-whisper")
    args = ap.parse_args()
    if not args.file.is_file():
        raise SystemExit(f"{args.file} not found: run python bench/make_dictations.py --long 60 --out ~/.cache/mrt/long")
    t0 = time.perf_counter()
    audio = load_media(args.file)
    load_s = time.perf_counter() - t0
    rss_after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    done = []
    t = Transcriber(get_settings()).transcribe(
        audio, backend=args.backend, progress=lambda s: done.append(s) or print(f"  {s / 60:.1f} min done", flush=True)
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "file": str(args.file),
                "backend": t.backend,
                "model": t.model,
                "audio_s": round(t.duration, 1),
                "load_s": round(load_s, 1),
                "processing_s": round(t.processing_seconds, 1),
                "rtf": round(t.real_time_factor, 4),
                "pieces": len(done),
                "words": sum(len(s.words) for s in t.segments),
                "flags": t.flags,
                "corrections": len(t.corrections),
                "peak_rss_mb_after_decode_audio": round(rss_after_load),
                "peak_rss_mb": round(peak),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
