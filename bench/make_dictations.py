#!/usr/bin/env python
"""Generate longer, harder benchmark dictations from MTSamples with the hibari-tts voice.

    python bench/make_dictations.py [--out ~/.cache/mrt/dictations] [--count 4] [--max-words 420]
    python bench/make_dictations.py --long 60 --out ~/.cache/mrt/long     # one 60-minute file (memory test)

Reads ``../shared/data/mtsamples/mtsamples.csv`` (never copied into the repo). Picks reports with many
drug names and clinical terms from several specialties (fixed choice, so reruns give the same set),
turns the written layout into what a physician says ("HISTORY OF PRESENT ILLNESS:," -> "History of
present illness."), speaks it with hibari-tts (voice "heart", fixed seed) and writes per dictation
``NAME.wav`` (16 kHz mono), ``NAME.txt`` (the reference: the exact text spoken) and ``NAME.json``
(sidecar metadata: specialty, document type). The output folder is what ``mrt bench transcribe`` reads.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MTSAMPLES = ROOT.parent / "shared" / "data" / "mtsamples" / "mtsamples.csv"
VOICE, SEED, SR_OUT = "heart", 7, 16_000
# Fixed picks: (MTSamples sample_name, document type) from different specialties, rich in drug names.
PICKS = [
    ("Discharge Summary - 1", "discharge_summary"),
    ("Hypertension - Consult", "consult"),
    ("Diabetes Mellitus - SOAP Note - 1", "office_note"),
    ("Atrial Fibrillation - Consult", "consult"),
    ("COPD & Pneumonia - SOAP", "office_note"),
    ("Laparoscopic Cholecystectomy - 1", "operative_note"),
]


def spoken_text(transcription: str, max_words: int) -> str:
    """MTSamples' flattened layout as a dictating physician would say it, cut at a sentence end."""
    t = transcription.replace(":,", ": ").replace(".,", ". ")
    t = re.sub(r"\b([A-Z][A-Z /&-]{2,}[A-Z])\s*:", lambda m: m.group(1).capitalize() + ". ", t)
    t = re.sub(r"(?<=\s)\d\.\s+", "", t)  # numbered list markers
    t = re.sub(r"[_#*\[\]]", " ", t)
    t = re.sub(r"\s+", " ", t).strip()
    t = re.sub(r"([.,;:])(\s*[.,;:])+", r"\1", t)
    sentences = re.split(r"(?<=[.?!])\s+", t)
    out, n = [], 0
    for s in sentences:
        w = len(s.split())
        if n and n + w > max_words:
            break
        out.append(s)
        n += w
    return " ".join(out)


def score(text: str) -> int:
    """Prefer reports with many long clinical words (drug and disease names)."""
    return len(re.findall(r"\b\w*(?:itis|emia|olol|pril|artan|statin|formin|azole|mycin|cillin|pine|ide|osis)\b", text, re.I))


def choose(rows: list[dict], count: int) -> list[tuple[dict, str]]:
    by_name = {r["sample_name"].strip(): r for r in rows if r.get("transcription")}
    chosen = [(by_name[n], dt) for n, dt in PICKS if n in by_name]
    if len(chosen) < count:  # names changed: fall back to the richest reports, by specialty
        seen = {r["medical_specialty"] for r, _ in chosen}
        for r in sorted(rows, key=lambda r: -score(r.get("transcription") or "")):
            if r["medical_specialty"] not in seen and 1500 < len(r.get("transcription") or "") < 6000:
                chosen.append((r, "consult"))
                seen.add(r["medical_specialty"])
            if len(chosen) >= count:
                break
    return chosen[:count]


def synthesize(tts, text: str) -> np.ndarray:
    """16 kHz float32 speech with short pauses between sentences (as samples/make_samples.py does)."""
    from scipy.signal import resample_poly

    sr = tts.sample_rate
    gap = np.zeros(int(0.3 * sr), np.float32)
    parts = [np.zeros(int(0.4 * sr), np.float32)]
    for chunk in tts.stream(text, speed=1.0, seed=SEED):
        parts += [chunk.astype(np.float32), gap]
    audio = np.concatenate(parts)
    audio = resample_poly(audio, SR_OUT, sr).astype(np.float32)
    return audio * (0.89 / (float(np.abs(audio).max()) or 1.0))


def write_wav(path: Path, audio: np.ndarray) -> None:
    pcm = np.clip(audio * 32767.0, -32768, 32767).round().astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR_OUT)
        w.writeframes(pcm.tobytes())


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def make_long(out: Path, minutes: float) -> Path:
    """One long dictation by concatenating the generated ones (and the samples) with pauses."""
    from pipeline.transcribe.audio import load_media

    sources = sorted(out.parent.glob("dictations/*.wav")) or sorted((ROOT / "samples").glob("0*.wav"))
    sources += [p for p in sorted((ROOT / "samples").iterdir()) if p.suffix in {".mp3", ".flac", ".ogg"}]
    clips = [load_media(p).samples for p in sources]
    pause = np.zeros(SR_OUT, np.float32)
    target = int(minutes * 60 * SR_OUT)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"long_{int(minutes)}min.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR_OUT)
        written, i = 0, 0
        while written < target:
            clip = np.concatenate([clips[i % len(clips)], pause])[: target - written]
            w.writeframes(np.clip(clip * 32767.0, -32768, 32767).round().astype("<i2").tobytes())
            written += clip.size
            i += 1
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path.home() / ".cache" / "mrt" / "dictations")
    ap.add_argument("--count", type=int, default=4)
    ap.add_argument("--max-words", type=int, default=420)
    ap.add_argument("--long", type=float, help="write one dictation of this many minutes (concatenated) instead")
    args = ap.parse_args()
    if args.long:
        print(make_long(args.out, args.long))
        return
    if not MTSAMPLES.is_file():
        sys.exit(f"MTSamples not found at {MTSAMPLES}: the generated dictations need ../shared/data")
    from hibari import Hibari
    from rich.progress import track

    csv.field_size_limit(1 << 24)
    with open(MTSAMPLES, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    tts = Hibari(voice=VOICE, threads=1)
    args.out.mkdir(parents=True, exist_ok=True)
    for row, doc_type in track(choose(rows, args.count), description="speaking dictations"):
        name = slug(row["sample_name"])
        text = spoken_text(row["transcription"], args.max_words)
        audio = synthesize(tts, text)
        write_wav(args.out / f"{name}.wav", audio)
        (args.out / f"{name}.txt").write_text(text + "\n", encoding="utf-8")
        meta = {
            "specialty": row["medical_specialty"].strip(),
            "document_type": doc_type,
            "source": f"MTSamples note {row.get('note_id', '')}",
            "voice": VOICE,
            "duration_s": round(audio.size / SR_OUT, 2),
        }
        (args.out / f"{name}.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
