#!/usr/bin/env python
"""Transcription benchmark: RTF, WER, medical-term error rate and medwer medical WER per configuration.

    python bench/transcribe_bench.py [DIR ...] [--backend faster-whisper --backend openai-whisper]
        [--model tiny.en --model base] [--variant plain --variant bias+correct] [--json out.json]

The same command as ``mrt bench transcribe``. DIR defaults to samples/; longer dictations come from
``bench/make_dictations.py`` (into ~/.cache/mrt/dictations). Timed figures for docs/benchmarks.md:
``flock /tmp/mrt-bench.lock .venv/bin/python bench/transcribe_bench.py ...``.
"""

import typer

from mrt_eval.cli import bench_transcribe

if __name__ == "__main__":
    typer.run(bench_transcribe)
