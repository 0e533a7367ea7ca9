"""Batches of distinct dictations made from the sample recordings (benchmark and tests).

Each file is real speech re-encoded with ffmpeg: the samples strung together (rotated, so
consecutive files start with different notes) to the wanted length, or cut into short
clips at different offsets; each carries its own container tag, so every file hashes
differently and is processed as a dictation of its own.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from pipeline.transcribe.audio import ffmpeg_exe

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def sample_entries(samples_dir: Path = SAMPLES) -> list[dict]:
    manifest = samples_dir / "manifest.json"
    if not manifest.is_file():
        raise FileNotFoundError(f"no sample dictations at {samples_dir} (manifest.json); pass --source DIR")
    return json.loads(manifest.read_text())["samples"]


def _run(args: list[str]) -> None:
    subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def long_dictations(out_dir: Path, n: int, seconds: float, samples_dir: Path = SAMPLES, sidecars: bool = True) -> list[Path]:
    """``n`` MP3 dictations of ``seconds`` each (mono, 16 kHz, 48 kb/s), with sidecars."""
    entries = sample_entries(samples_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(n):
        chosen, total, j = [], 0.0, i
        while total < seconds:
            e = entries[j % len(entries)]
            chosen.append(e)
            total += e["duration_s"]
            j += 1
        inputs = [a for e in chosen for a in ("-i", str(samples_dir / e["file"]))]
        graph = "".join(f"[{k}:a]aresample=16000,aformat=channel_layouts=mono[a{k}];" for k in range(len(chosen)))
        graph += "".join(f"[a{k}]" for k in range(len(chosen))) + f"concat=n={len(chosen)}:v=0:a=1[out]"
        target = out_dir / f"dictation {i + 1:03d}.mp3"
        _run(
            [
                *inputs,
                "-filter_complex",
                graph,
                "-map",
                "[out]",
                "-t",
                f"{seconds:.2f}",
                "-ac",
                "1",
                "-ar",
                "16000",
                "-c:a",
                "libmp3lame",
                "-b:a",
                "48k",
                "-metadata",
                f"comment=mrt-synth-{i}",
                str(target),
            ]
        )
        if sidecars:
            first = chosen[0]
            (out_dir / f"{target.name}.json").write_text(
                json.dumps(
                    {
                        "mrn": f"BENCH{i % 5:04d}",
                        "encounter_id": f"ENC-{i:05d}",
                        "physician": "Dr. Bench",
                        "document_type": first["document_type"],
                        "setting": first["setting"],
                        "priority": "routine",
                    }
                )
            )
        files.append(target)
    return files


def short_clips(out_dir: Path, n: int, seconds: float = 3.0, samples_dir: Path = SAMPLES, suffix: str = ".mp3") -> list[Path]:
    """``n`` distinct clips of ``seconds``: sample ``i % 8`` cut at offset ``(i // 8) * seconds``."""
    entries = sample_entries(samples_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(n):
        e = entries[i % len(entries)]
        offset = 1.0 + (i // len(entries)) * seconds
        if offset + seconds > e["duration_s"]:
            offset = max(0.0, (offset * 7) % max(1.0, e["duration_s"] - seconds))
        target = out_dir / f"clip {i + 1:03d}{suffix}"
        _run(
            [
                "-ss",
                f"{offset:.2f}",
                "-t",
                f"{seconds:.2f}",
                "-i",
                str(samples_dir / e["file"]),
                "-vn",
                "-ac",
                "1",
                "-ar",
                "16000",
                "-metadata",
                f"comment=mrt-clip-{i}",
                str(target),
            ]
        )
        files.append(target)
    return files
