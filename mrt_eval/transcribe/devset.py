"""The transcription development set: MTSamples text spoken by several voices in real-room conditions.

``build(out_dir)`` writes, deterministically (fixed seeds, bit-exact ffmpeg), one clip per entry of
:func:`plan`: ``<split>/<name>.<ext>`` (the audio), ``<split>/<name>.txt`` (the reference: what the
note should say, spoken units written out) and ``<split>/<name>.json`` (voice, speed, condition,
dictation habits, MTSamples note id), and ``manifest.json`` (every clip with the SHA-256 of its
audio and reference). ``mrt bench transcribe --split dev|heldout`` reads ``<split>/``.

* Text: a window of about 70-110 words from an MTSamples note (CC0) that names a dose, never one of
  the notes ``bench/make_dictations.py`` uses; ``b.i.d.``-style abbreviations and units are written as
  spoken ("twice a day", "25 milligrams") in both the speech and the reference.
* Voices: hibari-tts "heart" (the only hibari voice installed offline: the others are downloaded from
  Hugging Face on first use) and espeak-ng voices/variants. Speeds vary per clip.
* Split BY VOICE: ``dev`` (tune and choose defaults here) and ``heldout`` (report here, never tune).
  "heart" is in ``dev``: the samples and the old budgets were tuned on that voice.
* Conditions: clean, noise (pink, 8-12 dB SNR), reverb (synthetic room, RT60 0.5-0.8 s, direct-to-reverberant +3 dB), telephone
  (300-3400 Hz, stored at 8 kHz), low volume (-30 dBFS peak over a faint noise floor), heavy MP3
  (16 kb/s) and heavy Opus (8 kb/s).
* Dictation habits in the speech that the reference leaves out: "scratch that" after a misspoken
  phrase (the reference has only the corrected sentence), a word spelled out after it
  ("metoprolol, spelled M E T O P R O L O L"), spoken punctuation ("period", "new paragraph"), and
  long pauses (3-6 s) between and inside sentences.

Needs ``espeak-ng`` on PATH (``apt-get install espeak-ng``; scripts/setup.sh installs it where it can)
and hibari-tts (the ``test`` extra).
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
import shutil
import subprocess
import tempfile
import wave
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

SR = 16_000
SEED = 20
CLIPS_PER_VOICE = 5
# (voice id, engine, engine voice, split). Split by voice: nothing of a held-out voice is tuned on.
VOICES: tuple[tuple[str, str, str, str], ...] = (
    ("hibari-heart", "hibari", "heart", "dev"),
    ("espeak-gb-f3", "espeak", "en-gb+f3", "dev"),
    ("espeak-lancaster-m1", "espeak", "en-gb-x-gbclan+m1", "dev"),
    ("espeak-nyc-m2", "espeak", "en-us-nyc+m2", "dev"),
    ("espeak-us-m4", "espeak", "en-us+m4", "heldout"),
    ("espeak-scotland-m1", "espeak", "en-gb-scotland+m1", "heldout"),
    ("espeak-rp-f4", "espeak", "en-gb-x-rp+f4", "heldout"),
)
SPLITS = ("dev", "heldout")
CONDITIONS = ("clean", "noise", "reverb", "telephone", "low_volume", "mp3", "opus")
HABITS = ("scratch_that", "spelled", "spoken_punctuation", "long_pause")
# notes the older benchmark dictations (bench/make_dictations.py) speak: never in this set
EXCLUDED_NOTES = {
    "Discharge Summary - 1",
    "Hypertension - Consult",
    "Diabetes Mellitus - SOAP Note - 1",
    "Atrial Fibrillation - Consult",
    "COPD & Pneumonia - SOAP",
    "Laparoscopic Cholecystectomy - 1",
}
ABBREVIATIONS = [
    (r"\bb\.?i\.?d\.?(?=\W|$)", "twice a day"),
    (r"\bt\.?i\.?d\.?(?=\W|$)", "three times a day"),
    (r"\bq\.?i\.?d\.?(?=\W|$)", "four times a day"),
    (r"\bq\.?d\.?(?=\W|$)", "daily"),
    (r"\bq\.?h\.?s\.?(?=\W|$)", "at bedtime"),
    (r"\bp\.?r\.?n\.?(?=\W|$)", "as needed"),
    (r"\bp\.o\.(?=\W|$)", "by mouth"),
    (r"\bPO\b", "by mouth"),
    (r"\bh\.s\.(?=\W|$)", "at bedtime"),
    (r"\bIV\b", "intravenous"),
    (r"\bq\.?\s?(\d+)\s?h\b\.?", r"every \1 hours"),
    (r"\bq\.?(\d+)h\b\.?", r"every \1 hours"),
]
UNITS = [
    (r"(?<=\d)\s*mg\b\.?", " milligrams"),
    (r"(?<=\d)\s*mcg\b\.?", " micrograms"),
    (r"(?<=\d)\s*mL\b\.?", " milliliters"),
    (r"(?<=\d)\s*ml\b\.?", " milliliters"),
    (r"(?<=\d)\s*kg\b\.?", " kilograms"),
    (r"(?<=\d)\s*cc\b\.?", " cc"),
    (r"(?<=\d)\s*%", " percent"),
    (r"(?<=\d)\s*mEq\b\.?", " milliequivalents"),
    (r"(?<=\d)\s*mmHg\b", " millimeters of mercury"),
]
DOSE = re.compile(r"\b\d+(?:\.\d+)?\s*(?:mg|mcg|mL|ml|units)\b")


@dataclass(frozen=True)
class ClipSpec:
    name: str
    split: str
    voice: str
    engine: str
    engine_voice: str
    speed: float  # 1.0 = the engine's normal rate
    condition: str
    habits: tuple[str, ...]
    note_id: str
    specialty: str
    seed: int


@dataclass(frozen=True)
class Script:
    """What is spoken (pieces, with pauses after them) and what the transcript should say."""

    pieces: tuple[tuple[str, float], ...]  # (text to speak, seconds of silence after it)
    reference: str


def read_notes(csv_path: Path) -> list[dict]:
    csv.field_size_limit(1 << 24)
    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if (r.get("transcription") or "").strip()]
    return rows


def written_sentences(transcription: str) -> list[str]:
    """MTSamples' flattened layout as sentences a physician would say (headers become sentences)."""
    t = transcription.replace(":,", ": ").replace(".,", ". ")
    t = re.sub(r"\b([A-Z][A-Z /&-]{2,}[A-Z])\s*:", lambda m: m.group(1).capitalize() + ". ", t)
    t = re.sub(r"(?<=\s)\d\.\s+", "", t)
    t = re.sub(r"[_#*\[\]<>]", " ", t)
    for pat, rep in ABBREVIATIONS:
        t = re.sub(pat, rep, t)
    for pat, rep in UNITS:
        t = re.sub(pat, rep, t)
    t = re.sub(r"\b(Dr|Mr|Mrs|Ms|St)\.\s*", r"\1 ", t)  # titles: no sentence end
    t = re.sub(
        r"\b[A-Z][A-Z0-9 ,/-]{6,}[A-Z0-9]\b",
        lambda m: m.group(0).lower().capitalize() if len(m.group(0).split()) > 1 else m.group(0),
        t,
    )
    t = re.sub(r"(?<=[a-z])\.(?=[A-Z][a-z])", ". ", t)  # "Plan.The"
    t = re.sub(r"\s+", " ", t).strip()
    t = re.sub(r"([.,;:])(\s*[.,;:])+", r"\1", t)
    return [s for s in re.split(r"(?<=[.?!])\s+", t) if len(s.split()) >= 3 and not re.search(r"\d{3,}-|\d+/\d+/\d+", s)]


def plan(rows: list[dict]) -> list[ClipSpec]:
    """One ClipSpec per clip: notes, speeds, conditions and habits drawn with a fixed seed."""
    rng = random.Random(SEED)
    eligible = sorted(
        (
            r
            for r in rows
            if r["sample_name"].strip() not in EXCLUDED_NOTES
            and DOSE.search(r["transcription"])
            and 800 < len(r["transcription"]) < 12000
        ),
        key=lambda r: int(r["note_id"]),
    )
    notes = rng.sample(eligible, CLIPS_PER_VOICE * len(VOICES))
    specs, k = [], 0
    for vi, (voice, engine, engine_voice, split) in enumerate(VOICES):
        for c in range(CLIPS_PER_VOICE):
            note = notes[k]
            speeds = (0.9, 1.0, 1.15) if engine == "hibari" else (0.9, 1.0, 1.1)
            habits = ["long_pause", ("scratch_that", "spelled", "spoken_punctuation")[(vi + c) % 3]]
            if (vi + c) % 2 == 0:
                habits.append(("spelled", "scratch_that", "spoken_punctuation")[(vi * 2 + c) % 3])
            specs.append(
                ClipSpec(
                    name=f"{voice}_{c + 1:02d}",
                    split=split,
                    voice=voice,
                    engine=engine,
                    engine_voice=engine_voice,
                    speed=speeds[(vi + c) % 3],
                    condition=CONDITIONS[(vi * CLIPS_PER_VOICE + c) % len(CONDITIONS)],
                    habits=tuple(sorted(set(habits))),
                    note_id=note["note_id"],
                    specialty=note["medical_specialty"].strip(),
                    seed=SEED * 1000 + k,
                )
            )
            k += 1
    return specs


_DRUGISH = re.compile(r"\b([a-z]{6,}(?:olol|pril|artan|statin|formin|azole|mycin|cillin|pine|pam|lam|done|ide|one|ine|in))\b")


def script_for(spec: ClipSpec, note: dict, min_words: int = 70, max_words: int = 110) -> Script:
    """The spoken pieces and the reference of one clip (deterministic in ``spec.seed``)."""
    rng = random.Random(spec.seed)
    sentences = written_sentences(note["transcription"])
    dose_at = [i for i, s in enumerate(sentences) if re.search(r"\d+(?:\.\d+)? (?:milligrams|micrograms|milliliters|units)\b", s)]
    start = max(0, (dose_at[0] if dose_at else 0) - rng.randint(0, 2))
    chosen, n = [], 0
    for s in sentences[start:]:
        w = len(s.split())
        if chosen and n + w > max_words:
            break
        chosen.append(s)
        n += w
        if n >= min_words and rng.random() < 0.4:
            break
    while n < min_words and start > 0:  # a dose near the end of the note: take the sentences before it too
        start -= 1
        chosen.insert(0, sentences[start])
        n += len(sentences[start].split())
    if not chosen:
        chosen = sentences[:3]
    spoken = list(chosen)  # what is said per sentence (habits added)
    pause_after = [0.35] * len(chosen)
    mid_pause: dict[int, tuple[str, str]] = {}
    if "scratch_that" in spec.habits:
        i = rng.randrange(len(chosen))
        s = chosen[i]
        words = s.rstrip(".?!").split()
        at = next((k for k, w in enumerate(words) if re.fullmatch(r"\d+[.,]?", w)), None)
        if at is not None and at < 12:  # the misspoken dose, then the right sentence
            wrong_words = words[: at + 2]
            wrong_words[at] = str(int(re.sub(r"\D", "", wrong_words[at])) * 2 + 5)
            wrong = " ".join(wrong_words).rstrip(",;:")
        else:
            wrong = (
                " ".join(words[: min(6, max(3, len(words) // 2))]).rstrip(",;:")
                + " "
                + rng.choice(["left", "right", "mild", "chronic"])
            )
        spoken[i] = f"{wrong}, scratch that. {s}"
    if "spelled" in spec.habits:
        for i in rng.sample(range(len(chosen)), len(chosen)):
            m = _DRUGISH.search(spoken[i]) or re.search(r"\b(?!milli|micro|kilo)([a-z]{8,})\b", spoken[i])
            if m:
                word = m.group(1)
                letters = " ".join(word.upper())
                spoken[i] = spoken[i][: m.end()] + f", spelled {letters}," + spoken[i][m.end() :]
                break
    if "spoken_punctuation" in spec.habits:
        for i in rng.sample(range(len(chosen)), min(2, len(chosen))):
            if spoken[i].endswith("."):
                spoken[i] = spoken[i][:-1] + " period."
        if len(chosen) > 2:
            j = rng.randrange(1, len(chosen))
            spoken[j] = "New paragraph. " + spoken[j]
    if "long_pause" in spec.habits:
        if len(chosen) > 1:
            pause_after[rng.randrange(len(chosen) - 1)] = round(rng.uniform(4.0, 6.0), 2)
        i = rng.randrange(len(chosen))
        words = spoken[i].split()
        if len(words) >= 8:
            cut = rng.randrange(3, len(words) - 3)
            mid_pause[i] = (" ".join(words[:cut]), " ".join(words[cut:]))
    pieces: list[tuple[str, float]] = []
    for i, s in enumerate(spoken):
        if i in mid_pause:
            a, b = mid_pause[i]
            pieces.append((a, round(rng.uniform(3.0, 4.5), 2)))
            pieces.append((b, pause_after[i]))
        else:
            pieces.append((s, pause_after[i]))
    return Script(tuple(pieces), " ".join(chosen))


# -- speech ---------------------------------------------------------------------------------------
def _resample(audio: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(sr_in, sr_out)
    return resample_poly(audio, sr_out // g, sr_in // g).astype(np.float32)


class Speaker:
    def __init__(self):
        self._hibari = None

    def say(self, spec: ClipSpec, text: str) -> np.ndarray:
        """16 kHz float32 speech of ``text`` in the clip's voice and speed."""
        if spec.engine == "hibari":
            if self._hibari is None:
                from hibari import Hibari

                self._hibari = Hibari(voice=spec.engine_voice, threads=1)
            tts = self._hibari
            audio = np.concatenate([np.asarray(c, np.float32) for c in tts.stream(text, speed=spec.speed, seed=spec.seed)])
            return _resample(audio, tts.sample_rate, SR)
        exe = shutil.which("espeak-ng")
        if exe is None:
            raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng): the development set needs it")
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "s.wav"
            subprocess.run(
                [exe, "-v", spec.engine_voice, "-s", str(int(165 * spec.speed)), "-w", str(out), text],
                check=True,
                capture_output=True,
            )
            with wave.open(str(out)) as w:
                sr = w.getframerate()
                pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768.0
        return _resample(pcm, sr, SR)


def speak(speaker: Speaker, spec: ClipSpec, script: Script) -> np.ndarray:
    parts = [np.zeros(int(0.4 * SR), np.float32)]
    for text, pause in script.pieces:
        parts += [speaker.say(spec, text), np.zeros(int(pause * SR), np.float32)]
    parts.append(np.zeros(int(0.4 * SR), np.float32))
    audio = np.concatenate(parts)
    return (audio * (0.89 / (float(np.abs(audio).max()) or 1.0))).astype(np.float32)


# -- conditions -----------------------------------------------------------------------------------
def _pink(rng: np.random.Generator, n: int) -> np.ndarray:
    white = rng.standard_normal(n)
    spec = np.fft.rfft(white)
    f = np.arange(spec.size, dtype=np.float64)
    f[0] = 1.0
    pink = np.fft.irfft(spec / np.sqrt(f), n)
    return (pink / (np.std(pink) or 1.0)).astype(np.float32)


def _at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    p_s = float(np.mean(speech[np.abs(speech) > 0.01] ** 2)) if np.any(np.abs(speech) > 0.01) else float(np.mean(speech**2))
    p_n = float(np.mean(noise**2)) or 1.0
    return speech + noise * np.sqrt(p_s / (p_n * 10 ** (snr_db / 10)))


def apply_condition(audio: np.ndarray, spec: ClipSpec) -> tuple[np.ndarray, int, str]:
    """(samples, sample rate, file extension before encoding) for the clip's room condition."""
    from scipy.signal import butter, fftconvolve, sosfilt

    rng = np.random.default_rng(spec.seed)
    c = spec.condition
    if c == "noise":
        audio = _at_snr(audio, _pink(rng, audio.size), float(rng.uniform(8, 12)))
    elif c == "reverb":
        rt60 = float(rng.uniform(0.5, 0.8))
        n = int(rt60 * SR)
        t = np.arange(n) / SR
        tail = np.sqrt(13.8 / (rt60 * SR) / 2)  # reverberant energy half the direct sound's (DRR +3 dB)
        ir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60) * tail
        ir[:40] = 0.0
        ir[0] = 1.0  # direct path
        audio = fftconvolve(audio, ir)[: audio.size].astype(np.float32)
    elif c == "telephone":
        sos = butter(4, [300, 3400], btype="bandpass", fs=SR, output="sos")
        audio = sosfilt(sos, audio).astype(np.float32)
        audio = _at_snr(audio, rng.standard_normal(audio.size).astype(np.float32), 30.0)
        audio = _resample(audio, SR, 8000)
        return _normalize(audio, 0.7), 8000, "wav"
    elif c == "low_volume":
        audio = _normalize(audio, 10 ** (-30 / 20)) + rng.standard_normal(audio.size).astype(np.float32) * 10 ** (-66 / 20)
        return audio.astype(np.float32), SR, "wav"
    return _normalize(audio, 0.89), SR, {"mp3": "mp3", "opus": "ogg"}.get(c, "wav")


def _normalize(audio: np.ndarray, peak: float) -> np.ndarray:
    return (audio * (peak / (float(np.abs(audio).max()) or 1.0))).astype(np.float32)


def _write_wav(path: Path, audio: np.ndarray, sr: int) -> None:
    pcm = np.clip(audio * 32767.0, -32768, 32767).round().astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())


BITEXACT = ["-fflags", "+bitexact", "-flags", "+bitexact", "-map_metadata", "-1", "-threads", "1"]
ENCODE = {"mp3": ["-c:a", "libmp3lame", "-b:a", "16k", "-ar", "16000"], "opus": ["-c:a", "libopus", "-b:a", "8k", "-ar", "16000"]}


def write_clip(path: Path, audio: np.ndarray, sr: int, condition: str) -> None:
    if condition not in ENCODE:
        _write_wav(path, audio, sr)
        return
    from pipeline.transcribe.audio import ffmpeg_exe

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.wav"
        _write_wav(src, audio, sr)
        tmp_out = Path(tmp) / path.name
        subprocess.run(
            [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", "-i", str(src), *BITEXACT, *ENCODE[condition], str(tmp_out)],
            check=True,
        )
        shutil.move(str(tmp_out), path)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def default_csv() -> Path:
    from pipeline.settings import get_settings

    s = get_settings()
    base = s.shared_data_dir or Path(__file__).resolve().parents[2].parent / "shared" / "data"
    return Path(base) / "mtsamples" / "mtsamples.csv"


def default_dir() -> Path:
    from pipeline.settings import get_settings

    return get_settings().cache_dir / "transcribe-devset"


def build(out_dir: Path | None = None, csv_path: Path | None = None, only: list[str] | None = None, progress=None) -> dict:
    """Write the clips (all, or the names in ``only``) and ``manifest.json`` under ``out_dir``; returns the manifest."""
    out_dir = Path(out_dir or default_dir())
    csv_path = Path(csv_path or default_csv())
    if not csv_path.is_file():
        raise FileNotFoundError(
            f"MTSamples not found at {csv_path}: the development set is built from it (set MRT_SHARED_DATA_DIR)"
        )
    rows = read_notes(csv_path)
    by_id = {r["note_id"]: r for r in rows}
    specs = [s for s in plan(rows) if only is None or s.name in only]
    speaker = Speaker()
    entries = []
    for spec in specs:
        script = script_for(spec, by_id[spec.note_id])
        folder = out_dir / spec.split
        folder.mkdir(parents=True, exist_ok=True)
        speech = speak(speaker, spec, script)
        audio, sr, ext = apply_condition(speech, spec)
        media = folder / f"{spec.name}.{ext}"
        write_clip(media, audio, sr, spec.condition)
        ref = folder / f"{spec.name}.txt"
        ref.write_text(script.reference + "\n", encoding="utf-8")
        meta = {
            **asdict(spec),
            "habits": list(spec.habits),
            "duration_s": round(speech.size / SR, 2),
            "spoken": [p for p, _ in script.pieces],
            "source": f"MTSamples note {spec.note_id} (CC0)",
            "document_type": "consult",
        }
        (folder / f"{spec.name}.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        entries.append(
            {
                "name": spec.name,
                "split": spec.split,
                "voice": spec.voice,
                "speed": spec.speed,
                "condition": spec.condition,
                "habits": list(spec.habits),
                "note_id": spec.note_id,
                "file": f"{spec.split}/{media.name}",
                "duration_s": meta["duration_s"],
                "reference_words": len(script.reference.split()),
                "reference_sha256": hashlib.sha256(script.reference.encode()).hexdigest(),
                "audio_sha256": sha256_file(media),
            }
        )
        if progress:
            progress(spec.name)
    manifest = {
        "seed": SEED,
        "voices": [{"voice": v, "engine": e, "engine_voice": ev, "split": s} for v, e, ev, s in VOICES],
        "clips": entries,
    }
    if only is None:
        (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def split_dir(split: str, root: Path | None = None) -> Path:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: choose {' or '.join(SPLITS)}")
    return Path(root or default_dir()) / split


def voice_of(name: str) -> str:
    """The voice id of a clip name (``espeak-us-f2_03`` -> ``espeak-us-f2``)."""
    return name.rsplit("_", 1)[0]


__all__ = ["build", "plan", "script_for", "split_dir", "voice_of", "VOICES", "SPLITS"]


def main() -> None:
    """``python -m mrt_eval.transcribe.devset [--out DIR] [--only NAME ...]``: build the set, print its manifest's path."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=None, help="default: <cache_dir>/transcribe-devset")
    ap.add_argument("--csv", type=Path, default=None, help="MTSamples CSV; default ../shared/data/mtsamples/mtsamples.csv")
    ap.add_argument("--only", nargs="*", help="only these clip names (no manifest.json written)")
    args = ap.parse_args()
    out = Path(args.out or default_dir())
    build(out, args.csv, args.only, progress=lambda name: print(name, flush=True))
    print(out / "manifest.json")


if __name__ == "__main__":
    main()
